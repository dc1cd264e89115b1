#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chat_project.settings")
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except Exception as exc:
        # A setting that keeps the command from working (a bad DATABASE_URL, a database that
        # is not there) is told in a line or two naming it; anything else keeps its traceback.
        from chat_project.serving.preflight import explain_failure

        explanation = explain_failure(exc)
        if explanation is None:
            raise
        sys.exit(explanation)


if __name__ == "__main__":
    main()
