"""Query reports: latest rows per scheduled query and host, capped; latest status lines."""

import pytest

from collector.models import QueryReportRow, StatusLogLine
from queries.models import Pack

from .conftest import forward_all
from .logdata import all_batches, realworld_batches
from .test_throttle import result_line


def batch(label: str):
    return dict((name, lines) for name, _, lines in all_batches())[label]


@pytest.mark.django_db(transaction=True)
def test_snapshots_replace_and_events_append_within_the_cap(enrolled_mac, settings):
    settings.FLEET = dict(settings.FLEET, REPORT_MAX_ROWS=3)
    Pack.objects.create(name="macos")
    assert enrolled_mac.call("log", {"log_type": "result", "data": batch("result_snapshot_format")}) == {}
    forward_all()
    rows = QueryReportRow.objects.filter(name="pack_macos_apps")
    assert rows.count() == 2 and {r.pack for r in rows} == {"macos"} and {r.query for r in rows} == {"apps"}

    # A later (empty) snapshot of the same query replaces its rows.
    empty = [dict(batch("result_snapshot_format")[0], snapshot=[])]
    assert enrolled_mac.call("log", {"log_type": "result", "data": empty}) == {}
    forward_all()
    assert not QueryReportRow.objects.filter(name="pack_macos_apps").exists()

    # Event format appends added rows, keeping the newest REPORT_MAX_ROWS.
    lines = [result_line("pack/Global/processes", 1717430400 + i, i) for i in range(5)]
    assert enrolled_mac.call("log", {"log_type": "result", "data": lines}) == {}
    forward_all()
    kept = QueryReportRow.objects.filter(name="pack/Global/processes").order_by("id")
    assert [r.columns["pid"] for r in kept] == ["2", "3", "4"]
    assert {(r.pack, r.query) for r in kept} == {("Global", "processes")}


@pytest.mark.django_db(transaction=True)
def test_every_real_result_file_lands_in_reports(enrolled_mac):
    for label, log_type, lines in realworld_batches():
        assert enrolled_mac.call("log", {"log_type": log_type, "data": lines}) == {}, label
    forward_all()
    names = set(QueryReportRow.objects.values_list("name", flat=True))
    assert {
        "pack/Global/system_info",
        "pack/Some Pack Name/query_not_automated",
        "com.foo.bar",
        "pack/team-1/hosts",
    } - names == {"pack/team-1/hosts"}  # a diff that only removed rows adds none
    assert not QueryReportRow.objects.filter(name="pack/Global/query_no_rows").exists()


@pytest.mark.django_db(transaction=True)
def test_status_lines_keep_errors_and_denylist_warnings_findable(enrolled_mac, settings, vectors):
    settings.FLEET = dict(settings.FLEET, STATUS_LINES_PER_HOST=6)
    lines = vectors["logger"]["status"]["data"] + [
        {
            "severity": "1",
            "filename": "watcher.cpp",
            "line": "372",
            "unixTime": 1717430500,
            "version": "5.12.1",
            "message": "Scheduled query may have failed: pack_macos_processes",
        },
        {"severity": 2, "filename": "x.cpp", "line": 5, "unixTime": "1717430501", "message": "Error executing query"},
    ]
    assert enrolled_mac.call("log", {"log_type": "status", "data": lines}) == {}
    forward_all()
    stored = StatusLogLine.objects.order_by("id")
    assert stored.count() == 6  # capped, newest kept
    assert stored.last().message == "Error executing query" and stored.last().severity == 2
    denylisted = StatusLogLine.objects.filter(denylisted=True).order_by("id").values_list("message", flat=True)
    assert list(denylisted) == [
        "Scheduled query may have failed: pack_macos_shell_history",  # from the real vector
        "Scheduled query may have failed: pack_macos_processes",
    ]


@pytest.mark.django_db(transaction=True)
def test_host_report_page_shows_results_and_filters_status_lines(enrolled_mac, client, vectors):
    from django.contrib.auth.models import User

    from hosts.models import Host

    client.force_login(User.objects.create_user("analyst", password="pw-123456789", is_staff=True))
    lines = [result_line("pack/Global/<script>x</script>", 1717430400, 1)]
    assert enrolled_mac.call("log", {"log_type": "result", "data": lines}) == {}
    status = vectors["logger"]["status"]["data"] + [
        {"severity": "2", "filename": "f.cpp", "line": "1", "unixTime": 1717430500, "message": "Error: disk full"}
    ]
    assert enrolled_mac.call("log", {"log_type": "status", "data": status}) == {}
    forward_all()
    url = f"/collector/hosts/{Host.objects.get().pk}/reports/"
    page = client.get(url).content.decode()
    assert "pack/Global/&lt;script&gt;x&lt;/script&gt;" in page and "<script>x" not in page
    assert "<b>pid</b>=1" in page
    errors = client.get(url + "?errors=1").content.decode()
    assert "Error: disk full" in errors and vectors["logger"]["status"]["data"][0]["message"] not in errors
    assert client.get("/collector/hosts/999999/reports/").status_code == 404


@pytest.mark.parametrize(
    ("message", "denylisted"),
    [
        ("Scheduled query may have failed: pack_macos_processes", True),
        ("The caller does not want denied queries, skipping denied scheduled query: pack_macos_users", True),
        ("Query blacklisted: old agents said it this way", True),
        ("Error executing scheduled query pack_macos_x: no such table: x", False),
        ("Storing initial results for new scheduled query: pack_macos_processes", False),
    ],
)
def test_denylist_warnings_are_recognised(message, denylisted):
    from collector.services.reports import is_denylist_message

    assert is_denylist_message(message) is denylisted
