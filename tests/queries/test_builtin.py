import io
import re

import orjson
import pytest
from django.core.management import call_command

from queries.agent_config import config_render
from queries.agent_options import DEFAULT_AGENT_OPTIONS
from queries.builtin import BUILTIN_AGENT_FLAGS, MACOS_PACK_NAME, MACOS_QUERIES, builtin_load
from queries.models import AgentOptions, Label, Pack, ScheduledQuery

from .helpers import make_host

_SQL_WORDS = {"select", "from", "as", "join", "left", "cross", "on", "where", "and", "or", "not", "in", "using"}


def _columns(table: dict, platform: str = "darwin") -> set[str]:
    names = {c["name"] for c in table["columns"]}
    for extra in table.get("extended_schema", []):
        if platform in extra["platforms"]:
            names |= {c["name"] for c in extra["columns"]}
    return names


@pytest.mark.parametrize("query", MACOS_QUERIES, ids=lambda q: q.name)
def test_macos_pack_names_only_real_tables_and_columns(query, vectors):
    tables = vectors["tables"]
    sql = re.sub(r"'[^']*'", "''", query.sql)  # string literals are values, not names
    aliases: dict[str, str] = {}
    for table, alias in re.findall(r"\b(?:FROM|JOIN)\s+(\w+)(?:\s+AS\s+(\w+))?", sql, flags=re.IGNORECASE):
        assert table in tables, f"{table} is not an osquery table"
        assert "darwin" in str(tables[table]["platforms"]) or "all" in str(tables[table]["platforms"])
        aliases[alias or table] = table
    assert aliases, query.sql
    references = re.findall(r"\b(\w+)\.(\w+)\b", sql)
    assert references, "columns are written alias.column"
    for alias, column in references:
        assert alias in aliases, f"unknown alias {alias}"
        assert column in _columns(tables[aliases[alias]]), f"{aliases[alias]}.{column} does not exist"
    for column in re.findall(r"USING\s*\((\w+)\)", sql, flags=re.IGNORECASE):
        for table in aliases.values():
            assert column in _columns(tables[table]), f"{table}.{column} does not exist"
    # Nothing unqualified is left: every remaining word is SQL, a table or an alias.
    leftover = re.sub(r"\b\w+\.\w+\b|USING\s*\(\w+\)", " ", sql)
    words = {w.lower() for w in re.findall(r"\b[A-Za-z_]\w*\b", leftover)}
    assert words <= _SQL_WORDS | set(aliases) | set(aliases.values()), words - _SQL_WORDS - set(aliases)


def test_macos_pack_matches_the_must_have_list():
    by_name = {q.name: q for q in MACOS_QUERIES}
    expected = {
        "installed_software": ("snapshot", 86400, {"apps"}),
        "shell_history": ("differential", 900, {"shell_history", "users"}),
        "network_interfaces": ("snapshot", 86400, {"interface_details"}),
        "network_connections": ("differential", 3600, {"process_open_sockets", "processes", "users"}),
        "process_events": ("differential", 3600, {"process_events"}),
        "autostart_startup_items": ("differential", 900, {"startup_items"}),
        "autostart_crontab": ("differential", 900, {"crontab"}),
        "logged_in_users": ("snapshot", 3600, {"logged_in_users"}),
        "protection_disk_encryption": ("snapshot", 86400, {"disk_encryption"}),
        "protection_sip": ("snapshot", 86400, {"sip_config"}),
        "protection_gatekeeper": ("snapshot", 86400, {"gatekeeper"}),
        "protection_firewall": ("snapshot", 86400, {"alf"}),
    }
    assert set(by_name) == set(expected)
    for name, (logging, interval, tables) in expected.items():
        query = by_name[name]
        found = set(re.findall(r"\b(?:FROM|JOIN)\s+(\w+)", query.sql, flags=re.IGNORECASE))
        assert (query.logging, query.interval, found) == (logging, interval, tables), name


def test_agent_flags_cover_process_events():
    for flag in (
        "--disable_events=false",
        "--disable_audit=false",
        "--audit_allow_config=true",
        "--audit_allow_process_events=true",
    ):
        assert flag in BUILTIN_AGENT_FLAGS
    assert all(re.fullmatch(r"--\w+=\S+", flag) for flag in BUILTIN_AGENT_FLAGS)


@pytest.mark.django_db
def test_load_builtin_twice_is_idempotent():
    out = io.StringIO()
    call_command("load_builtin", stdout=out)
    assert "pack 'macos': created" in out.getvalue()
    labels = {label.name: label.builtin_platform for label in Label.objects.all()}
    assert labels == {"All Hosts": "all", "macOS": "darwin", "All Linux": "linux", "MS Windows": "windows"}
    assert AgentOptions.get_solo().config == DEFAULT_AGENT_OPTIONS
    pack = Pack.objects.get(name=MACOS_PACK_NAME)
    assert pack.builtin and pack.platform == "darwin"
    assert list(pack.target_labels.values_list("name", flat=True)) == ["macOS"]
    assert pack.scheduled_queries.count() == len(MACOS_QUERIES)

    out = io.StringIO()
    call_command("load_builtin", stdout=out)
    assert "created" not in out.getvalue() and "updated" not in out.getvalue()


@pytest.mark.django_db
def test_load_builtin_restores_the_pack_but_keeps_operator_options():
    builtin_load()
    AgentOptions.objects.filter(pk=1).update(config={"options": {"distributed_interval": 99}})
    ScheduledQuery.objects.filter(pack__name=MACOS_PACK_NAME, name="shell_history").update(interval=5)
    results = builtin_load()
    assert ("pack", MACOS_PACK_NAME, "updated") in results
    assert ScheduledQuery.objects.get(pack__name=MACOS_PACK_NAME, name="shell_history").interval == 900
    assert AgentOptions.get_solo().config == {"options": {"distributed_interval": 99}}


@pytest.mark.django_db
def test_macos_pack_reaches_macs_only_and_renders_byte_identically():
    builtin_load()
    mac, linux = make_host("darwin", "mac"), make_host("linux", "lin")
    mac_body = config_render(mac.id, "darwin")
    assert mac_body == config_render(mac.id, "darwin")
    mac_config = orjson.loads(mac_body)
    pack = mac_config["packs"][MACOS_PACK_NAME]
    assert pack["platform"] == "darwin"
    assert set(pack["queries"]) == {q.name for q in MACOS_QUERIES}
    assert pack["queries"]["installed_software"] == {
        "query": MACOS_QUERIES[0].sql,
        "interval": 86400,
        "snapshot": True,
        "platform": "darwin",
    }
    assert "packs" not in orjson.loads(config_render(linux.id, "linux"))
    assert mac_config["options"] == DEFAULT_AGENT_OPTIONS["options"]


@pytest.mark.django_db
def test_worst_case_size_is_the_rendered_size_for_a_host_every_pack_reaches():
    from queries.config_size import config_worst_case_bytes

    builtin_load()
    mac = make_host("darwin", "mac")
    # The built-in macOS pack is the only pack, and a Mac gets it: worst case == real config.
    assert config_worst_case_bytes() == len(config_render(mac.id, "darwin"))
