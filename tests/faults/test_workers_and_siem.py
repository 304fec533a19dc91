"""Celery workers down, Redis losing its queue, and a SIEM that stops answering, on the private
stack with real worker and beat processes.

Intake keeps accepting durably without workers and the backlog drains once they start; tasks
lost with a Redis restart are recovered by the sweep; a stalled SIEM shows up as backpressure on
the collector page while intake and the other destinations carry on.
"""

import json
import socket
from pathlib import Path

import pytest

from .conftest import ENROLL_SECRET, logged_in
from .stack import Agent, Stack, free_port, wait_until


def file_destination(stack: Stack, name: str) -> tuple[int, Path]:
    path = stack.dir / f"{name}.jsonl"
    out = stack.shell(
        "from collector.models import Destination; "
        f"print(Destination.objects.create(name='{name}', kind='file', file_path='{path}', "
        "batch_max_wait_seconds=0).pk)"
    )
    return int(out.strip().splitlines()[-1]), path


def delivered_ids(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [json.loads(line)["event_id"] for line in path.read_text().splitlines() if line.strip()]


def outbox(stack: Stack, destination_id: int) -> dict[str, int]:
    rows = stack.db.sql(
        "SELECT state, COUNT(*) FROM fleetweb.collector_outboxevent "  # noqa: S608 - an int id
        f"WHERE destination_id = {int(destination_id)} GROUP BY state"
    )
    names = {"0": "pending", "1": "delivered", "2": "dead"}
    return {names[state]: int(count) for state, count in (line.split() for line in rows.splitlines())}


def drained(stack: Stack, destination_id: int) -> bool:
    counts = outbox(stack, destination_id)
    return bool(counts) and counts.get("pending", 0) == 0


def enrolled(stack: Stack, vectors) -> Agent:
    agent = Agent(stack)
    agent.node_key = agent.post("enroll", dict(vectors["enroll"]["request_macos"], enroll_secret=ENROLL_SECRET))[
        "node_key"
    ]
    return agent


def send_logs(agent: Agent, vectors, rounds: int) -> int:
    """Post the protocol's status and result lines `rounds` times; returns the lines sent."""
    batches = [
        ("status", vectors["logger"]["status"]["data"]),
        ("result", vectors["logger"]["result_mixed_batch_of_lines"]["data"]),
        ("result", vectors["logger"]["result_snapshot_as_events"]["data"]),
    ]
    sent = 0
    for _ in range(rounds):
        for log_type, lines in batches:
            assert agent.call("log", {"log_type": log_type, "data": lines}) == {}
            sent += len(lines)
    return sent


def stored_lines(stack: Stack) -> int:
    return int(stack.db.sql("SELECT COALESCE(SUM(line_count), 0) FROM fleetweb.collector_logbatch"))


def test_intake_without_workers_is_durable_and_the_backlog_drains(running: Stack, vectors):
    destination, path = file_destination(running, "archive")
    agent = enrolled(running, vectors)
    before = stored_lines(running)
    sent = send_logs(agent, vectors, rounds=3)
    assert stored_lines(running) - before == sent, "every acknowledged line is in the database"
    assert delivered_ids(path) == [] and outbox(running, destination) == {}, "nothing can move without a worker"

    running.start_worker()
    wait_until(
        lambda: drained(running, destination),
        120,
        "the backlog to drain",
    )
    counts = outbox(running, destination)
    assert counts.get("dead", 0) == 0
    ids = delivered_ids(path)
    assert len(ids) == counts["delivered"] and len(set(ids)) == len(ids)


def test_tasks_lost_with_redis_are_recovered_by_the_sweep(running: Stack, vectors):
    destination, path = file_destination(running, "after-restart")
    agent = enrolled(running, vectors)
    send_logs(agent, vectors, rounds=2)
    # The forwarding tasks are queued in Redis; a restart without persistence loses them.
    assert running.redis_queue_length() > 0
    running.redis.stop()
    running.redis.start()
    assert running.redis_queue_length() == 0
    running.start_worker()
    running.start_beat()
    wait_until(
        lambda: drained(running, destination),
        120,
        "the sweep to re-forward the stored batches",
    )
    counts = outbox(running, destination)
    assert counts.get("dead", 0) == 0 and len(set(delivered_ids(path))) == counts["delivered"] > 0


@pytest.fixture
def stalled_siem():
    """A TCP port that accepts connections and never answers: a SIEM that has stopped reading."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", free_port()))
    listener.listen(64)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/ingest"
    listener.close()


def test_stalled_siem_is_visible_and_holds_up_nothing(running: Stack, vectors, stalled_siem):
    running.shell(
        "from collector.models import Destination; "
        f"Destination.objects.create(name='stalled-siem', kind='http', url='{stalled_siem}', timeout_seconds=5, "
        "batch_max_wait_seconds=0)"
    )
    healthy, path = file_destination(running, "healthy")
    running.start_worker()
    agent = enrolled(running, vectors)
    before = stored_lines(running)
    # Intake answers while a worker is stuck on the stalled SIEM.
    sent = send_logs(agent, vectors, rounds=3)
    assert stored_lines(running) - before == sent
    wait_until(
        lambda: drained(running, healthy),
        120,
        "the healthy destination to receive everything",
    )
    stalled = int(running.db.sql("SELECT id FROM fleetweb.collector_destination WHERE name = 'stalled-siem'"))
    wait_until(
        lambda: (
            running.db.sql(f"SELECT consecutive_failures FROM fleetweb.collector_destination WHERE id = {stalled}")  # noqa: S608
            not in ("", "0")
        ),
        120,
        "the stalled SIEM's first timeout",
    )

    page = logged_in(running).get("/collector/status/")
    assert page.status_code == 200
    row = page.text.split("stalled-siem", 1)[1].split("</tr>", 1)[0]
    cells = [c.split(">", 1)[1].split("<", 1)[0] for c in row.split("<td")[1:]]
    # Health, pending, oldest pending age: the backlog and its cause are on the page.
    assert cells[1].startswith("failing")
    assert int(cells[2]) == outbox(running, stalled)["pending"] > 0
    assert cells[3] != "-"
    assert "timeout" in row.lower() or "timed out" in row.lower(), row
