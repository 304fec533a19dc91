"""End-to-end in real headless Chromium against the live server and simulated agents."""

import csv
import io
import json

import pytest
from playwright.sync_api import expect

from hosts.inventory.models import HostSoftware
from hosts.models import Host
from queries.live import campaign_query_id
from queries.models import Campaign
from tests.agent_sim import SimAgent, mac_tables

from .conftest import SimulatedAgent, login, mac_enroll_request, make_user, screenshot

# Waits go through locators: page-side string predicates would need eval, which the pages'
# Content-Security-Policy forbids (as it should).
WAIT = 20_000

pytestmark = pytest.mark.django_db(transaction=True)

XSS = "<script>document.title='pwned'</script>"


def _mac(client, index: int) -> SimAgent:
    request, tables = mac_tables(index)
    agent = SimAgent(client, request, tables)
    assert "node_key" in agent.enroll()
    return agent


def test_browser_login_find_host_open_detail_and_escape_agent_strings(page, live_server, client, secret, vectors):
    make_user("alice", superuser=True)
    for n in range(3):
        _mac(client, n).checkin()  # answers the inventory queries from its tables
    assert HostSoftware.objects.filter(host__hostname="mac-001.corp.example").exists()
    evil = SimulatedAgent(live_server.url, mac_enroll_request(vectors, 99, hostname=f"evil{XSS}.local")).enroll()
    evil.post(
        "log",
        {
            "node_key": evil.node_key,
            "log_type": "result",
            "data": [
                {
                    "name": "pack/it/processes",
                    "hostIdentifier": "evil",
                    "calendarTime": "Mon Jun  3 16:00:00 2024 UTC",
                    "unixTime": 1717430400,
                    "action": "added",
                    "columns": {"name": XSS, "pid": "1"},
                }
            ],
        },
    )

    login(page, live_server.url, "alice")
    screenshot(page, "dashboard")
    page.click("nav >> text=Hosts")
    page.wait_for_selector("#hosts-table >> text=mac-002.corp.example")
    screenshot(page, "hosts")
    page.fill("#host-search", "C7QX2L0001")  # by serial
    page.press("#host-search", "Enter")
    page.wait_for_selector("#hosts-table >> text=mac-001.corp.example")
    assert page.locator("#hosts-table tbody tr").count() == 1
    page.click("#hosts-table >> text=mac-001.corp.example")
    page.wait_for_selector("#host-title")
    assert "mac-001.corp.example" in page.inner_text("#host-title")
    assert "Apple M2 Pro" in page.inner_text("#vitals")
    assert "Slack.app" in page.inner_text("#software-table")
    assert "jane" in page.inner_text("#users-table")
    assert "encrypted" in page.inner_text("#posture")
    screenshot(page, "host-detail")

    # The hostname and a result value holding markup show as text and run nothing.
    page.goto(f"{live_server.url}/hosts/?q=evil")
    page.wait_for_selector("#hosts-table >> text=evil")
    assert XSS in page.inner_text("#hosts-table")
    page.click("#hosts-table tbody a")
    page.wait_for_selector("#host-results")
    assert XSS in page.inner_text("#host-title")
    assert XSS in page.inner_text("#host-results")
    assert page.title() != "pwned"
    assert page.locator("#host-title script, #host-results script").count() == 0

    page.goto(f"{live_server.url}/add-hosts/")
    assert secret.secret in page.inner_text("#enroll-secret")
    screenshot(page, "add-hosts")
    page.goto(f"{live_server.url}/performance/")
    assert "denylisted on" in page.inner_text("#performance-table")  # the agents' osquery_schedule rows
    screenshot(page, "performance")
    for name in ("reports", "collector"):
        page.goto(f"{live_server.url}/{name}/")
        page.wait_for_selector("h1")
        screenshot(page, name)
    page.goto(f"{live_server.url}/")
    screenshot(page, "dashboard-with-hosts")
    page.goto(f"{live_server.url}/admin/hosts/host/")
    page.wait_for_selector("#result_list")
    assert XSS in page.inner_text("#result_list")
    assert page.title() != "pwned"
    screenshot(page, "admin-hosts")


