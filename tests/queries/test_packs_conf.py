import pytest

from queries.packs_conf import PackConfError, parse_pack_text, strip_osquery_comments


def test_comments_and_continuations_are_read_like_osquery():
    text = (
        "// leading comment\n"
        "  # hash comment\n"
        "{\n"
        '  "queries": {\n'
        "    // a commented query\n"
        '    "q1": {\n'
        '      "query": "select * from launchd where \\\n'
        "        name = 'x';\",\n"
        '      "interval": "60",\n'
        "    },\n"
        "  },\n"
        "}\n"
    )
    parsed = parse_pack_text(text, "packs/demo.conf")
    [pack] = parsed.packs
    assert pack.name == "demo"
    [query] = pack.queries
    # osquery removes backslash-newline and keeps the next line's indentation inside the string.
    assert query.sql == "select * from launchd where         name = 'x';"
    assert query.interval == 60


def test_strip_keeps_line_numbers():
    text = "a \\\n b\n// c\nd"
    assert strip_osquery_comments(text).split("\n") == ["a  b", "", "", "d"]


def test_field_types_like_pack_initialize():
    text = """{"queries": {
      "a": {"query": "select 1", "interval": 10, "snapshot": "t", "denylist": 0, "shard": "5"},
      "b": {"query": "select 2", "removed": "false", "platform": "posix", "version": "5.0.0"},
      "c": {"query": "select 3", "removed": false, "snapshot": 1, "description": "d", "value": "v"}
    }}"""
    queries = {q.name: q for q in parse_pack_text(text, "p.conf").packs[0].queries}
    assert queries["a"].logging == "snapshot"
    assert queries["a"].denylist is False
    assert queries["a"].shard == 5
    assert queries["b"].interval == 3600  # osquery's default schedule interval
    assert queries["b"].logging == "differential_ignore_removals"
    assert (queries["b"].platform, queries["b"].version) == ("posix", "5.0.0")
    assert queries["c"].logging == "snapshot"
    assert (queries["c"].description, queries["c"].value) == ("d", "v")


@pytest.mark.parametrize(
    ("name", "interval", "why"),
    [
        ("query.x", 60, "prefix"),
        ("cache.x", 60, "prefix"),
        ("config_views.x", 60, "prefix"),
        ("my_epoch", 60, "epoch"),
        ("hits_counter", 60, "counter"),
        ("ok_name", 0, "outside 1..604800"),
        ("ok_name", 604801, "outside 1..604800"),
        ("ok_name", "soon", "outside 1..604800"),
    ],
)
def test_what_osquery_skips_is_skipped_with_a_warning(name, interval, why):
    value = f'"{interval}"' if isinstance(interval, str) else interval
    text = (
        '{\n"queries": {\n"keep": {"query": "select 1", "interval": 60},\n'
        f'"{name}": {{"query": "select 2", "interval": {value}}}\n}}\n}}'
    )
    parsed = parse_pack_text(text, "p.conf")
    assert [q.name for q in parsed.packs[0].queries] == ["keep"]
    [warning] = parsed.all_warnings
    assert warning.startswith("p.conf:4: ")
    assert why in warning


def test_missing_sql_is_skipped():
    parsed = parse_pack_text('{"queries": {"x": {"interval": 5}, "y": {"query": 3}}}', "p.conf")
    assert parsed.packs[0].queries == []
    assert len(parsed.all_warnings) == 2


def test_duplicate_query_keeps_the_first_like_osquery():
    text = '{"queries": {\n"a": {"query": "select 1"},\n"a": {"query": "select 2"}\n}}'
    parsed = parse_pack_text(text, "p.conf")
    assert [q.sql for q in parsed.packs[0].queries] == ["select 1"]
    assert any("duplicate" in w for w in parsed.all_warnings)


def test_json_error_names_file_and_original_line():
    text = '// comment\n{\n  "queries": {\n    "a": {"query": "select \\\n 1" "interval": 3}\n  }\n}\n'
    with pytest.raises(PackConfError) as info:
        parse_pack_text(text, "bad.conf")
    assert str(info.value).startswith("bad.conf:4: not valid JSON")


def test_not_a_pack():
    with pytest.raises(PackConfError, match=r"^x.conf:1: neither a pack"):
        parse_pack_text('{"options": {}}', "x.conf")
    with pytest.raises(PackConfError, match=r"^x.conf:1: file is empty"):
        parse_pack_text("# only a comment\n", "x.conf")


def test_whole_config_packs_and_schedule():
    text = """{
  "options": {"logger_path": "/var/log/osquery",},
  "schedule": {"info": {"query": "select * from osquery_info", "interval": 60}},
  "packs": {
    "by_path": "/usr/share/osquery/packs/osx-attacks.conf",
    "inline": {"platform": "darwin", "queries": {"apps": {"query": "select * from apps", "interval": 86400}}}
  }
}"""
    parsed = parse_pack_text(text, "osquery.conf")
    assert [(p.name, [q.name for q in p.queries]) for p in parsed.packs] == [("main", ["info"]), ("inline", ["apps"])]
    assert parsed.packs[1].platform == "darwin"
    [warning] = parsed.warnings
    assert warning.startswith("osquery.conf:5: pack 'by_path'")
