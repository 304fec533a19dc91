import io

import orjson
import pytest
from django.core.management import call_command

from queries.agent_config import config_render
from queries.models import Pack, Query, ScheduledQuery
from queries.pack_import import pack_import, target_platforms_for
from queries.packs_conf import parse_pack_file, parse_pack_text

from .helpers import PACKS_DIR, make_host, pack_keys_in_file

# Counted by hand from the files at osquery a5b14f63.
EXPECTED_COUNTS = {
    "hardware-monitoring": 17,
    "incident-response": 35,
    "it-compliance": 32,
    "osquery-monitoring": 3,
    "ossec-rootkit": 60,
    "osx-attacks": 74,
    "unwanted-chrome-extensions": 14,
    "vuln-management": 18,
    "windows-attacks": 14,
    "windows-hardening": 39,
}


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_every_real_pack_file_is_covered():
    assert sorted(p.stem for p in PACKS_DIR.glob("*.conf")) == sorted(EXPECTED_COUNTS)


@pytest.mark.django_db
@pytest.mark.parametrize("stem", sorted(EXPECTED_COUNTS))
def test_real_pack_imports_with_osquery_names(stem):
    path = PACKS_DIR / f"{stem}.conf"
    out, err = run("import_pack", str(path))
    assert err == ""
    pack = Pack.objects.get(name=stem)
    names = list(pack.scheduled_queries.order_by("id").values_list("name", flat=True))
    assert len(names) == EXPECTED_COUNTS[stem]
    assert names == pack_keys_in_file(path)
    assert f"pack '{stem}': created" in out
    # Importing again changes nothing.
    out, _ = run("import_pack", str(path))
    assert f"pack '{stem}': unchanged" in out
    assert "created" not in out and "updated" not in out


@pytest.mark.django_db
def test_osx_attacks_details():
    call_command("import_pack", str(PACKS_DIR / "osx-attacks.conf"), "--name", "mac_attacks", stdout=io.StringIO())
    pack = Pack.objects.get(name="mac_attacks")
    assert (pack.platform, pack.target_platforms) == ("darwin", "darwin")
    wirelurker = ScheduledQuery.objects.get(pack=pack, name="WireLurker")
    assert wirelurker.interval == 3600
    assert wirelurker.logging == "differential"
    assert wirelurker.min_osquery_version == "1.4.5"
    assert wirelurker.query.sql.startswith(
        "select * from launchd where         name = 'com.apple.machook_damon.plist' OR"
    )
    assert "\\" not in wirelurker.query.sql


@pytest.mark.django_db
def test_pack_reaches_matching_platform_only_and_renders_stably():
    call_command("import_pack", str(PACKS_DIR / "osx-attacks.conf"), stdout=io.StringIO())
    call_command("import_pack", str(PACKS_DIR / "incident-response.conf"), stdout=io.StringIO())
    mac, linux = make_host("darwin", "mac1"), make_host("linux", "lin1")
    mac_config = orjson.loads(config_render(mac.id, "darwin"))
    linux_config = orjson.loads(config_render(linux.id, "linux"))
    assert set(mac_config["packs"]) == {"osx-attacks", "incident-response"}
    # incident-response has no pack platform: it goes everywhere, per-query platforms filter on the agent.
    assert set(linux_config["packs"]) == {"incident-response"}
    assert mac_config["packs"]["osx-attacks"]["queries"]["WireLurker"]["interval"] == 3600
    assert config_render(mac.id, "darwin") == config_render(mac.id, "darwin")


@pytest.mark.parametrize(
    ("platform", "targets"),
    [
        ("", "darwin,linux,windows"),
        ("all", "darwin,linux,windows"),
        ("darwin", "darwin"),
        ("posix", "darwin,linux"),
        ("ubuntu", "linux"),
        ("windows,darwin", "darwin,windows"),
        ("none", ""),
    ],
)
def test_target_platforms(platform, targets):
    assert target_platforms_for(platform) == targets


@pytest.mark.django_db
def test_snapshot_and_removed_map_to_logging():
    text = """{"queries": {
      "s": {"query": "select 1", "interval": 60, "snapshot": true},
      "d": {"query": "select 2", "interval": 60},
      "r": {"query": "select 3", "interval": 60, "removed": false}
    }}"""
    pack_import(parsed=parse_pack_text(text, "logs.conf"))
    logging = dict(ScheduledQuery.objects.filter(pack__name="logs").values_list("name", "logging"))
    assert logging == {"s": "snapshot", "d": "differential", "r": "differential_ignore_removals"}


