"""How close bulk/register comes to the ideal: N password hashes spread over every core.

    .venv/bin/python bench/bulk_register.py [N]     (default 1000)

Times N single hashes one after another, then register_users() for N new users (validation,
parallel hashing, bulk inserts, roles and default rooms) in a throwaway database, and prints the
ratio of the second to (the first / cores). 1.0 is the ideal; the work besides hashing and the
cores' sharing with the database push it above. A measurement to read, not a test to pass.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chat_project.settings")
os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")

import django

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from accounts.services import register_users  # noqa: E402


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    cores = os.cpu_count() or 1
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0)

    started = time.perf_counter()
    for n in range(count):
        make_password(f"a fine passphrase {n}")
    sequential = time.perf_counter() - started

    records = [
        {"email": f"bench{n}@example.com", "name": f"bench{n}", "pass": f"a fine passphrase {n}"}
        for n in range(count)
    ]
    started = time.perf_counter()
    register_users(records=records)
    bulk = time.perf_counter() - started

    ideal = sequential / cores
    each = sequential / count * 1000
    print(f"{count} single hashes in a row: {sequential:.2f} s ({each:.1f} ms each)")
    print(f"bulk/register of {count} users:  {bulk:.2f} s on {cores} cores")
    print(f"ratio to the ideal (hashes / cores): {bulk / ideal:.2f}")


if __name__ == "__main__":
    main()
