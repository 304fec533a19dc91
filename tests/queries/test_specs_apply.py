import io
import textwrap

import orjson
import pytest
import yaml
from django.core.management import call_command

from hosts.models import EnrollSecret
from queries.agent_config import config_render
from queries.builtin import builtin_load
from queries.models import AgentOptions, Label, Pack, Policy, Query, ScheduledQuery
from queries.specs import SpecError, apply_spec_text, export_specs

from ..conftest import REALWORLD
from .helpers import make_host

FILE = textwrap.dedent(
    """\
    apiVersion: v1
    kind: pack
    spec:
      name: monitoring
      targets:
        labels: [linux_hosts]
        platforms: [darwin]
      queries:
        - query: osquery_info
          interval: 600
          snapshot: true
        - query: osquery_info
          name: info_ignore_removals
          interval: 60
          removed: false
          shard: 50
    ---
    apiVersion: v1
    kind: query
    spec:
      name: osquery_info
      query: SELECT * FROM osquery_info;
      description: Agent info
    ---
    apiVersion: v1
    kind: label
    spec:
      name: linux_hosts
      query: SELECT 1 FROM os_version WHERE platform_like = 'debian';
      platform: linux
    ---
    apiVersion: v1
    kind: policy
    spec:
      name: Gatekeeper on
      query: SELECT 1 FROM gatekeeper WHERE assessments_enabled = 1;
      platform: darwin
      critical: true
      resolution: Turn Gatekeeper on.
    ---
    apiVersion: v1
    kind: config
    spec:
      agent_options:
        config:
          options:
            distributed_interval: 30
            pack_delimiter: /
        overrides:
          platforms:
            darwin:
              options:
                distributed_interval: 60
    ---
    apiVersion: v1
    kind: enroll_secret
    spec:
      secrets:
        - secret: s3cret-one
        - secret: s3cret-two
          name: laptops
    """
)


@pytest.mark.django_db
def test_apply_creates_everything_and_reapply_changes_nothing():
    report = apply_spec_text(FILE, "content.yml")
    statuses = {(o.kind, o.name): o.status for o in report.outcomes}
    assert set(statuses.values()) == {"created"}
    assert ("pack", "monitoring") in statuses and ("query", "osquery_info") in statuses
    pack = Pack.objects.get(name="monitoring")
    assert pack.target_platforms == "darwin"
    assert list(pack.target_labels.values_list("name", flat=True)) == ["linux_hosts"]
    sqs = {sq.name: sq for sq in pack.scheduled_queries.all()}
    assert sqs["osquery_info"].logging == "snapshot"
    assert (sqs["info_ignore_removals"].logging, sqs["info_ignore_removals"].shard) == (
        "differential_ignore_removals",
        50,
    )
    assert Policy.objects.get().critical is True
    assert AgentOptions.get_solo().config_for_platform("darwin") == {"options": {"distributed_interval": 60}}
    assert set(EnrollSecret.objects.values_list("secret", flat=True)) == {"s3cret-one", "s3cret-two"}

    data = report.to_dict()
    assert data["counts"]["created"] == len(data["objects"]) and data["file"] == "content.yml"
    assert {"kind": "pack", "name": "monitoring", "status": "created", "document": 1, "line": 1} in data["objects"]

    again = apply_spec_text(FILE, "content.yml")
    assert {o.status for o in again.outcomes} == {"unchanged"}
    assert again.counts()["unchanged"] == len(report.outcomes)


@pytest.mark.django_db(transaction=True)
def test_unchanged_apply_does_not_touch_agent_configs():
    from fleetweb.redis import get_redis
    from queries.agent_config import GENERATION_KEY

    apply_spec_text(FILE, "content.yml")
    generation = get_redis().get(GENERATION_KEY)
    assert generation is not None
    apply_spec_text(FILE, "content.yml")
    assert get_redis().get(GENERATION_KEY) == generation
    apply_spec_text(FILE.replace("interval: 600", "interval: 700"), "content.yml")
    assert get_redis().get(GENERATION_KEY) != generation


