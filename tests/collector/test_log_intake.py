"""Intake: a constant number of SQL statements per request; every refusal carries `error`."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collector.models import LogBatch

from .test_throttle import result_line


def intake_statements(agent, count: int) -> int:
    lines = [result_line("pack/Global/processes", 1717430400 + i, i) for i in range(count)]
    with CaptureQueriesContext(connection) as queries:
        assert agent.call("log", {"log_type": "result", "data": lines}) == {}
    return len(queries.captured_queries)


def test_sql_statements_per_request_do_not_grow_with_lines(enrolled_mac):
    intake_statements(enrolled_mac, 1)  # warm the node cache
    one = intake_statements(enrolled_mac, 1)
    many = intake_statements(enrolled_mac, 2000)
    assert one == many
    assert one <= 3  # savepoint, INSERT, release
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
