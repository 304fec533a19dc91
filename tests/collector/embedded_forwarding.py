"""Run as a script by test_embedded_forwarding: the embedded mode (SQLite, in-process Redis,
inline Celery) parses, throttles and delivers to a file. Prints a JSON summary."""

import json
import os
import sys
from pathlib import Path

scratch = Path(sys.argv[1])
repo = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(repo))
os.environ.update(
    FLEETWEB_EMBEDDED="true",
    DATABASE_URL=f"sqlite:///{scratch / 'db.sqlite3'}",
    DJANGO_SETTINGS_MODULE="fleetweb.settings",
)
for name in ("REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "SECRET_KEY"):
    os.environ.pop(name, None)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from collector.models import Destination, OutboxEvent, ThrottleDrop  # noqa: E402
from hosts.models import EnrollSecret  # noqa: E402

call_command("migrate", verbosity=0)
EnrollSecret.objects.create(name="embedded", secret="embedded-secret")
Destination.objects.create(
    name="file",
    kind="file",
    file_path=str(scratch / "out.jsonl"),
    batch_max_wait_seconds=0,
    throttle_limit=2,
    throttle_key="host",
)
vectors = json.loads(Path(sys.argv[2]).read_text())
client = Client(HTTP_HOST="localhost")
request = dict(vectors["enroll"]["request_macos"], enroll_secret="embedded-secret")
node_key = client.post("/api/osquery/enroll", json.dumps(request), content_type="application/json").json()["node_key"]
body = {"node_key": node_key, "log_type": "status", "data": vectors["logger"]["status"]["data"]}
reply = client.post("/api/osquery/log", json.dumps(body), content_type="application/json").json()
summary = {
    "reply": reply,
    "states": sorted(OutboxEvent.objects.values_list("state", flat=True)),
    "drops": sum(ThrottleDrop.objects.values_list("count", flat=True)),
    "lines_in_file": len((scratch / "out.jsonl").read_text().splitlines()),
}
sys.stdout.write("SUMMARY " + json.dumps(summary) + "\n")
