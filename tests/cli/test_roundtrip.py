"""fleetctl against a running server: real spec files and osquery packs, get/apply round trips,
and a live query answered by simulated agents."""

import json
import threading
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from hosts.models import Host
from queries.models import Pack, Policy, Query

from ..conftest import REALWORLD
from ..queries.test_specs_realworld import EXPECTED

# kolide's example labels name queries from its queries.yml instead of giving SQL, so that file
# goes first, as in kolide's own instructions.
APPLYING = sorted(
    (rel for rel, outcome in EXPECTED.items() if isinstance(outcome, int)), key=lambda rel: ("queries" not in rel, rel)
)
REFUSED = sorted(rel for rel, outcome in EXPECTED.items() if isinstance(outcome, tuple))
PACKS = sorted((REALWORLD / "osquery" / "packs").glob("*.conf"))
GET_KINDS = ["queries", "labels", "packs", "policies", "config", "enroll_secrets"]


def _unchanged(stdout: str) -> bool:
    lines = [line for line in stdout.splitlines() if "created," in line]
    return bool(lines) and all(" 0 created, 0 updated," in line for line in lines)


def test_apply_real_specs_then_get_and_reapply_unchanged(cli, tmp_path):
    # Refusals first, on an empty server: some refer to objects other files create.
    for rel in REFUSED:
        line, fragment = EXPECTED[rel]
        proc = cli.run("apply", "-f", str(REALWORLD / rel), check=False)
        assert proc.returncode == 1
        assert f"{REALWORLD / rel}:{line}: " in proc.stderr, proc.stderr
        assert fragment in proc.stderr
    assert Query.objects.count() == 0
    for rel in APPLYING:
        cli.run("apply", "-f", str(REALWORLD / rel))
    assert Query.objects.count() > 50 and Policy.objects.count() > 500

    exported = []
    for kind in GET_KINDS:
        out = tmp_path / f"{kind}.yml"
        out.write_text(cli.run("get", kind, "--yaml").stdout)
        exported.append(out)
    for out in exported:
        proc = cli.run("apply", "-f", str(out))
        assert _unchanged(proc.stdout), (out.name, proc.stdout)
        assert "unchanged" in proc.stdout

    # The same output applied to an empty server recreates everything it lists.
    table = cli.run("get", "queries").stdout
    assert "NAME" in table and "| " in table


def test_dry_run_writes_nothing_and_delete_removes(cli, tmp_path):
    spec = REALWORLD / "kolide-fleet/examples/config-many-files/queries.yml"
    proc = cli.run("apply", "--dry-run", "-f", str(spec))
    assert "dry run, nothing written: 15 created" in proc.stdout
    assert Query.objects.count() == 0
    cli.run("apply", "-f", str(spec))
    assert Query.objects.count() == 15
    cli.run("delete", "-f", str(spec))
    assert Query.objects.count() == 0
    proc = cli.run("delete", "-f", str(spec), check=False)
    assert proc.returncode == 1 and "no query named" in proc.stderr


def test_apply_error_names_file_and_line(cli, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "apiVersion: v1\nkind: query\nspec:\n  name: ok\n  query: SELECT 1;\n---\n"
        "apiVersion: v1\nkind: pack\nspec:\n  name: p\n  queries:\n    - query: missing\n"
    )
    proc = cli.run("apply", "-f", str(bad), check=False)
    assert proc.returncode == 1
    assert f"{bad}:12: " in proc.stderr, proc.stderr
    assert "no query named 'missing'" in proc.stderr
    assert Query.objects.count() == 0, "a refused file applies nothing"


def test_convert_and_apply_every_osquery_pack(cli, tmp_path):
    for conf in PACKS:
        out = tmp_path / f"{conf.stem}.yml"
        cli.run("convert", "-f", str(conf), "-o", str(out))
        first = cli.run("apply", "-f", str(out))
        assert "pack" in first.stdout and " created," in first.stdout
        again = cli.run("apply", "-f", str(out))
        assert _unchanged(again.stdout), (conf.name, again.stdout)
    assert Pack.objects.filter(name__in=[p.stem for p in PACKS]).count() == len(PACKS)


def test_get_hosts_formats(cli, agents):
    agents("web-1")
    agents("web-2")
    table = cli.run("get", "hosts").stdout
    assert "web-1" in table and "web-2" in table and "online" in table
    hosts = json.loads(cli.run("get", "hosts", "--json").stdout)
    assert {h["hostname"] for h in hosts} == {"web-1", "web-2"}
    one = json.loads(cli.run("get", "host", "UUID-web-2", "--json").stdout)
    assert one["hostname"] == "web-2"


