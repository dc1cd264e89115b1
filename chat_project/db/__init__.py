"""The database side of the ground: our PostgreSQL backend (postgresql: a pooled connection's
cheap health check, prepared statements), case-insensitive lookups, Meteor-style random ids and
timestamps as Rocket.Chat writes them.

Part of the ground: it imports nothing from accounts, permissions or rooms.
"""
