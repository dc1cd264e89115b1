"""Rooms and messages in the Django admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from rooms.models import Message, Room, Subscription


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    extra = 0
    fields = ("user", "roles", "ts")
    readonly_fields = ("ts",)
    autocomplete_fields = ("user",)
    verbose_name = "member"
    verbose_name_plural = "members"


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("name", "id", "t", "member_count", "msgs", "lm", "is_default", "read_only")
    list_filter = ("t", "is_default", "read_only", "archived")
    search_fields = ("name", "id", "topic")
    list_select_related = ("creator",)
    readonly_fields = ("id", "ts", "updated_at", "msgs", "lm")
    autocomplete_fields = ("creator",)
    fields = (
        "id",
        "name",
        "t",
        "topic",
        "creator",
        "is_default",
        "read_only",
        "archived",
        "msgs",
        "lm",
        "ts",
        "updated_at",
    )
    inlines = [SubscriptionInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Room]:
        return super().get_queryset(request).annotate(member_total=Count("subscriptions"))

    @admin.display(description="members", ordering="member_total")
    def member_count(self, room: Any) -> int:
        return int(room.member_total)


class BusyRoomFilter(admin.SimpleListFilter):
    """The busiest rooms to pick from; any room at all through ?room=<id> or the search box."""

    title = "room"
    parameter_name = "room"
    shown = 30

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        busiest = Room.objects.order_by("-msgs").values_list("id", "name")[: self.shown]
        return [(room_id, name) for room_id, name in busiest]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(room_id=self.value()) if self.value() else queryset


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Messages are read and corrected here; they are created through the API, and deleting
    one would leave its room's count wrong, so neither is offered."""

    list_display = ("ts", "room", "author", "text_start")
    list_filter = (BusyRoomFilter, "room__t")
    search_fields = ("msg", "room__name", "author__username")
    list_select_related = ("room", "author")
    ordering = ("-ts",)
    readonly_fields = ("id", "room", "author", "ts", "updated_at")
    fields = ("id", "room", "author", "msg", "ts", "updated_at")
    show_full_result_count = False  # a COUNT(*) over every message is slow on a big server

    @admin.display(description="text")
    def text_start(self, message: Message) -> str:
        return message.msg if len(message.msg) <= 80 else message.msg[:79] + "…"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
