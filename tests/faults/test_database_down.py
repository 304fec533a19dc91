"""MariaDB stops under a running server (real processes, private instances).

Agents get `error` replies, so they keep their data and retry; nothing is acknowledged that was
not committed; steady-state check-ins keep answering from Redis; the admin shows a clear 503
page; and the server recovers by itself when the database returns.
"""

from .conftest import ENROLL_SECRET, logged_in
from .stack import Agent, Stack


def stored_lines(stack: Stack) -> int:
    return int(stack.db.sql("SELECT COALESCE(SUM(line_count), 0) FROM fleetweb.collector_logbatch"))


def test_agents_are_refused_and_nothing_unstored_is_acknowledged(running: Stack, vectors):
    agent = Agent(running)
    agent.node_key = agent.post("enroll", dict(vectors["enroll"]["request_macos"], enroll_secret=ENROLL_SECRET))[
        "node_key"
    ]
    status_lines = vectors["logger"]["status"]["data"]
    result_lines = vectors["logger"]["result_mixed_batch_of_lines"]["data"]
    before = stored_lines(running)
    # Warm the per-host caches the way a running agent does.
    served_config = agent.call("config")
    assert "error" not in served_config and "options" in served_config
    assert "error" not in agent.call("distributed/read")
    assert agent.call("log", {"log_type": "status", "data": status_lines}) == {}
    acknowledged = len(status_lines)

    running.db.stop()
    refused = agent.call("log", {"log_type": "result", "data": result_lines})
    assert "retry" in refused["error"]
    newcomer = Agent(running)
    enroll = newcomer.post("enroll", dict(vectors["enroll"]["request_linux_minimal"], enroll_secret=ENROLL_SECRET))
    assert "error" in enroll and "node_key" not in enroll
    # Steady state needs no SQL: live-query check-ins and the cached config keep working.
    read = agent.call("distributed/read")
    assert "error" not in read and isinstance(read["queries"], dict)
    assert agent.call("config") == served_config

    running.db.start()
    # No restart of the server: its next request reconnects.
    assert agent.call("log", {"log_type": "result", "data": result_lines}) == {}
    acknowledged += len(result_lines)
    assert "node_key" in newcomer.post(
        "enroll", dict(vectors["enroll"]["request_linux_minimal"], enroll_secret=ENROLL_SECRET)
    )
    assert stored_lines(running) - before == acknowledged
    # The outage was logged (with tracebacks), but no secret went into the log.
    server_log = running.server.log.read_text(errors="replace")
    assert "unavailable" in server_log or "failed on storage" in server_log
    assert agent.node_key not in server_log and ENROLL_SECRET not in server_log


def test_admin_shows_a_clear_unavailable_page(running: Stack):
    browser = logged_in(running)
    running.db.stop()
    page = browser.get("/admin/")
    assert page.status_code == 503
    assert page.headers["Content-Type"].startswith("text/html")
    assert "cannot reach its database" in page.text and "Traceback" not in page.text
    assert page.headers["Retry-After"].isdigit()
    dashboard = browser.get("/")
    assert dashboard.status_code == 503 and "cannot reach its database" in dashboard.text
    api = browser.get("/api/v1/fleetweb/campaigns/1")
    assert api.status_code == 503 and "cannot reach its database" in api.text

    running.db.start()
    assert browser.get("/admin/").status_code == 200
