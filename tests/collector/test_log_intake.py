"""Intake: a constant number of SQL statements per request; every refusal carries `error`."""

import pytest
from django.db import connection

from collector.models import LogBatch

from .test_throttle import result_line


def intake_statements(agent, count: int) -> list[str]:
    """The SQL sent while serving one request (Django's own query log is reset per request)."""
    lines = [result_line("pack/Global/processes", 1717430400 + i, i) for i in range(count)]
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        assert agent.call("log", {"log_type": "result", "data": lines}) == {}
    return statements


def test_sql_statements_per_request_do_not_grow_with_lines(enrolled_mac):
    intake_statements(enrolled_mac, 1)  # warm the node cache
    one = intake_statements(enrolled_mac, 1)
    many = intake_statements(enrolled_mac, 2000)
    assert len(one) == len(many) >= 1
    assert [sql.split()[0] for sql in many if not sql.startswith(("SAVEPOINT", "RELEASE"))] == ["INSERT"]
    assert LogBatch.objects.order_by("-id").first().line_count == 2000


def test_too_many_lines_is_refused_with_error_and_nothing_stored(enrolled_mac, settings):
    settings.FLEET = dict(settings.FLEET, LOG_MAX_LINES=10)
    lines = [result_line("q", 1717430400, i) for i in range(11)]
    reply = enrolled_mac.call("log", {"log_type": "result", "data": lines})
    assert "11 lines" in reply["error"]
    assert not LogBatch.objects.exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"log_type": "results", "data": []}, "log_type must be"),
        ({"log_type": "result", "data": {"name": "x"}}, "data must be a list"),
        ({"log_type": "status", "data": ["line"]}, "data[0] must be a JSON object"),
    ],
)
def test_bad_bodies_get_precise_errors(enrolled_mac, body, message):
    reply = enrolled_mac.call("log", body)
    assert message in reply["error"]
    assert not LogBatch.objects.exists()


def test_empty_batch_is_acknowledged_without_a_row(enrolled_mac):
    assert enrolled_mac.call("log", {"log_type": "result", "data": []}) == {}
    assert not LogBatch.objects.exists()


def test_intake_rate_limit_says_retry_and_loses_nothing(enrolled_mac, settings, monkeypatch):
    from collector.services import logs

    settings.FLEET = dict(settings.FLEET, INTAKE_LINES_PER_MINUTE=25)
    monkeypatch.setattr(logs, "_current_minute", lambda: 28623840)  # one minute throughout
    lines = [result_line("q", 1717430400, i) for i in range(10)]
    assert enrolled_mac.call("log", {"log_type": "result", "data": lines}) == {}
    assert enrolled_mac.call("log", {"log_type": "result", "data": lines}) == {}
    status, reply = enrolled_mac.post("log", {"node_key": enrolled_mac.node_key, "log_type": "result", "data": lines})
    assert status == 429 and "rate limited" in reply["error"] and "retry" in reply["error"]
    # The refused lines were not counted: 5 more still fit this minute.
    assert enrolled_mac.call("log", {"log_type": "result", "data": lines[:5]}) == {}
    assert sum(LogBatch.objects.values_list("line_count", flat=True)) == 25