def test_browser_live_query_streams_rows_stop_and_export(page, live_server, client, secret):
    make_user("alice", superuser=True)
    agents = [_mac(client, n) for n in range(4)]
    for agent in agents:
        agent.checkin()  # the first check-in's inventory, out of the way
    login(page, live_server.url, "alice")

    page.goto(f"{live_server.url}/live/")
    page.check("input[name=platforms][value=darwin]")
    expect(page.locator("#target-count")).to_have_text("4", timeout=WAIT)
    page.fill("#sql", "SELECT nme FROM users")
    page.wait_for_selector("#sql-checks .error >> text=no such column: nme")
    assert page.is_disabled("#run-query")
    sql = "SELECT uid, username, directory FROM users;"
    # The table reference types names into the editor.
    page.fill("#sql", "SELECT uid FROM ")
    page.fill("#table-filter", "users")
    page.click(".reference details[data-table=users] summary")
    page.click(".reference details[data-table=users] button.insert:not(.column)")
    assert page.input_value("#sql") == "SELECT uid FROM users"
    page.fill("#sql", sql)
    page.wait_for_selector("#sql-checks >> text=SQL looks valid.")
    screenshot(page, "live-query-new")
    page.click("#run-query")
    page.wait_for_selector("#campaign")
    campaign = Campaign.objects.get()
    query_id = campaign_query_id(campaign.pk)
    assert campaign.target_count == 4

    # Each agent runs the query on its next check-in; its rows show up while the others are
    # still pending.
    for index, agent in enumerate(agents[:2]):
        agent.table(
            "users",
            [
                {"uid": "0", "username": "root", "directory": "/var/root"},
                {"uid": str(501 + index), "username": f"u{index}", "directory": f"/Users/u{index}"},
            ],
        )
        assert agent.checkin()["queries"][query_id] == sql
        expect(page.locator("#results tbody tr")).to_have_count(2 * (index + 1), timeout=WAIT)
        expect(page.locator("#answered")).to_have_text(str(index + 1), timeout=WAIT)
    agents[2].denylisted.add(sql)
    agents[2].checkin()
    page.wait_for_selector("#host-status >> text=distributed query is denylisted")
    assert page.inner_text("#campaign-status") == "running"
    assert page.inner_text("#pending") == "1"
    screenshot(page, "live-query-results")

    # Sorting by a column reorders the rows.
    page.click("#results thead th >> text=uid")
    first = page.locator("#results tbody tr").first.inner_text()
    assert first.split("\t")[1].strip() == "0"

    page.click("#stop-query")
    expect(page.locator("#campaign-status")).to_have_text("stopped", timeout=WAIT)
    assert page.is_disabled("#stop-query")
    assert query_id not in agents[3].checkin().get("queries", {})  # no longer asked

    with page.expect_download() as download_info:
        page.click("#export-csv")
    rows = list(csv.DictReader(io.StringIO(download_info.value.path().read_text())))
    answered = [row for row in rows if row["status"] == "succeeded"]
    assert sorted(row["username"] for row in answered) == ["root", "root", "u0", "u1"]
    assert {row["hostname"] for row in answered} == {"mac-000.corp.example", "mac-001.corp.example"}
    assert [row["error"] for row in rows if row["status"] == "failed"] == ["distributed query is denylisted"]
    with page.expect_download() as download_info:
        page.click("#export-json")
    exported = json.loads(download_info.value.path().read_text())
    assert sorted(r["status"] for r in exported["results"]) == ["failed", "succeeded", "succeeded"]


