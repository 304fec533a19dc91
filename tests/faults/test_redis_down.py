"""Redis stops under a running server (real processes, private instances).

Agents are refused with `error` (so they keep their logs) rather than served half-way, nothing
is stored while Redis is down, and the server recovers by itself when Redis returns, even
though the restarted Redis is empty (node-key cache and config cache rebuilt from MariaDB).
"""

from .conftest import ENROLL_SECRET, logged_in
from .stack import Agent, Stack


def test_agents_are_refused_then_served_again(running: Stack, vectors):
    agent = Agent(running)
    agent.node_key = agent.post("enroll", dict(vectors["enroll"]["request_macos"], enroll_secret=ENROLL_SECRET))[
        "node_key"
    ]
    lines = vectors["logger"]["status"]["data"]
    assert agent.call("log", {"log_type": "status", "data": lines}) == {}
    batches = running.db.sql("SELECT COUNT(*) FROM fleetweb.collector_logbatch")

    running.redis.stop()
    for endpoint, body in [
        ("log", {"log_type": "status", "data": lines}),
        ("config", {}),
        ("distributed/read", {}),
        ("distributed/write", {"queries": {}, "statuses": {}}),
    ]:
        reply = agent.call(endpoint, body)
        assert "retry" in reply["error"], (endpoint, reply)
        assert "node_invalid" not in reply, "a Redis outage must not make agents re-enroll"
    newcomer = Agent(running)
    assert "error" in newcomer.post(
        "enroll", dict(vectors["enroll"]["request_linux_minimal"], enroll_secret=ENROLL_SECRET)
    )
    assert running.db.sql("SELECT COUNT(*) FROM fleetweb.collector_logbatch") == batches

    running.redis.start()
    assert agent.call("log", {"log_type": "status", "data": lines}) == {}
    assert "error" not in agent.call("config")
    assert "error" not in agent.call("distributed/read")
    assert "node_key" in newcomer.post(
        "enroll", dict(vectors["enroll"]["request_linux_minimal"], enroll_secret=ENROLL_SECRET)
    )
    # The outage was logged (with tracebacks), but no secret went into the log.
    server_log = running.server.log.read_text(errors="replace")
    assert "unavailable" in server_log or "failed on storage" in server_log
    assert agent.node_key not in server_log and ENROLL_SECRET not in server_log


def test_operator_pages_needing_redis_say_so(running: Stack, vectors):
    agent = Agent(running)
    assert "node_key" in agent.post("enroll", dict(vectors["enroll"]["request_macos"], enroll_secret=ENROLL_SECRET))
    host_id = running.db.sql("SELECT MAX(id) FROM fleetweb.hosts_host")
    browser = logged_in(running)
    assert browser.get(f"/api/v1/fleetweb/hosts/{host_id}/status").status_code == 200

    running.redis.stop()
    status = browser.get(f"/api/v1/fleetweb/hosts/{host_id}/status")
    assert status.status_code == 503 and "cannot reach its redis" in status.text
    # Pages that need only the database keep working.
    assert browser.get("/admin/hosts/host/").status_code == 200

    running.redis.start()
    assert browser.get(f"/api/v1/fleetweb/hosts/{host_id}/status").status_code == 200
