"""Is HOST:PORT free to serve on? Asked before anything else by `make run` (`python3 -m
chat_project.serving.ports`), so that a busy port is found before the install and the
migrations, and again by `manage.py serve` before gunicorn starts.

`make run` asks before the virtualenv exists: this module (and the package's __init__ files on
its way) use the standard library only. It reads HOST and PORT itself, with the defaults of
chat_project/settings.py; a malformed PORT is left to the settings to explain.
"""

from __future__ import annotations

import errno
import os
import socket
import sys


def port_problem(host: str, port: int) -> str | None:
    """None when a server could listen on host:port now, otherwise what stands in the way and
    what to do about it. Binds as gunicorn does (SO_REUSEADDR), so a port that only has
    connections of an earlier server closing down (TIME_WAIT) counts as free."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror:
        return f"HOST {host!r} is not an address or a name this machine knows: correct HOST."
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"Port {port} on {host} is already in use: another server (perhaps another "
                    f"`make run`) may be running there.\n"
                    f"Stop it, or choose another port: PORT={port + 1 if port < 65535 else 3000} "
                    f"make run"
                )
            if exc.errno == errno.EACCES:
                return (
                    f"Port {port} needs privileges this user does not have: choose a port "
                    f"above 1023 (PORT=3000 make run)."
                )
            if exc.errno == errno.EADDRNOTAVAIL:
                return (
                    f"HOST {host} is not an address of this machine: set HOST to one of its "
                    f"addresses, or to 0.0.0.0 for all of them."
                )
            return f"Cannot listen on {host} port {port}: {exc.strerror}."
    return None


def main() -> int:
    host = os.environ.get("HOST", "").strip() or "127.0.0.1"
    raw_port = os.environ.get("PORT", "").strip() or "3000"
    if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
        return 0  # the settings say what is wrong with it, at the next step
    problem = port_problem(host, int(raw_port))
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