@pytest.mark.django_db
def test_update_is_reported_and_removed_pack_queries_go():
    apply_spec_text(FILE, "content.yml")
    changed = FILE.replace("interval: 600", "interval: 900").replace("name: info_ignore_removals", "name: info_other")
    report = apply_spec_text(changed, "content.yml")
    assert {(o.kind, o.status) for o in report.outcomes if o.status != "unchanged"} == {("pack", "updated")}
    names = set(ScheduledQuery.objects.values_list("name", flat=True))
    assert names == {"osquery_info", "info_other"}


@pytest.mark.django_db
def test_dry_run_writes_nothing():
    report = apply_spec_text(FILE, "content.yml", dry_run=True)
    assert report.dry_run and report.counts()["created"] == len(report.outcomes) > 0
    assert not Query.objects.exists() and not Pack.objects.exists() and not EnrollSecret.objects.exists()
    assert "dry run" in report.lines()[-1]


@pytest.mark.django_db
def test_export_applies_with_no_changes():
    builtin_load()
    host = make_host("linux", "web1")
    apply_spec_text(FILE, "content.yml")
    apply_spec_text(
        "apiVersion: v1\nkind: label\nspec:\n  name: pinned\n  label_membership_type: manual\n  hosts: [web1]\n",
        "manual.yml",
    )
    assert list(Label.objects.get(name="pinned").hosts.all()) == [host]
    docs = export_specs(["query", "label", "pack", "policy", "config", "enroll_secret"])
    kinds = [d["kind"] for d in docs]
    assert kinds.index("query") < kinds.index("pack")
    assert "All Hosts" not in [d["spec"]["name"] for d in docs if d["kind"] == "label"]
    text = yaml.safe_dump_all(docs, sort_keys=False)
    report = apply_spec_text(text, "exported.yml")
    assert [o for o in report.outcomes if o.status != "unchanged"] == []
    assert len(report.outcomes) >= 8


def _error(text: str, filename: str = "bad.yml") -> SpecError:
    with pytest.raises(SpecError) as info:
        apply_spec_text(textwrap.dedent(text), filename)
    return info.value


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("apiVersion: v1\nkind: team\nspec:\n  team:\n    name: x\n", 2, "kind 'team' is not supported"),
        ("apiVersion: v1\nkind: built-in\nspec: {}\n", 2, "kind 'built-in' is not supported"),
        ("apiVersion: v1\nkind: widget\nspec: {}\n", 2, "unknown kind 'widget'"),
        ("---\napiVersion: v1\nkind: query\nspec:\n  name: a\n", 5, "'query' is required"),
        ("apiVersion: v2\nkind: query\nspec: {}\n", 1, "'apiVersion' must be v1"),
        ("- name: q\n  query: select 1\n", 1, "Fleet gitops"),
        ("queries:\n  - path: x.yml\n", 1, "Fleet gitops"),
        ("apiVersion: v1\nkind: query\nspec:\n  name: a\n  query: [1]\n", 5, "'query' must be a string"),
        (
            "apiVersion: v1\nkind: pack\nspec:\n  name: p\n  queries:\n    - query: nope\n      interval: 60\n",
            6,
            "no query named 'nope'",
        ),
        (
            "apiVersion: v1\nkind: query\nspec: {name: q, query: select 1}\n---\napiVersion: v1\nkind: pack\n"
            "spec:\n  name: p\n  queries:\n    - query: q\n      interval: 604801\n",
            11,
            "outside 1..604800",
        ),
        (
            "apiVersion: v1\nkind: query\nspec: {name: q, query: select 1}\n---\napiVersion: v1\nkind: pack\n"
            "spec:\n  name: p\n  queries:\n    - query: q\n      name: last_epoch\n",
            11,
            "ends with 'epoch' or 'counter'",
        ),
        (
            "apiVersion: v1\nkind: pack\nspec:\n  name: p\n  targets:\n    labels: [ghost]\n",
            6,
            "no label named 'ghost'",
        ),
        (
            "apiVersion: v1\nkind: label\nspec:\n  name: m\n  label_membership_type: manual\n  hosts:\n    - nobody\n",
            7,
            "no host with hostname, UUID or serial 'nobody'",
        ),
        (
            "apiVersion: v1\nkind: config\nspec:\n  agent_options:\n    config:\n      options:\n"
            "        distributed_interval: -1\n",
            7,
            "config.options.distributed_interval must be a non-negative integer",
        ),
        (
            "apiVersion: v1\nkind: config\nspec:\n  agent_options:\n    config:\n      packs: {}\n",
            6,
            "unsupported key(s) packs",
        ),
        (
            "apiVersion: v1\nkind: policy\nspec:\n  name: p\n  query: select 1\n  team: Servers\n",
            6,
            "fleetweb has no teams",
        ),
        (
            "apiVersion: v1\nkind: query\nspec: {name: q, query: select 1}\n---\n"
            "apiVersion: v1\nkind: query\nspec: {name: q, query: select 2}\n",
            7,
            "also defined, differently, in document 1",
        ),
        ("apiVersion: v1\nkind: query\nspec: [1, 2]\n", 3, "'spec' must be a mapping"),
        ("just words\n", 1, "must be a mapping"),
        ("apiVersion: v1\nkind: query\nspec: !!python/object:os.system {}\n", 3, "invalid YAML"),
        ("apiVersion: v1\nkind: query\n", 1, "'spec' is missing"),
        ("apiVersion: v1\nkind: query\nspec:\n  name: a\n  query: 'x\n", 6, "invalid YAML"),
    ],
)
def test_errors_name_file_and_line(text, line, fragment):
    error = _error(text)
    assert (error.filename, error.line) == ("bad.yml", line), str(error)
    assert fragment in str(error)
    assert str(error).startswith(f"bad.yml:{line}: ")


