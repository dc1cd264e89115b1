"""A self-hosted chat backend that speaks the Rocket.Chat REST and realtime APIs."""

__version__ = "0.1.0"