@pytest.mark.django_db
def test_reimport_updates_and_removes(tmp_path):
    path = tmp_path / "p.conf"
    path.write_text('{"queries": {"a": {"query": "select 1", "interval": 60}, "b": {"query": "select 2"}}}')
    pack_import(parsed=parse_pack_file(path))
    Pack.objects.filter(name="p").update(disabled=True, description="paused by ops")
    path.write_text('{"queries": {"a": {"query": "select 10", "interval": 120}}}')
    report = pack_import(parsed=parse_pack_file(path))
    assert Pack.objects.filter(name="p", disabled=True, description="paused by ops").exists()
    assert ("pack", "p", "updated") in report.outcomes
    [sq] = ScheduledQuery.objects.filter(pack__name="p")
    assert (sq.name, sq.interval, sq.query.sql) == ("a", 120, "select 10")


@pytest.mark.django_db
def test_same_key_different_sql_in_two_packs():
    pack_import(parsed=parse_pack_text('{"queries": {"usb": {"query": "select 1"}}}', "one.conf"))
    pack_import(parsed=parse_pack_text('{"queries": {"usb": {"query": "select 2"}}}', "two.conf"))
    assert ScheduledQuery.objects.get(pack__name="one").query.name == "usb"
    second = ScheduledQuery.objects.get(pack__name="two")
    assert (second.name, second.query.name, second.query.sql) == ("usb", "two/usb", "select 2")
    # Same SQL shares the query.
    pack_import(parsed=parse_pack_text('{"queries": {"usb": {"query": "select 1"}}}', "three.conf"))
    assert ScheduledQuery.objects.get(pack__name="three").query.name == "usb"
    assert Query.objects.count() == 2


@pytest.mark.django_db
def test_skipped_queries_are_warned_about(tmp_path):
    path = tmp_path / "warn.conf"
    path.write_text('{"queries": {\n"good": {"query": "select 1"},\n"counter": {"query": "select 2"}\n}}')
    out, err = run("import_pack", str(path))
    assert f"warning: {path}:3: query name 'counter' ends with 'epoch' or 'counter'" in out
    assert list(ScheduledQuery.objects.values_list("name", flat=True)) == ["good"]


@pytest.mark.django_db
def test_bad_file_exits_with_file_and_line(tmp_path):
    path = tmp_path / "broken.conf"
    path.write_text('{\n  "queries": {\n    "a": {"query": "select 1",}\n    "b": {}\n  }\n}\n')
    err = io.StringIO()
    with pytest.raises(SystemExit) as info:
        call_command("import_pack", str(path), stdout=io.StringIO(), stderr=err)
    assert info.value.code == 1
    assert err.getvalue().startswith(f"{path}:4: not valid JSON")
    assert "Traceback" not in err.getvalue()


@pytest.mark.django_db
def test_import_refuses_a_config_over_the_limit(settings):
    settings.FLEET = {**settings.FLEET, "CONFIG_MAX_BYTES": 5_000}
    err = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("import_pack", str(PACKS_DIR / "osx-attacks.conf"), stdout=io.StringIO(), stderr=err)
    assert "over the 5000-byte limit" in err.getvalue()
    assert not Pack.objects.exists()
    assert not Query.objects.exists()


@pytest.mark.django_db
def test_whole_osquery_config_imports_its_inline_packs():
    path = PACKS_DIR.parent / "tools" / "tests" / "configs" / "test_inline_pack.conf"
    out, err = run("import_pack", str(path))
    assert err == ""
    packs = {p.name: sorted(p.scheduled_queries.values_list("name", flat=True)) for p in Pack.objects.all()}
    assert packs == {
        "main": ["launchd"],
        "unrestricted_pack": ["process_events", "process_heartbeat"],
        "discovery_pack": ["kernel_modules", "totally_fake"],
        "fake_version_pack": [],
        "valid_discovery_pack": ["kernel_modules"],
        "restricted_pack": [],
    }
    assert Pack.objects.get(name="discovery_pack").discovery == ["select pid from processes where name = 'foobar';"]
    assert ScheduledQuery.objects.get(name="process_heartbeat").denylist is False
    assert "pack 'unrestricted_pack': key(s) file_paths not imported" in out
    assert "platform 'none' matches no host platform" in out


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("discovery", "expected"),
    [('"SELECT 1"', ["SELECT 1"]), ('{"a": 1}', []), ("7", []), ('["SELECT 1", 3]', ["SELECT 1"])],
)
def test_discovery_shapes(tmp_path, discovery, expected):
    conf = tmp_path / "p.conf"
    conf.write_text('{"queries": {"q": {"query": "SELECT 1;", "interval": 60}}, "discovery": ' + discovery + "}")
    call_command("import_pack", str(conf), "--name", "p", stdout=io.StringIO(), stderr=io.StringIO())
    assert Pack.objects.get(name="p").discovery == expected
