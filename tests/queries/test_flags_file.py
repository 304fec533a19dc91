"""osquery flags files: the flags osquery accepts from a config move into the agent options; the
CLI-only ones are listed and stay. Real files from Fleet and osquery, and fuzzed ones."""

import io

import pytest
from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st

from queries.agent_config import config_render
from queries.flags_file import FlagsFileError, parse_flags_text
from queries.models import AgentOptions
from tests.fuzzing import fuzz_settings, hostile_text

from ..conftest import REALWORLD

FLAGS_FILES = sorted(REALWORLD.rglob("*.flags"))
# Fleet's upgrade-test agent: endpoints, TLS, enrollment and logger flags.
FLEET_AGENT_FLAGS = REALWORLD / "fleet/test/upgrade/osquery.flags"


def test_real_flags_files_parse():
    assert len(FLAGS_FILES) >= 4
    for path in FLAGS_FILES:
        parsed = parse_flags_text(path.read_text(), str(path))
        for _, name, _ in parsed.kept:
            assert name not in parsed.options


def test_fleet_example_splits_remote_from_cli_only():
    parsed = parse_flags_text(FLEET_AGENT_FLAGS.read_text(), "osquery.flags")
    assert parsed.options == {
        "distributed_interval": 10,
        "distributed_tls_max_attempts": 3,
        "distributed_tls_read_endpoint": "/api/v1/osquery/distributed/read",
        "distributed_tls_write_endpoint": "/api/v1/osquery/distributed/write",
        "logger_tls_endpoint": "/api/v1/osquery/log",
        "logger_tls_period": 10,
    }
    kept = {name for _, name, _ in parsed.kept}
    assert {"tls_hostname", "tls_server_certs", "enroll_secret_env", "config_plugin", "config_refresh"} <= kept
    assert {"carver_start_endpoint", "disable_carver", "logger_plugin", "verbose", "debug", "tls_dump"} <= kept


def test_gflags_spellings_and_errors():
    parsed = parse_flags_text(
        "# comment\n\n--logger_tls_compress\n--nodisable_events\n--pack_delimiter=_\n"
        "--custom_team=blue\n--audit_allow_sockets=true\n--logger_tls_period=5\n--logger_tls_period=7\n",
        "f",
    )
    assert parsed.options == {
        "logger_tls_compress": True,
        "disable_events": False,
        "pack_delimiter": "_",
        "custom_team": "blue",
        "audit_allow_sockets": True,
        "logger_tls_period": 7,
    }
    assert any("repeats line 8" in w for w in parsed.warnings)
    assert any("disable_events is read at start-up" in w for w in parsed.warnings)
    with pytest.raises(FlagsFileError) as caught:
        parse_flags_text("--verbose\n/etc/osquery/osquery.conf\n", "f")
    assert caught.value.line == 2
    with pytest.raises(FlagsFileError, match="not a flag name"):
        parse_flags_text("--=3\n", "f")


@given(lines=st.lists(st.one_of(hostile_text, st.sampled_from(["--a=b", "--noX", "-", "--", "#x", "--x=\x00"]))))
@fuzz_settings(examples=300)
def test_flags_parser_refuses_with_a_line(lines):
    text = "\n".join(lines)
    try:
        parse_flags_text(text, "fuzz.flags")
    except FlagsFileError as exc:
        assert 1 <= exc.line <= len(text.splitlines())


@pytest.mark.django_db
def test_import_flags_command_sets_agent_options(tmp_path):
    source = FLEET_AGENT_FLAGS
    out = io.StringIO()
    call_command("import_flags", str(source), stdout=out)
    report = out.getvalue()
    assert "--tls_hostname stays in the flags file" in report and "agent options created" in report
    options = AgentOptions.objects.get(pk=1).config["options"]
    # Imported values win; the defaults the file does not mention are kept.
    assert options["logger_tls_endpoint"] == "/api/v1/osquery/log"
    assert options["pack_delimiter"] == "/"
    assert b'"distributed_tls_read_endpoint":"/api/v1/osquery/distributed/read"' in config_render(1, "darwin")


@pytest.mark.django_db
def test_import_flags_platform_override_and_dry_run(tmp_path):
    flags = tmp_path / "linux.flags"
    flags.write_text("--logger_tls_period=30\n--tls_hostname=fleet:443\n")
    out = io.StringIO()
    call_command("import_flags", str(flags), "--platform", "linux", "--dry-run", stdout=out)
    assert "dry run" in out.getvalue() and not AgentOptions.objects.exists()
    call_command("import_flags", str(flags), "--platform", "linux", stdout=io.StringIO())
    saved = AgentOptions.objects.get(pk=1)
    assert saved.overrides["platforms"]["linux"]["options"]["logger_tls_period"] == 30
    assert b'"logger_tls_period":30' in config_render(1, "linux")
    assert b'"logger_tls_period":30' not in config_render(1, "darwin")


@pytest.mark.django_db
def test_import_flags_refuses_bad_file_without_writing(tmp_path):
    flags = tmp_path / "bad.flags"
    flags.write_text("--logger_tls_period=5\nnot a flag\n")
    err = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("import_flags", str(flags), stderr=err)
    assert f"{flags}:2:" in err.getvalue() and not AgentOptions.objects.exists()