@pytest.mark.django_db
def test_a_failing_document_rolls_back_the_whole_file():
    text = FILE + "---\napiVersion: v1\nkind: pack\nspec:\n  name: broken\n  queries:\n    - query: missing\n"
    _error(text)
    assert not Query.objects.exists() and not Pack.objects.exists()


@pytest.mark.django_db
def test_builtin_labels_cannot_be_changed():
    builtin_load()
    error = _error("apiVersion: v1\nkind: label\nspec:\n  name: macOS\n  query: SELECT 1;\n")
    assert "built in and cannot be changed" in error.message
    assert Label.objects.get(name="macOS").sql == ""


@pytest.mark.django_db
def test_kolide_options_kind_maps_to_agent_options():
    text = textwrap.dedent(
        """\
        apiVersion: v1
        kind: options
        spec:
          config:
            options:
              distributed_interval: 3
              logger_plugin: tls
          overrides:
            platforms:
              darwin:
                options:
                  distributed_interval: 10
        """
    )
    report = apply_spec_text(text, "options.yml")
    assert [(o.kind, o.status) for o in report.outcomes] == [("agent_options", "created")]
    mac, linux = make_host("darwin", "m"), make_host("linux", "l")
    assert orjson.loads(config_render(mac.id, "darwin"))["options"] == {"distributed_interval": 10}
    assert orjson.loads(config_render(linux.id, "linux"))["options"]["distributed_interval"] == 3


@pytest.mark.django_db
def test_kolide_single_file_without_its_options_applies():
    """kolide's example refers to queries defined after the pack and names queries in labels; its
    options document uses a string decorator and an `ubuntu` override, which are refused."""
    path = REALWORLD / "kolide-fleet" / "examples" / "config-single-file.yml"
    docs = path.read_text().split("\n---\n")
    assert "kind: options" in docs[0]
    text = "\n---\n".join(docs[1:])
    report = apply_spec_text(text, "kolide.yml")
    pack = Pack.objects.get(name="osquery_monitoring")
    assert sorted(pack.scheduled_queries.values_list("name", flat=True)) == [
        "osquery_events",
        "osquery_info",
        "osquery_schedule",
        "osquery_version_differential",
        "osquery_version_snapshot",
    ]
    assert Label.objects.get(name="pending_updates").sql == Query.objects.get(name="pending_updates").sql
    assert EnrollSecret.objects.get(name="inactive_secret").is_active is False
    assert any("names the query" in w for w in report.warnings)
    assert not apply_spec_text(text, "kolide.yml").changed


