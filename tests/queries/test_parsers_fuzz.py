"""Property-based tests of the pack and spec parsers on mutated real files.

Whatever the input, the parsers either succeed or raise their own error naming file and line
(PackConfError, SpecError); a spec apply that fails writes nothing.
"""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hosts.models import EnrollSecret
from queries.models import AgentOptions, Label, Pack, Policy, Query, ScheduledQuery
from queries.packs_conf import PackConfError, parse_pack_text
from queries.specs import SpecError, apply_spec_text
from tests.fuzzing import fuzz_settings, hostile_text, json_values

from ..conftest import REALWORLD

PACKS = [
    "osquery/packs/osquery-monitoring.conf",
    "osquery/packs/hardware-monitoring.conf",
    "osquery/tools/tests/configs/test_parse_items.conf",
    "osquery/tools/tests/configs/test_inline_pack.conf",
]
SPECS = [
    "kolide-fleet/examples/config-many-files/packs/osquery-monitoring.yml",
    "kolide-fleet/examples/config-many-files/labels.yml",
    "kolide-fleet/examples/config-many-files/enroll-secret.yml",
    "fleet/cmd/fleetctl/fleetctl/testdata/gitops/lib/query_multiple_apply.yml",
    "fleet/pkg/spec/testdata/policies/policies.yml",
]
SYNTAX = [
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    '"',
    "\\",
    "\n",
    "#",
    "//",
    "/*",
    "*/",
    "- ",
    "  ",
    "&a",
    "*a",
    "!!python/object:os.system",
    "\t",
]


@st.composite
def text_mutations(draw: st.DrawFn, text: str) -> str:
    """`text` with a few slices deleted, duplicated or replaced by syntax or hostile text."""
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 80)))
        action = draw(st.sampled_from(["delete", "duplicate", "insert", "insert"]))
        if action == "delete":
            text = text[:start] + text[end:]
        elif action == "duplicate":
            text = text[:end] + text[start:end] + text[end:]
        else:
            text = text[:start] + draw(st.one_of(st.sampled_from(SYNTAX), hostile_text)) + text[start:]
    return text


@st.composite
def structural_mutations(draw: st.DrawFn, data: object) -> object:
    """A JSON value with one member somewhere replaced by a random value."""
    node = data
    for _ in range(draw(st.integers(0, 4))):
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node)))
            if not isinstance(node[key], dict | list) or draw(st.booleans()):
                node[key] = draw(json_values(max_leaves=8))
                return data
            node = node[key]
        elif isinstance(node, list) and node:
            node = node[draw(st.integers(0, len(node) - 1))]
    return draw(json_values()) if node is data else data


def assert_positioned(exc: PackConfError | SpecError, text: str, filename: str) -> None:
    assert exc.filename == filename
    assert 0 <= exc.line <= text.count("\n") + 2, (exc.line, str(exc))
    assert exc.message and "Traceback" not in exc.message


@given(data=st.data())
@fuzz_settings(examples=300)
def test_pack_parser_refuses_with_file_and_line(data):
    name = data.draw(st.sampled_from(PACKS), label="file")
    original = (REALWORLD / name).read_text()
    if data.draw(st.booleans(), label="structural"):
        try:
            text = json.dumps(data.draw(structural_mutations(json.loads(original))), indent=2)
        except ValueError:  # osquery's own comments make some files non-JSON: mutate the text
            text = data.draw(text_mutations(original))
    else:
        text = data.draw(text_mutations(original))
    try:
        parsed = parse_pack_text(text, name)
    except PackConfError as exc:
        assert_positioned(exc, text, name)
    else:
        for pack in parsed.packs:
            assert pack.name and "/" not in pack.name


def content_counts() -> dict[str, int]:
    models = (Query, Pack, ScheduledQuery, Label, Policy, EnrollSecret, AgentOptions)
    return {model.__name__: model.objects.count() for model in models}


@pytest.mark.django_db
@given(data=st.data())
@fuzz_settings(examples=150)
def test_spec_apply_is_all_or_nothing_on_hostile_yaml(data):
    name = data.draw(st.sampled_from(SPECS), label="file")
    text = data.draw(text_mutations((REALWORLD / name).read_text()), label="text")
    dry_run = data.draw(st.booleans(), label="dry run")
    before = content_counts()
    try:
        apply_spec_text(text, name, dry_run=dry_run)
    except SpecError as exc:
        assert_positioned(exc, text, name)
        assert content_counts() == before, "a refused spec wrote something"
    else:
        if dry_run:
            assert content_counts() == before


@pytest.mark.django_db
def test_control_character_in_spec_names_its_line():
    """Found by the fuzzer: YAML's reader refuses control characters before parsing starts."""
    with pytest.raises(SpecError) as caught:
        apply_spec_text("---\napiVersion: v1\nkind: query\n\x08spec: {}\n", "bad.yml")
    assert caught.value.line == 4 and "not allowed" in caught.value.message
