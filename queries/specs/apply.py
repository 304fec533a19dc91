"""Apply Fleet-style YAML specs (`apiVersion: v1` documents) as one all-or-nothing change."""

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from ..config_size import config_size_check
from .documents import Document, SpecError, load_documents
from .kinds import HANDLERS, UNSUPPORTED_KINDS, KindResult, Outcome

_GITOPS_KEYS = {"agent_options", "org_settings", "controls", "policies", "queries", "labels", "software", "name"}


@dataclass
class ApplyReport:
    filename: str
    dry_run: bool = False
    outcomes: list[Outcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        for outcome in self.outcomes:
            counts[outcome.status] += 1
        return counts

    @property
    def changed(self) -> bool:
        return any(outcome.status != "unchanged" for outcome in self.outcomes)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data, for the API."""
        return {
            "file": self.filename,
            "dry_run": self.dry_run,
            "counts": self.counts(),
            "objects": [
                {"kind": o.kind, "name": o.name, "status": o.status, "document": o.document, "line": o.line}
                for o in self.outcomes
            ],
            "warnings": list(self.warnings),
        }

    def lines(self) -> list[str]:
        out = [f"{o.kind} {o.name!r}: {o.status}" for o in self.outcomes]
        out += [f"warning: {w}" for w in self.warnings]
        counts = self.counts()
        prefix = "dry run, nothing written: " if self.dry_run else ""
        out.append(f"{prefix}{counts['created']} created, {counts['updated']} updated, {counts['unchanged']} unchanged")
        return out


class _DryRunRollback(Exception):
    pass


def _check_header(doc: Document) -> None:
    if not isinstance(doc.data, dict):
        if isinstance(doc.data, list):
            raise doc.error(
                "a list without 'apiVersion'/'kind': this looks like a Fleet gitops file, which fleetweb does not "
                "read; write each item as an 'apiVersion: v1' document with a 'kind'"
            )
        raise doc.error("each document must be a mapping with apiVersion, kind and spec")
    kind = doc.data.get("kind")
    if kind is None:
        if _GITOPS_KEYS & set(doc.data) or "config" in doc.data:
            raise doc.error(
                "no 'kind': this looks like a Fleet gitops file, which fleetweb does not read; use "
                "'apiVersion: v1' documents with kind query, pack, label, policy, config or enroll_secret"
            )
        raise doc.error("'kind' is missing")
    if doc.data.get("apiVersion") != "v1":
        raise doc.error(f"'apiVersion' must be v1, not {doc.data.get('apiVersion')!r}", "apiVersion")
    if kind in UNSUPPORTED_KINDS:
        raise doc.error(f"kind {kind!r} is not supported: {UNSUPPORTED_KINDS[kind]}", "kind")
    if kind not in HANDLERS:
        raise doc.error(f"unknown kind {kind!r}; use one of {', '.join(sorted(HANDLERS))}", "kind")
    if "spec" not in doc.data:
        raise doc.error("'spec' is missing")


def _check_duplicates(documents: list[Document]) -> list[str]:
    """Two different definitions of one object in a file would make the result depend on order
    (and a re-apply would flip it back); identical repeats are only noted."""
    seen: dict[tuple[str, str], Document] = {}
    warnings = []
    for doc in documents:
        spec = doc.data.get("spec")
        if doc.kind not in ("query", "label", "policy", "pack") or not isinstance(spec, dict):
            continue
        key = (doc.kind, str(spec.get("name")))
        first = seen.setdefault(key, doc)
        if first is doc:
            continue
        if first.data["spec"] != spec:
            raise doc.error(
                f"{doc.kind} {key[1]!r} is also defined, differently, in document {first.index} (line {first.line()})",
                "spec",
                "name",
            )
        warnings.append(f"{doc.filename}:{doc.line()}: {doc.kind} {key[1]!r} repeats document {first.index}")
    return warnings


def apply_spec_text(text: str, filename: str, *, dry_run: bool = False) -> ApplyReport:
    """Apply every document in `text`, or nothing: any error raises SpecError and rolls back.

    With dry_run the whole apply runs (so references and sizes are checked) inside a transaction
    that is then rolled back; the report says what would have happened.
    """
    documents = load_documents(text, filename)
    for doc in documents:
        _check_header(doc)
    duplicate_warnings = _check_duplicates(documents)
    ordered = sorted(documents, key=lambda d: (HANDLERS[d.kind][0], d.index))
    report = ApplyReport(filename=filename, dry_run=dry_run)
    try:
        with transaction.atomic():
            result = KindResult()
            for doc in ordered:
                try:
                    HANDLERS[doc.kind][1](doc, result)
                except ValidationError as exc:
                    raise doc.error("; ".join(exc.messages)) from None
            try:
                config_size_check()
            except ValidationError as exc:
                raise SpecError(filename, 1, exc.messages[0]) from None
            report.outcomes = sorted(result.outcomes, key=lambda o: (o.document, o.kind, o.name))
            report.warnings = duplicate_warnings + result.warnings
            if dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        pass
    return report