@pytest.mark.django_db
def test_enroll_secret_list_replaces_active_set(enroll_secret):
    apply_spec_text("apiVersion: v1\nkind: enroll_secret\nspec:\n  secrets:\n    - secret: fresh\n", "s.yml")
    enroll_secret.refresh_from_db()
    assert enroll_secret.is_active is False
    assert EnrollSecret.objects.get(secret="fresh").is_active


@pytest.mark.django_db
def test_queries_yml_is_invalid_yaml():
    path = REALWORLD / "fleet" / "docs" / "queries.yml"
    with pytest.raises(SpecError) as info:
        apply_spec_text(path.read_text(), str(path))
    assert info.value.line == 2409
    assert str(info.value).startswith(f"{path}:2409: invalid YAML")


@pytest.mark.django_db
def test_config_over_one_mebibyte_is_refused():
    big_sql = "SELECT * FROM processes WHERE name = '" + "x" * 60_000 + "';"
    docs = [f'apiVersion: v1\nkind: query\nspec:\n  name: q{i}\n  query: "{big_sql}"\n' for i in range(20)]
    queries = "\n".join(f"    - query: q{i}\n      interval: 3600" for i in range(20))
    docs.append(f"apiVersion: v1\nkind: pack\nspec:\n  name: huge\n  queries:\n{queries}\n")
    with pytest.raises(SpecError) as info:
        apply_spec_text("---\n".join(docs), "huge.yml")
    assert "over the 1048576-byte limit" in str(info.value)
    assert not Pack.objects.exists()


@pytest.mark.django_db
def test_apply_command(tmp_path):
    path = tmp_path / "content.yml"
    path.write_text(FILE)
    out = io.StringIO()
    call_command("apply", "-f", str(path), "--dry-run", stdout=out)
    assert out.getvalue().strip().endswith("0 updated, 0 unchanged")
    assert not Pack.objects.exists()
    out = io.StringIO()
    call_command("apply", "-f", str(path), stdout=out)
    assert "pack 'monitoring': created" in out.getvalue()
    bad = tmp_path / "bad.yml"
    bad.write_text("apiVersion: v1\nkind: query\nspec:\n  name: x\n  query: [\n")
    err = io.StringIO()
    with pytest.raises(SystemExit) as info:
        call_command("apply", "-f", str(bad), stdout=io.StringIO(), stderr=err)
    assert info.value.code == 1
    assert err.getvalue().startswith(f"{bad}:6: invalid YAML")
    assert "Traceback" not in err.getvalue()


@pytest.mark.django_db
def test_export_command_output_applies_unchanged(tmp_path):
    builtin_load()
    apply_spec_text(FILE, "content.yml")
    out = io.StringIO()
    call_command("export_specs", stdout=out)
    path = tmp_path / "exported.yml"
    path.write_text(out.getvalue())
    out = io.StringIO()
    call_command("apply", "-f", str(path), stdout=out)
    assert out.getvalue().strip().splitlines()[-1].startswith("0 created, 0 updated, ")
    out = io.StringIO()
    call_command("export_specs", "pack", stdout=out)
    assert {d["kind"] for d in yaml.safe_load_all(out.getvalue())} == {"pack"}


@pytest.mark.parametrize(
    ("text", "line"),
    [("x: " + "[" * 5000 + "]" * 5000 + "\n", 1), ("apiVersion: v1\nkind: query\nspec:\n  name: a\x07\n", 4)],
)
def test_hostile_yaml_is_refused_with_file_and_line(text, line):
    with pytest.raises(SpecError) as excinfo:
        apply_spec_text(text, "hostile.yml")
    assert excinfo.value.filename == "hostile.yml"
    assert str(excinfo.value).startswith("hostile.yml:")
    assert excinfo.value.line == line
