"""Every real log shape parses into the right events; nothing is dropped."""

import pytest

from collector.forwarding.parse import as_number, parse_batch, split_query_name

from .logdata import all_batches, realworld_batches, vector_batches

PACKS = frozenset({"Global", "SomePack", "team-1", "team-2", "macos", "Some Pack Name"})  # not "test"

# Counted by hand from the files: a columns line is 1 event, a snapshot is one per row (0 when
# empty), a diffResults line is one per added and removed row ("" counts 0), anything else is 1.
EXPECTED_EVENTS = {
    "fleet-testdata/result_logs": 26,
    "fleet-testdata/status_logs": 2,
    "kolide-fleet-testdata/result_logs": 5,
    "kolide-fleet-testdata/status_logs": 2,
    "fleet-docs/status_log_decoded": 1,
    "fleet-docs/firehose_kinesis_record_status": 1,
    "kolide-fleet-testdata/distributed_write_queries": 1,
    "result_event_format_first_run": 2,
    "result_event_format_differential": 2,
    "result_event_format_numerics": 1,
    "result_event_format_decorations_top_level": 1,
    "result_event_table_first_run_counter_starts_at_1": 1,
    "result_batch_format": 2,
    "result_batch_format_first_run": 2,
    "result_snapshot_format": 5,
    "result_snapshot_format_empty": 0,
    "result_snapshot_as_events": 3,
    "result_mixed_batch_of_lines": 5,
    "status": 5,
    "status_without_decorations": 1,
}


@pytest.mark.parametrize(("label", "log_type", "lines"), all_batches(), ids=[b[0] for b in all_batches()])
def test_every_real_batch_parses_to_the_counted_events(label, log_type, lines):
    events = parse_batch(7, log_type, lines, PACKS, "/_")
    assert len(events) == EXPECTED_EVENTS[label]
    assert len({e.event_id for e in events}) == len(events), "event ids must be unique within a batch"
    assert all(e.log_type == log_type for e in events)


def test_the_expectations_cover_every_input():
    assert {label for label, _, _ in all_batches()} == set(EXPECTED_EVENTS)
    assert len(realworld_batches()) == 7 and len(vector_batches()) == 13


def test_event_ids_are_stable_and_differ_between_batches():
    lines = vector_batches()[0][2]
    first = [e.event_id for e in parse_batch(1, "result", lines)]
    again = [e.event_id for e in parse_batch(1, "result", lines)]
    other = [e.event_id for e in parse_batch(2, "result", lines)]
    assert first == again
    assert not set(first) & set(other)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("pack/Global/system_info", ("Global", "system_info")),
        ("pack/team-1/hosts", ("team-1", "hosts")),
        ("pack/Some Pack Name/query_not_automated", ("Some Pack Name", "query_not_automated")),
        ("pack/Global/All USB devices", ("Global", "All USB devices")),
        # Another pack delimiter: the known pack names decide where the pack ends.
        (
            "pack_Global_query_should_be_saved_and_submitted_with_custom_pack_delimiter",
            ("Global", "query_should_be_saved_and_submitted_with_custom_pack_delimiter"),
        ),
        ("pack_macos_processes", ("macos", "processes")),
        # Bare schedule names and names that only look like packs are kept whole.
        ("com.foo.bar", ("", "com.foo.bar")),
        ("some_name", ("", "some_name")),
        ("pack/team-", ("", "pack/team-")),
        ("pack/PackName", ("", "pack/PackName")),
        ("pack_unknownpack_q", ("", "pack_unknownpack_q")),
    ],
)
def test_query_names_map_back_to_pack_and_query(name, expected):
    assert split_query_name(name, PACKS, "/_") == expected


def test_batch_format_with_empty_added_side_and_string_numbers():
    line = next(line for line in realworld_batches()[2][2] if "diffResults" in line)
    assert line["diffResults"]["added"] == ""
    (event,) = parse_batch(1, "result", [line], PACKS)
    # With "/" as delimiter the name maps back even though pack "test" is unknown.
    assert (event.pack, event.query, event.action) == ("test", "hosts", "removed")
    assert event.unix_time == 1511049728.0
    assert event.row == {"address": "127.0.0.1", "hostnames": "host-a.example.test"}


def test_decorations_top_level_are_collected():
    lines = {label: lines for label, _, lines in vector_batches()}["result_event_format_decorations_top_level"]
    (event,) = parse_batch(1, "result", lines, PACKS)
    assert event.decorations == {
        "host_uuid": "4C2A9E1B-7D3F-5A8E-9B61-2F0C3D4E5A6B",
        "hostname": "Janes-MacBook-Pro.local",
    }


def test_unknown_lines_are_kept_whole():
    (event,) = parse_batch(1, "result", [{"unknown": {"foo": []}}])
    assert event.action == "unknown" and event.line == {"unknown": {"foo": []}}


@pytest.mark.parametrize(
    ("value", "number"),
    [("1475258115", 1475258115.0), (1475258115, 1475258115.0), (" 2 ", 2.0), ("x", None), (True, None), (None, None)],
)
def test_numbers_come_as_strings_or_numbers(value, number):
    assert as_number(value) == number
