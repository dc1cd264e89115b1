from django.apps import AppConfig


class RoomsConfig(AppConfig):
    name = "rooms"
    verbose_name = "Rooms and messages"

    def ready(self) -> None:
        from rooms import realtime

        realtime.register()
