"""Four ceilings: a static answer, a one-row insert, the newest 50 rows of a room, and a user's
subscriptions with their rooms."""

import os
import secrets

from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.bare.models import BareMessage, BareSubscription

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"


class StaticView(APIView):
    def get(self, request: Request) -> Response:
        return Response({"status": "success", "versions": {"api": "0.1", "rocketchat": "0.5"}})


class InsertView(APIView):
    def post(self, request: Request, room_id: str) -> Response:
        now = timezone.now()
        BareMessage.objects.create(
            id="".join(secrets.choice(ALPHABET) for _ in range(17)),
            # A room per worker process: the table's (room, ts) key can then never collide,
            # since one process inserts one row at a time.
            room_id=f"{room_id}{os.getpid()}",
            author_id=None,
            msg=request.data.get("msg", ""),
            ts=now,
            updated_at=now,
        )
        return Response({"status": "success"})


class SelectView(APIView):
    def get(self, request: Request, room_id: str) -> Response:
        rows = BareMessage.objects.filter(room_id=room_id).order_by("-ts")[:50]
        messages = [
            {"_id": m.id, "rid": m.room_id, "msg": m.msg, "ts": m.ts.isoformat(), "u": m.author_id}
            for m in rows
        ]
        return Response({"status": "success", "messages": messages})


class SubscriptionsView(APIView):
    """Every subscription of a user joined with its room (one query), as JSON: the fields a
    client reads, unread from the room's counter, no roles and no auth."""

    def get(self, request: Request, user_id: str) -> Response:
        rows = (
            BareSubscription.objects.filter(user_id=user_id)
            .select_related("room")
            .order_by("room__name")
        )
        update = []
        for s in rows:
            room = s.room
            unread = max(room.msgs - s.read_msgs, 0)
            update.append(
                {
                    "_id": f"{room.id}{s.user_id}",
                    "rid": room.id,
                    "u": {"_id": s.user_id},
                    "name": room.name,
                    "fname": room.name,
                    "t": room.t,
                    "ts": s.ts.isoformat(),
                    "ls": s.ls.isoformat(),
                    "unread": unread,
                    "userMentions": s.user_mentions,
                    "groupMentions": s.group_mentions,
                    "alert": bool(unread or s.user_mentions or s.group_mentions),
                    "open": s.closed_at is None or (room.lm is not None and room.lm > s.closed_at),
                    "f": s.f,
                    "_updatedAt": max(s.updated_at, room.updated_at).isoformat(),
                    "archived": room.archived,
                }
            )
        return Response({"update": update, "remove": [], "success": True})