def test_browser_admin_pack_with_scheduled_query_reaches_agent_config(page, live_server, secret, vectors):
    make_user("alice", superuser=True)
    agent = SimulatedAgent(live_server.url, mac_enroll_request(vectors, 1)).enroll()
    assert "ir-pack" not in agent.config().get("packs", {})
    login(page, live_server.url, "alice")

    # A query with a typo is refused before it is saved.
    page.goto(f"{live_server.url}/admin/queries/query/add/")
    page.fill("#id_name", "listening ports")
    page.fill("#id_sql", "SELECT pid, prot FROM listening_ports;")
    page.click("input[name=_save]")
    page.wait_for_selector(".errorlist >> text=no such column: prot")
    page.fill("#id_sql", "SELECT pid, port, address FROM listening_ports;")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")

    page.goto(f"{live_server.url}/admin/queries/pack/add/")
    page.fill("#id_name", "ir-pack")
    page.fill("#id_target_platforms", "darwin")
    page.click("text=Add another Scheduled query")
    page.fill("#id_scheduled_queries-0-name", "ports")
    # The query picker is the admin's autocomplete widget: open it, type, pick.
    page.click("#scheduled_queries-0 .select2-selection")
    page.fill(".select2-search__field", "listening")
    page.click(".select2-results__option >> text=listening ports")
    page.fill("#id_scheduled_queries-0-interval", "300")
    screenshot(page, "admin-pack-add")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist >> text=was added successfully")

    pack = agent.config()["packs"]["ir-pack"]
    assert pack["queries"]["ports"]["query"] == "SELECT pid, port, address FROM listening_ports;"
    assert pack["queries"]["ports"]["interval"] == 300


def test_browser_observer_sees_no_run_or_delete_and_server_refuses(page, live_server, secret, vectors):
    make_user("oscar", role="observer")
    agent = SimulatedAgent(live_server.url, mac_enroll_request(vectors, 1)).enroll()
    host = Host.objects.get()
    login(page, live_server.url, "oscar")

    page.goto(f"{live_server.url}/hosts/{host.pk}/")
    page.wait_for_selector("#host-title")
    assert page.locator("#run-live-query").count() == 0
    assert page.locator("#delete-host").count() == 0
    page.goto(f"{live_server.url}/live/")
    page.wait_for_selector("#live-form")
    assert page.locator("#run-query").count() == 0
    assert page.get_by_role("button", name="Run").count() == 0
    screenshot(page, "live-query-observer")

    # Called directly (with a valid CSRF token from the page), the server still says no.
    token = page.input_value("input[name=csrfmiddlewaretoken]")
    launch = page.request.post(
        f"{live_server.url}/live/launch",
        form={"sql": "SELECT 1;", "all": "1", "csrfmiddlewaretoken": token},
        headers={"Referer": f"{live_server.url}/live/"},
    )
    assert launch.status == 403
    delete = page.request.post(
        f"{live_server.url}/hosts/{host.pk}/delete",
        form={"csrfmiddlewaretoken": token},
        headers={"Referer": f"{live_server.url}/hosts/{host.pk}/"},
    )
    assert delete.status == 403
    assert Host.objects.filter(pk=host.pk).exists()
    assert Campaign.objects.count() == 0
    assert not [name for name in agent.read() if name.startswith("fleetweb_live")]

    page.goto(f"{live_server.url}/admin/hosts/host/")
    page.wait_for_selector("#result_list")
    assert page.locator("select[name=action] option[value=delete_selected]").count() == 0
    admin_delete = page.request.post(
        f"{live_server.url}/admin/hosts/host/{host.pk}/delete/",
        form={"post": "yes", "csrfmiddlewaretoken": token},
        headers={"Referer": f"{live_server.url}/admin/hosts/host/"},
    )
    assert admin_delete.status == 403
    assert Host.objects.filter(pk=host.pk).exists()


def test_browser_live_query_behind_a_plain_reverse_proxy(page, live_server, nginx_proxy, client, secret):
    make_user("alice", superuser=True)
    agents = [_mac(client, n) for n in range(2)]
    for agent in agents:
        agent.checkin()

    login(page, nginx_proxy, "alice")
    page.goto(f"{nginx_proxy}/live/")
    page.check("input[name=all]")
    expect(page.locator("#target-count")).to_have_text("2", timeout=WAIT)
    page.fill("#sql", "SELECT version FROM osquery_info;")
    page.wait_for_selector("#sql-checks >> text=SQL looks valid.")
    page.click("#run-query")
    page.wait_for_selector("#campaign")
    for index, agent in enumerate(agents):
        agent.checkin()
        expect(page.locator("#results tbody tr")).to_have_count(index + 1, timeout=WAIT)
    expect(page.locator("#campaign-status")).to_have_text("completed", timeout=WAIT)
    assert page.locator("#results tbody tr").first.inner_text().endswith("5.23.1")
