"""Typed reads of spec fields that fail with the line of the offending value."""

from typing import Any

from .documents import Document


class SpecReader:
    """Reads one document's `spec` mapping; every failure points at the value's line."""

    def __init__(self, doc: Document, spec: Any, path: tuple[Any, ...] = ("spec",)) -> None:
        if not isinstance(spec, dict):
            raise doc.error("'spec' must be a mapping", *path)
        self.doc = doc
        self.spec = spec
        self.path = path

    def at(self, *keys: Any) -> tuple[Any, ...]:
        return (*self.path, *keys)

    def error(self, message: str, *keys: Any) -> Exception:
        return self.doc.error(message, *self.at(*keys))

    def text(self, key: str, *, required: bool = False, default: str = "") -> str:
        value = self.spec.get(key)
        if value is None or value == "":
            if required:
                raise self.error(f"'{key}' is required", key)
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error(f"'{key}' must be a string", key)
        return str(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.spec.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(f"'{key}' must be true or false", key)
        return value

    def integer(self, key: str, default: int | None) -> int | None:
        value = self.spec.get(key)
        if value is None or value == "":
            return default
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
            raise self.error(f"'{key}' must be a whole number", key)
        return int(value)

    def text_list(self, key: str) -> list[str]:
        value = self.spec.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list):
            raise self.error(f"'{key}' must be a list of strings", key)
        for index, item in enumerate(value):
            if not isinstance(item, str | int) or isinstance(item, bool):
                raise self.error(f"'{key}' item {index + 1} must be a string", key, index)
        return [str(item) for item in value]

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.spec.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(f"'{key}' must be a mapping", key)
        return value

    def no_team(self) -> None:
        for key in ("team", "team_id"):
            if self.spec.get(key) not in (None, "", 0):
                raise self.error(f"'{key}' is set, but fleetweb has no teams; remove it to apply this globally", key)

    def unknown_keys(self, known: set[str], ignored: set[str]) -> list[str]:
        """Warnings for keys neither read nor knowingly ignored."""
        unknown = sorted(set(self.spec) - known - ignored, key=str)
        if not unknown:
            return []
        line = self.doc.line(*self.at(unknown[0]))
        return [f"{self.doc.filename}:{line}: unknown key(s) {', '.join(map(str, unknown))} ignored"]