def test_live_query_streams_rows_and_summarises(cli, agents):
    sql = "SELECT version FROM osquery_info;"
    fast, slow = agents("fast-1"), agents("slow-1")
    agents("silent-1")
    fast.answers[sql] = [{"version": "5.12.1"}]
    slow.answers[sql] = "no such table: osquery_info_typo"
    slow.gate = threading.Event()
    # The silent host last checked in long ago: it is offline and never answers.
    Host.objects.filter(hostname="silent-1").update(last_seen_at=timezone.now() - timedelta(hours=2))
    fast.start()
    slow.start()
    proc = cli.popen(
        "query",
        "--hosts",
        "fast-1,slow-1",
        "--hosts",
        "silent-1",
        "--query",
        sql,
        "--json",
        "--exit",
        "--timeout",
        "120s",
        "--poll",
        "0.2",
    )
    try:
        # The first host's rows arrive while the second has not answered yet.
        first = json.loads(proc.stdout.readline())
        assert first == {"host": "fast-1", "rows": [{"version": "5.12.1"}]}
        slow.gate.set()
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert stdout.strip() == ""
    assert "% responded" in stderr
    assert "slow-1: error: no such table: osquery_info_typo" in stderr
    assert "summary: 3 hosts targeted, 1 responded, 1 failed, 1 did not respond" in stderr


def test_sync_host_query_over_http(cli, agents, live_server):
    agent = agents("sync-1")
    agent.answers["SELECT 42 AS answer;"] = [{"answer": "42"}]
    agent.start()
    host = Host.objects.get(hostname="sync-1")
    from accounts.models import ApiToken
    from accounts.tokens import token_issue

    _, api_token = token_issue(user=cli_user(), kind=ApiToken.Kind.API)
    reply = httpx.post(
        f"{live_server.url}/api/v1/fleet/hosts/{host.pk}/query",
        json={"query": "SELECT 42 AS answer;"},
        headers={"Authorization": f"Bearer {api_token}"},
        timeout=60,
    )
    assert reply.status_code == 200, reply.text
    assert reply.json() == {
        "host_id": host.pk,
        "query": "SELECT 42 AS answer;",
        "status": "online",
        "error": None,
        "rows": [{"answer": "42"}],
    }


def cli_user():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(email="admin@example.com")


@pytest.mark.parametrize(
    ("address", "needle"),
    [
        ("http://127.0.0.1:20499", "FAIL TCP"),
        ("not a url", "is not a URL"),
        ("http://no-such-host.invalid", "FAIL DNS"),
    ],
)
def test_debug_connection_says_what_is_wrong(cli, address, needle):
    proc = cli.run("debug", "connection", "--address", address, check=False)
    assert proc.returncode == 1
    assert needle in proc.stdout


def test_debug_connection_ok_and_bad_token(cli, live_server):
    proc = cli.run("debug", "connection")
    assert "OK   token accepted: logged in as admin@example.com (admin)" in proc.stdout
    assert "OK   agent API answers" in proc.stdout
    cli.run("config", "set", "--token", "fw_not-a-real-token")
    proc = cli.run("debug", "connection", check=False)
    assert proc.returncode == 1
    assert "the token is invalid, expired or revoked" in proc.stdout


def test_get_tables_and_logout(cli, tmp_path):
    spec = tmp_path / "mixed.yml"
    spec.write_text(
        "apiVersion: v1\nkind: query\nspec:\n  name: uptime\n  query: SELECT * FROM uptime;\n---\n"
        "apiVersion: v1\nkind: label\nspec:\n  name: ubuntu\n"
        "  query: SELECT 1 FROM os_version WHERE platform = 'ubuntu';\n"
        "---\napiVersion: v1\nkind: pack\nspec:\n  name: base\n  queries:\n    - query: uptime\n      interval: 60\n"
        "---\napiVersion: v1\nkind: policy\nspec:\n  name: firewall\n  query: SELECT 1;\n---\n"
        "apiVersion: v1\nkind: enroll_secret\nspec:\n  secrets:\n    - secret: a-long-enroll-secret-1\n"
    )
    cli.run("apply", "-f", str(spec))
    for kind, name in (("queries", "uptime"), ("labels", "ubuntu"), ("packs", "base"), ("policies", "firewall")):
        assert name in cli.run("get", kind).stdout
    assert json.loads(cli.run("get", "pack", "base", "--json").stdout)[0]["spec"]["queries"][0]["query"] == "uptime"
    assert "a-long-enroll-secret-1" in cli.run("get", "enroll_secrets").stdout
    config = tmp_path / "config.yml"
    config.write_text(cli.run("get", "config").stdout)
    assert "kind: config" in config.read_text()
    assert _unchanged(cli.run("apply", "-f", str(config)).stdout)
    assert "token: set" in cli.run("config", "get").stdout
    proc = cli.run("apply", "-f", str(tmp_path / "specs.json"), check=False)
    assert proc.returncode == 1 and "must end in .yml or .yaml" in proc.stderr
    cli.run("logout")
    proc = cli.run("get", "queries", check=False)
    assert proc.returncode == 1 and "Authentication required" in proc.stderr
