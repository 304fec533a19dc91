"""Multi-row INSERT for the forwarding hot path. The ORM's bulk_create spends more time preparing
each field than the database spends storing the rows; these inserts take plain values."""

from collections.abc import Sequence
from typing import Any

from django.db import connection, models

CHUNK = 1000


def insert_rows(
    model: type[models.Model], columns: Sequence[str], values: list[tuple[Any, ...]], *, ignore: bool
) -> None:
    """Insert `values` (tuples in `columns` order, already in database form). With `ignore`,
    rows that hit a unique key are skipped (MariaDB INSERT IGNORE / SQLite INSERT OR IGNORE)."""
    if not values:
        return
    verb = "INSERT INTO"
    if ignore:
        verb = "INSERT IGNORE INTO" if connection.vendor == "mysql" else "INSERT OR IGNORE INTO"
    sql = _insert_sql(verb, model, columns)
    with connection.cursor() as cursor:
        for start in range(0, len(values), CHUNK):
            cursor.executemany(sql, values[start : start + CHUNK])


def insert_row(model: type[models.Model], columns: Sequence[str], values: tuple[Any, ...]) -> int:
    """Insert one row (values in `columns` order, already in database form) and return its id:
    the statement the ORM would send, without building a model instance and compiling a query."""
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql("INSERT INTO", model, columns), values)
        return int(cursor.lastrowid)


def _insert_sql(verb: str, model: type[models.Model], columns: Sequence[str]) -> str:
    # Table and column names come from the model, never from input; values are parameters.
    quote = connection.ops.quote_name
    return (
        f"{verb} {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
