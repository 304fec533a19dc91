import re

import pytest

from queries.specs import SpecError, apply_spec_text

from ..conftest import REALWORLD

SPEC_FILES = sorted(
    path
    for root in (REALWORLD / "fleet", REALWORLD / "kolide-fleet")
    for path in root.rglob("*")
    if path.suffix in (".yml", ".yaml")
)


def _rel(path):
    return str(path.relative_to(REALWORLD))


def test_there_are_real_spec_files():
    assert len(SPEC_FILES) >= 30


@pytest.mark.django_db
@pytest.mark.parametrize("path", SPEC_FILES, ids=_rel)
def test_real_spec_applies_or_fails_with_file_and_line(path):
    text = path.read_text()
    try:
        report = apply_spec_text(text, str(path))
    except SpecError as exc:
        assert re.match(rf"^{re.escape(str(path))}:\d+: \S", str(exc)), str(exc)
        assert 1 <= exc.line <= max(1, text.count("\n") + 1)
        print(f"refused: {exc}")
        return
    print("\n".join(report.lines()))
    second = apply_spec_text(text, str(path))
    assert not second.changed, [o for o in second.outcomes if o.status != "unchanged"]
