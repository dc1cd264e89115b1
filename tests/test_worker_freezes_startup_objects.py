"""`make run`'s worker takes what loading the application made out of the garbage collector's
sight (gc.freeze), so that full collections do not walk Django and the libraries on every pass
(a page's p99 under load: docs/performance.md, item 13)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A real ChatUvicornWorker, configured as manage.py serve configures it, loading the application
# in a process of its own (a freeze is for the life of a process).
WORKER = """
import gc, json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chat_project.settings")
import django
django.setup()
from gunicorn.glogging import Logger
from chat_project.management.commands.serve import GunicornServer
from chat_project.serving.workers import ChatUvicornWorker

app = GunicornServer({"bind": "127.0.0.1:0", "worker_class": "chat_project.serving.workers.ChatUvicornWorker"})
worker = ChatUvicornWorker(0, os.getpid(), [], app, 30, app.cfg, Logger(app.cfg))
before = gc.get_freeze_count()
worker.load_wsgi()
from chat_project.asgi import application
print(json.dumps({
    "before": before,
    "after": gc.get_freeze_count(),
    "loaded": worker.wsgi is application,
    "collecting": gc.isenabled(),
}))
"""


def test_the_worker_freezes_what_loading_the_application_made():
    out = subprocess.run(
        [sys.executable, "-c", WORKER], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["before"] == 0
    assert seen["loaded"] is True
    # Everything alive once the application is loaded: Django, the URLconf, the models, DRF...
    assert seen["after"] > 50_000
    # ... and the collector still runs for what requests make.
    assert seen["collecting"] is True
