"""Three ceilings: a static answer, a one-row insert, the newest 50 rows of a room."""

import os
import secrets

from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.bare.models import BareMessage

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
