"""DDP's messages, as Meteor's server answers them (livedata_server.js), for one connection."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from chat_project.realtime import errors
from chat_project.realtime.ddp import SUPPORTED_VERSIONS

if TYPE_CHECKING:
    from chat_project.realtime.ddp import Connection

logger = logging.getLogger(__name__)


def bad_request(conn: Connection, reason: str, offending: Any = None) -> None:
    """Meteor's answer to a frame it cannot use; the connection stays up."""
    body: dict[str, Any] = {"msg": "error", "reason": reason}
    if offending is not None:
        body["offendingMessage"] = offending
    conn.send_json(body)


async def handle(conn: Connection, text: str) -> None:
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        bad_request(conn, "Parse error")
        return
    if not isinstance(message, dict) or not isinstance(message.get("msg"), str):
        bad_request(conn, "Bad request", message)
        return
    kind = message["msg"]
    if not conn.connected:
        if kind == "connect":
            await connect(conn, message)
        else:
            bad_request(conn, "Must connect first", message)
        return
    if kind == "ping":
        pong: dict[str, Any] = {"msg": "pong"}
        if "id" in message:
            pong["id"] = message["id"]
        conn.send_json(pong)
    elif kind == "pong":
        pass  # the heartbeat only needs to have heard from the client (ddp.Connection.read)
    elif kind == "method":
        await method(conn, message)
    elif kind == "sub":
        await subscribe(conn, message)
    elif kind == "unsub":
        unsubscribe(conn, message)
    elif kind == "connect":
        bad_request(conn, "Already connected", message)
    else:
        bad_request(conn, "Bad request", message)


async def connect(conn: Connection, message: dict[str, Any]) -> None:
    """Version negotiation: `connected` for a version we speak; otherwise `failed` naming the
    best version in the client's `support` list that we speak (or our own), then close."""
    version, support = message.get("version"), message.get("support")
    if isinstance(version, str) and version in SUPPORTED_VERSIONS:
        conn.connected = True
        conn.send_json({"msg": "connected", "session": conn.id})
        return
    offered = support if isinstance(support, list) else []
    agreed = next((v for v in offered if isinstance(v, str) and v in SUPPORTED_VERSIONS), None)
    conn.send_json({"msg": "failed", "version": agreed or SUPPORTED_VERSIONS[0]})
    await conn.close(1002, "Unsupported DDP version")


async def method(conn: Connection, message: dict[str, Any]) -> None:
    from chat_project.realtime.methods import answer_frame, call, error_frame

    method_id, name = message.get("id"), message.get("method")
    params = message.get("params", [])
    seed_ok = "randomSeed" not in message or isinstance(message["randomSeed"], str)
    if not (isinstance(method_id, str) and isinstance(name, str)) or not isinstance(params, list):
        bad_request(conn, "Malformed method invocation", message)
        return
    if not seed_ok:
        bad_request(conn, "Malformed method invocation", message)
        return
    try:
        answer = answer_frame(method_id, await call(conn, name, params))
    except Exception as exc:
        answer = error_frame(method_id, name, exc)
    conn.send_json(answer)
    conn.send_json({"msg": "updated", "methods": [method_id]})


async def subscribe(conn: Connection, message: dict[str, Any]) -> None:
    from chat_project.realtime.streams import open_subscription

    sub_id, name = message.get("id"), message.get("name")
    params = message.get("params", [])
    if not (isinstance(sub_id, str) and isinstance(name, str)) or not isinstance(params, list):
        bad_request(conn, "Malformed subscription", message)
        return
    if sub_id in conn.subs:
        conn.send_json({"msg": "ready", "subs": [sub_id]})  # Meteor ignores a repeated sub id
        return
    try:
        await open_subscription(conn, sub_id, name, params)
    except errors.MeteorError as exc:
        conn.send_json({"msg": "nosub", "id": sub_id, "error": exc.body()})
        return
    except Exception:
        logger.exception("realtime: subscription %s failed", name)
        conn.send_json({"msg": "nosub", "id": sub_id, "error": errors.INTERNAL.body()})
        return
    conn.send_json({"msg": "ready", "subs": [sub_id]})


def unsubscribe(conn: Connection, message: dict[str, Any]) -> None:
    sub_id = message.get("id")
    if not isinstance(sub_id, str):
        bad_request(conn, "Bad request", message)
        return
    sub = conn.subs.get(sub_id)
    if sub is not None and conn.hub is not None:
        conn.hub.remove_subscription(sub)
    conn.send_json({"msg": "nosub", "id": sub_id})
