"""Roles and permissions: see the permissions issue."""
