"""The HTTP plumbing every endpoint shares: the error family and its one renderer (errors), the
envelope and request-id middleware, parsers, renderers, content negotiation, input fields,
the rate limits, the v1 base view and its parameters, the OpenAPI helpers, and the health check.

Part of the ground: it imports nothing from accounts, permissions or rooms. What it needs to
know of them (who is calling, who skips the rate limits) they register from their
AppConfig.ready() (see ratelimit.identify_callers_with).
"""
