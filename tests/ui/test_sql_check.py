import json
import re

import pytest
import yaml

from queries.sql_check import sql_check
from tests.conftest import REALWORLD


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("SELEC * FROM processes", 'near "SELEC": syntax error'),
        ("SELECT * FROM processes WHERE", "incomplete input"),
        ("SELECT nonexistent FROM processes", "no such column: nonexistent"),
        ("SELECT p.name FROM processes p JOIN users u ON u.uid = p.bogus", "no such column: p.bogus"),
        ("SELECT 1; SELECT 2", "only one statement"),
        ("DELETE FROM processes", "only read statements"),
        ("SELECT frobnicate(name) FROM processes", "no such function: frobnicate"),
        ("   ", "empty"),
    ],
)
def test_bad_sql_is_refused_with_a_precise_error(sql, error):
    check = sql_check(sql)
    assert not check.ok
    assert any(error in message for message in check.errors), check.errors


def test_extension_tables_only_warn():
    check = sql_check("SELECT name FROM kubernetes_pods JOIN processes USING (pid)")
    assert check.ok
    assert "kubernetes_pods" in check.warnings[0]


def test_osquery_functions_and_hidden_columns_are_known():
    assert sql_check("SELECT split(cmdline, ' ', 0) AS arg0 FROM processes WHERE pid = 1;").ok
    assert sql_check("SELECT * FROM file WHERE directory = '/etc' AND path LIKE '/etc/%';").ok
    assert sql_check("SELECT sha256 FROM hash WHERE path = '/bin/ls';").ok


def _realworld_queries():
    for path in sorted((REALWORLD / "osquery" / "packs").glob("*.conf")):
        text = re.sub(r"^\s*//.*$", "", path.read_text(), flags=re.M)
        try:
            pack = json.loads(text)
        except json.JSONDecodeError:
            continue  # a pack with invalid JSON escapes; osquery's own parser is lenient
        for name, query in pack.get("queries", {}).items():
            yield f"{path.name}:{name}", query["query"]
    for path in sorted((REALWORLD / "fleet").rglob("*.yml")):
        try:
            docs = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError:
            continue
        for doc in docs:
            spec = doc.get("spec", doc) if isinstance(doc, dict) else None
            if isinstance(spec, dict) and isinstance(spec.get("query"), str):
                yield f"{path.name}:{spec.get('name')}", spec["query"]


def test_every_real_world_pack_and_library_query_passes():
    queries = list(_realworld_queries())
    assert len(queries) > 500
    failures = {name: sql_check(sql).errors for name, sql in queries if not sql_check(sql).ok}
    assert failures == {}
