"""Rooms, subscriptions and messages: see the rooms issue."""
