"""A self-hosted chat backend that speaks the Rocket.Chat REST and realtime APIs.

This package is the ground the apps (accounts, permissions, rooms) stand on: settings, URLs,
the HTTP plumbing (http/), serving (serving/), the database (db/), the realtime transport
(realtime/) and the access cache (access_cache). It imports no app; `make lint` checks that
(import-linter, pyproject.toml). What it needs from the apps they register in their
AppConfig.ready().
"""

__version__ = "0.1.0"
# What the page at `/` and the Django admin call this server.
PRODUCT_NAME = "chat-server"
