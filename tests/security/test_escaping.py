"""Agent-supplied strings are inert wherever they are shown: CSV exports (formula injection),
the admin (HTML), and JSON replies."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from queries.live_views import _csv_cell
from tests.fuzzing import fuzz_settings, hostile_text

FORMULA_START = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
SCRIPT = "<script>alert('x')</script>"


def spreadsheet_reads_as_formula(cell: str) -> bool:
    """OWASP's rule: a formula character first, also after whitespace spreadsheets skip; or a
    leading tab or line break."""
    return cell.lstrip(" \t\r\n").startswith(FORMULA_START) or cell.startswith(("\t", "\r", "\n"))


@given(value=st.one_of(hostile_text, st.text(alphabet=" =+-@\t\r\n\uff1dabc1", max_size=8)))
@fuzz_settings(examples=300)
def test_no_csv_cell_reads_as_a_formula(value):
    out = io.StringIO()
    csv.writer(out).writerow([_csv_cell(value)])
    (cell,) = next(csv.reader(io.StringIO(out.getvalue())))
    assert not spreadsheet_reads_as_formula(cell)
    # Nothing is lost: the original text follows the quote mark.
    assert cell in (value, "'" + value)


@pytest.fixture
def analyst() -> Client:
    user = get_user_model().objects.create_superuser("analyst", "analyst@example.com", "analyst-password-1")
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db(transaction=True)  # campaigns reach hosts after commit
def test_campaign_csv_neutralises_agent_cells_and_column_names(enrolled_mac, analyst):
    launched = analyst.post(
        "/api/v1/fleetweb/campaigns",
        {"sql": "SELECT * FROM osquery_info;", "targets": {"all": True}},
        content_type="application/json",
    )
    assert launched.status_code == 201, launched.content
    # A fresh host is also asked its vitals; answer the live query only.
    (query_id,) = [q for q in enrolled_mac.call("distributed/read")["queries"] if q.startswith("fleetweb_live_")]
    row = {'=HYPERLINK("http://evil")': " =1+1", "name": "@SUM(A1)", "plain": "osquery 5.12"}
    reply = enrolled_mac.call("distributed/write", {"queries": {query_id: [row]}, "statuses": {query_id: 0}})
    assert reply == {}
    body = analyst.get(f"/api/v1/fleetweb/campaigns/{launched.json()['id']}/export.csv").content.decode()
    header, line = list(csv.reader(io.StringIO(body)))
    assert not any(spreadsheet_reads_as_formula(cell) for cell in header + line), (header, line)
    assert '\'=HYPERLINK("http://evil")' in header and "' =1+1" in line and "'@SUM(A1)" in line
    assert "osquery 5.12" in line


@pytest.mark.django_db
def test_admin_escapes_agent_supplied_host_fields(agent, enroll_secret, vectors, analyst):
    request = dict(vectors["enroll"]["request_macos"])
    details = {name: dict(value) for name, value in request["host_details"].items()}
    details["system_info"].update(hostname=SCRIPT, hardware_model='"><img src=x onerror=alert(1)>')
    details["os_version"]["name"] = SCRIPT
    assert "node_key" in agent.enroll(dict(request, host_details=details, host_identifier=SCRIPT))
    from hosts.models import Host

    host = Host.objects.get()
    for url in ("/admin/hosts/host/", f"/admin/hosts/host/{host.pk}/change/", "/admin/hosts/host/?q=script"):
        page = analyst.get(url)
        assert page.status_code == 200, url
        html = page.content.decode()
        assert SCRIPT not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;" in html, url


@pytest.mark.django_db(transaction=True)  # forwarding runs after intake commits
def test_collector_pages_escape_agent_status_lines(enrolled_mac, vectors, analyst, tmp_path):
    from collector.models import Destination, OutboxEvent, StatusLogLine
    from hosts.models import Host

    Destination.objects.create(name="archive", kind="file", file_path=str(tmp_path / "events.jsonl"))
    line = dict(vectors["logger"]["status"]["data"][0], message=SCRIPT, filename=SCRIPT, severity=2)
    assert enrolled_mac.call("log", {"log_type": "status", "data": [line]}) == {}
    assert StatusLogLine.objects.filter(message=SCRIPT).exists()
    event = OutboxEvent.objects.get()
    host = Host.objects.get()
    for url in (
        "/admin/collector/statuslogline/",
        f"/collector/hosts/{host.pk}/reports/",
        f"/admin/collector/outboxevent/{event.pk}/change/",
        "/collector/status/",
    ):
        page = analyst.get(url)
        assert page.status_code == 200, url
        html = page.content.decode()
        assert SCRIPT not in html, url
    assert "&lt;script&gt;" in analyst.get(f"/collector/hosts/{host.pk}/reports/").content.decode()
