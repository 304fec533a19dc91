"""Check osquery SQL before it is saved or sent to hosts.

osquery runs SQLite, so SQLite itself is the parser: the statement is compiled (EXPLAIN, never
run) against empty tables shaped like osquery's (queries.osquery_tables). That catches syntax
errors, more than one statement, unknown columns of known tables and unknown functions, with
SQLite's own wording. A table that is not in the reference may come from an extension, so it only
earns a warning.
"""

import re
import sqlite3
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from .osquery_tables import OSQUERY_FUNCTIONS, TABLES

MAX_SQL_BYTES = 100_000
_READ_ONLY_START = re.compile(r"^\s*(--[^\n]*\n\s*|/\*.*?\*/\s*)*(select|with|pragma|values)\b", re.I | re.S)
_NO_SUCH_TABLE = re.compile(r"no such table: (?:main\.)?(\S+)")


@dataclass
class SqlCheck:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {"ok": self.ok, "errors": self.errors, "warnings": self.warnings}


def _connection() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    for name, table in TABLES.items():
        columns = ", ".join(f'"{column}"' for column in table.columns)
        conn.execute(f'CREATE TABLE "{name}" ({columns})')
    for function in OSQUERY_FUNCTIONS:
        conn.create_function(function, -1, lambda *args: None)
    return conn


def sql_check(sql: str) -> SqlCheck:
    result = SqlCheck()
    if not isinstance(sql, str) or not sql.strip():
        result.errors.append("the query is empty")
        return result
    if len(sql.encode()) > MAX_SQL_BYTES:
        result.errors.append(f"the query is longer than {MAX_SQL_BYTES} bytes")
        return result
    if "\x00" in sql:
        result.errors.append("the query contains a NUL character")
        return result
    conn = _connection()
    unknown_tables: list[str] = []
    try:
        # Each unknown table is created empty so the rest of the statement still gets checked;
        # its columns cannot be, so name errors after that are not reported.
        for _ in range(20):
            try:
                conn.execute("EXPLAIN " + sql.strip())
                break
            except sqlite3.ProgrammingError as exc:  # more than one statement
                result.errors.append(f"only one statement is allowed ({exc})")
                break
            except sqlite3.Warning as exc:
                result.errors.append(f"only one statement is allowed ({exc})")
                break
            except sqlite3.Error as exc:
                message = str(exc)
                missing = _NO_SUCH_TABLE.search(message)
                if missing and missing.group(1) not in unknown_tables:
                    name = missing.group(1)
                    unknown_tables.append(name)
                    conn.execute(f'CREATE TABLE "{name.replace(chr(34), "")}" (_unknown)')
                    continue
                if unknown_tables:
                    # SQLite resolves names only after the whole statement parsed, so the syntax
                    # is fine; what remains depends on the unknown tables' columns.
                    break
                result.errors.append(_explain(message))
                break
    finally:
        conn.close()
    if result.ok and not _READ_ONLY_START.match(sql):
        result.errors.append("only read statements (SELECT, WITH, PRAGMA) can run on hosts")
    for name in unknown_tables:
        result.warnings.append(
            f"table {name!r} is not in the osquery table reference; it must come from an extension on the host"
        )
    return result


def _explain(message: str) -> str:
    if message.startswith("no such column"):
        return f"{message} (not a column of the osquery tables used; see the table reference)"
    if message.startswith("no such function"):
        return f"{message} (neither SQLite nor osquery provide it)"
    return f"SQL error: {message}"


def validate_osquery_sql(sql: str) -> None:
    """Model/form validator: raises ValidationError with every error found."""
    check = sql_check(sql)
    if not check.ok:
        raise ValidationError(check.errors)
