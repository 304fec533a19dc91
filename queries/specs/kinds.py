"""One handler per spec kind: read a document, validate it, write it through the writers."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from ..agent_options import validate_agent_options
from ..models import Label, Query, ScheduledQuery
from ..validators import validate_interval, validate_schedule_name
from .documents import Document
from .fields import SpecReader
from .writers import (
    PackSpec,
    ScheduledSpec,
    Status,
    agent_options_set,
    enroll_secrets_set,
    hosts_find,
    label_upsert,
    pack_upsert,
    policy_upsert,
    query_upsert,
)

# Fleet fields with no fleetweb meaning; accepted so Fleet's own exports apply.
_FLEET_QUERY_EXTRAS = {
    "id",
    "interval",
    "logging",
    "observer_can_run",
    "automations_enabled",
    "discard_data",
    "labels_include_any",
    "labels_include_all",
    "labels_exclude_any",
    "saved",
    "author_id",
    "author_name",
    "author_email",
    "created_at",
    "updated_at",
    "packs",
    "stats",
}
_FLEET_POLICY_EXTRAS = {
    "id",
    "platforms",
    "purpose",
    "tags",
    "contributors",
    "calendar_events_enabled",
    "conditional_access_enabled",
    "install_software",
    "run_script",
    "script",
    "labels_include_any",
    "labels_exclude_any",
    "type",
    "author_id",
    "author_name",
    "author_email",
    "created_at",
    "updated_at",
}


@dataclass
class Outcome:
    kind: str
    name: str
    status: Status
    document: int
    line: int


@dataclass
class KindResult:
    outcomes: list[Outcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _min_version(value: str) -> str:
    return "" if value.strip().lower() == "all" else value.strip()


def apply_query(doc: Document, result: KindResult) -> None:
    spec = SpecReader(doc, doc.data.get("spec"))
    spec.no_team()
    name = spec.text("name", required=True)
    known = {"name", "query", "description", "platform", "min_osquery_version", "team", "team_id"}
    result.warnings += spec.unknown_keys(known, _FLEET_QUERY_EXTRAS)
    if spec.integer("interval", 0):
        result.warnings.append(
            f"{doc.filename}:{doc.line('spec', 'interval')}: query {name!r}: 'interval' ignored; "
            "fleetweb schedules queries through packs"
        )
    _, status = query_upsert(
        name=name,
        sql=spec.text("query", required=True),
        description=spec.text("description"),
        platform=spec.text("platform"),
        min_osquery_version=_min_version(spec.text("min_osquery_version")),
    )
    result.outcomes.append(Outcome("query", name, status, doc.index, doc.line()))


def apply_policy(doc: Document, result: KindResult) -> None:
    spec = SpecReader(doc, doc.data.get("spec"))
    spec.no_team()
    name = spec.text("name", required=True)
    known = {"name", "query", "description", "resolution", "platform", "critical", "team", "team_id"}
    result.warnings += spec.unknown_keys(known, _FLEET_POLICY_EXTRAS)
    _, status = policy_upsert(
        name=name,
        sql=spec.text("query", required=True),
        description=spec.text("description"),
        resolution=spec.text("resolution"),
        platform=spec.text("platform"),
        critical=spec.flag("critical", False),
    )
    result.outcomes.append(Outcome("policy", name, status, doc.index, doc.line()))


def apply_label(doc: Document, result: KindResult) -> None:
    spec = SpecReader(doc, doc.data.get("spec"))
    name = spec.text("name", required=True)
    known = {"name", "query", "description", "platform", "platforms", "label_membership_type", "hosts", "label_type"}
    result.warnings += spec.unknown_keys(known, {"id", "created_at", "updated_at", "host_count", "display_text"})
    membership = spec.text("label_membership_type", default=Label.Membership.DYNAMIC)
    if membership not in Label.Membership.values:
        raise spec.error("'label_membership_type' must be dynamic or manual", "label_membership_type")
    platform = spec.text("platform") if "platform" in spec.spec else ",".join(spec.text_list("platforms"))
    sql = spec.text("query", required=membership == Label.Membership.DYNAMIC)
    # kolide's examples name a query instead of giving SQL; a bare identifier that names a
    # known query is read that way.
    if re.fullmatch(r"[A-Za-z_][\w-]*", sql) and (named := Query.objects.filter(name=sql).first()):
        result.warnings.append(
            f"{doc.filename}:{doc.line('spec', 'query')}: label {name!r}: 'query' names the query {sql!r}; "
            "its SQL is used"
        )
        sql = named.sql
    hosts = None
    if membership == Label.Membership.MANUAL:
        identifiers = spec.text_list("hosts")
        hosts, missing = hosts_find(identifiers)
        if missing:
            raise spec.error(
                f"no host with hostname, UUID or serial {missing[0]!r}", "hosts", identifiers.index(missing[0])
            )
    existing = Label.objects.filter(name=name).first()
    if existing is not None and existing.is_builtin:
        if (existing.sql, existing.description, existing.platform, existing.membership) != (
            sql,
            spec.text("description"),
            platform,
            membership,
        ):
            raise spec.error(f"label {name!r} is built in and cannot be changed", "name")
        result.outcomes.append(Outcome("label", name, "unchanged", doc.index, doc.line()))
        return
    _, status = label_upsert(
        name=name,
        sql=sql,
        description=spec.text("description"),
        platform=platform,
        membership=membership,
        hosts=hosts,
    )
    result.outcomes.append(Outcome("label", name, status, doc.index, doc.line()))


def _logging(item: SpecReader) -> str:
    logging = item.text("logging")
    if logging:
        if logging not in ScheduledQuery.Logging.values:
            raise item.error(f"'logging' must be one of {', '.join(ScheduledQuery.Logging.values)}", "logging")
        return logging
    if item.flag("snapshot", False):
        return ScheduledQuery.Logging.SNAPSHOT
    if not item.flag("removed", True):
        return ScheduledQuery.Logging.DIFFERENTIAL_IGNORE_REMOVALS
    return ScheduledQuery.Logging.DIFFERENTIAL


def _scheduled(doc: Document, index: int, raw: Any) -> ScheduledSpec:
    item = SpecReader(doc, raw, ("spec", "queries", index))
    query_name = item.text("query", required=True)
    query = Query.objects.filter(name=query_name).first()
    if query is None:
        raise item.error(f"no query named {query_name!r} in this file or the database", "query")
    name = item.text("name", default=query_name)
    try:
        validate_schedule_name(name)
    except ValidationError as exc:
        raise item.error(exc.messages[0], "name") from None
    try:
        interval = validate_interval(item.spec.get("interval", 3600))
    except ValidationError as exc:
        raise item.error(exc.messages[0], "interval") from None
    shard = item.integer("shard", None)
    if shard is not None and shard > 100:
        raise item.error("'shard' must be 0..100", "shard")
    return ScheduledSpec(
        name=name,
        query=query,
        interval=interval,
        logging=_logging(item),
        description=item.text("description"),
        platform=item.text("platform"),
        min_osquery_version=_min_version(item.text("version")),
        shard=shard or None,
        denylist=item.flag("denylist", True),
    )


def apply_pack(doc: Document, result: KindResult) -> None:
    spec = SpecReader(doc, doc.data.get("spec"))
    name = spec.text("name", required=True)
    if "/" in name:
        raise spec.error("pack names cannot contain '/' (the pack delimiter)", "name")
    known = {"name", "description", "disabled", "platform", "version", "shard", "discovery", "targets", "queries"}
    result.warnings += spec.unknown_keys(known, {"id", "type", "created_at", "updated_at"})
    targets = SpecReader(doc, spec.mapping("targets"), ("spec", "targets"))
    if targets.text_list("teams"):
        raise targets.error("fleetweb has no teams; target labels, platforms or hosts instead", "teams")
    labels: list[Label] = []
    for index, label_name in enumerate(targets.text_list("labels")):
        label = Label.objects.filter(name=label_name).first()
        if label is None:
            raise targets.error(f"no label named {label_name!r} in this file or the database", "labels", index)
        labels.append(label)
    platforms = targets.text_list("platforms")
    for index, platform in enumerate(platforms):
        if platform not in ("darwin", "linux", "windows"):
            raise targets.error(f"unknown platform {platform!r}; use darwin, linux or windows", "platforms", index)
    host_ids = targets.text_list("hosts")
    hosts, missing = hosts_find(host_ids)
    if missing:
        raise targets.error(
            f"no host with hostname, UUID or serial {missing[0]!r}", "hosts", host_ids.index(missing[0])
        )
    raw_queries = spec.spec.get("queries") or []
    if not isinstance(raw_queries, list):
        raise spec.error("'queries' must be a list", "queries")
    scheduled: list[ScheduledSpec] = []
    for index, raw in enumerate(raw_queries):
        sq = _scheduled(doc, index, raw)
        if any(other.name == sq.name for other in scheduled):
            raise doc.error(f"two queries in pack {name!r} are named {sq.name!r}", "spec", "queries", index)
        scheduled.append(sq)
    shard = spec.integer("shard", None)
    if shard is not None and shard > 100:
        raise spec.error("'shard' must be 0..100", "shard")
    raw_discovery = spec.spec.get("discovery")
    # SQL holds commas, so a single string is one query, not a comma list.
    discovery = [raw_discovery] if isinstance(raw_discovery, str) else spec.text_list("discovery")
    _, status = pack_upsert(
        spec=PackSpec(
            name=name,
            scheduled=scheduled,
            description=spec.text("description"),
            disabled=spec.flag("disabled", False),
            platform=spec.text("platform"),
            min_osquery_version=_min_version(spec.text("version")),
            shard=shard or None,
            discovery=discovery,
            target_platforms=",".join(platforms),
            target_labels=labels,
            target_hosts=hosts,
        )
    )
    result.outcomes.append(Outcome("pack", name, status, doc.index, doc.line()))


_OPTIONS_PATH = re.compile(r"^((?:config|overrides)(?:\.[\w-]+)*)")


def _apply_agent_options(doc: Document, raw: Any, path: tuple[Any, ...], result: KindResult) -> None:
    options = SpecReader(doc, raw, path)
    config = options.mapping("config")
    overrides = options.mapping("overrides")
    if options.spec.get("command_line_flags"):
        result.warnings.append(
            f"{doc.filename}:{doc.line(*path, 'command_line_flags')}: 'command_line_flags' ignored; "
            "fleetweb writes agent flags into the generated flags file"
        )
    try:
        validate_agent_options(config, overrides)
    except ValidationError as exc:
        message = exc.messages[0]
        match = _OPTIONS_PATH.match(message)
        keys = match.group(1).split(".") if match else []
        raise doc.error(f"agent options: {message}", *path, *keys) from None
    _, status = agent_options_set(config=config, overrides=overrides)
    result.outcomes.append(Outcome("agent_options", "agent options", status, doc.index, doc.line(*path)))


def _apply_secrets(doc: Document, raw: Any, path: tuple[Any, ...], result: KindResult) -> None:
    if not isinstance(raw, list):
        raise doc.error("'secrets' must be a list of {secret: ...}", *path)
    secrets: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        entry = SpecReader(doc, item, (*path, index))
        secret = entry.text("secret", required=True)
        if any(s["secret"] == secret for s in secrets):
            raise entry.error("this secret is listed twice", "secret")
        secrets.append({"secret": secret, "name": entry.text("name"), "active": entry.flag("active", True)})
    try:
        statuses = enroll_secrets_set(secrets=secrets)
    except ValidationError as exc:
        raise doc.error(exc.messages[0], *path) from None
    for name, status in statuses.items():
        result.outcomes.append(Outcome("enroll_secret", name, status, doc.index, doc.line(*path)))


def apply_enroll_secret(doc: Document, result: KindResult) -> None:
    spec = SpecReader(doc, doc.data.get("spec"))
    _apply_secrets(doc, spec.spec.get("secrets"), ("spec", "secrets"), result)


def apply_options(doc: Document, result: KindResult) -> None:
    """kolide/fleet 2.x `options`: the spec is the agent options themselves."""
    _apply_agent_options(doc, doc.data.get("spec"), ("spec",), result)


def apply_config(doc: Document, result: KindResult) -> None:
    spec = SpecReader(doc, doc.data.get("spec"))
    if "agent_options" in spec.spec:
        _apply_agent_options(doc, spec.spec["agent_options"], ("spec", "agent_options"), result)
    if spec.spec.get("secrets") is not None:
        _apply_secrets(doc, spec.spec["secrets"], ("spec", "secrets"), result)
    ignored = sorted(set(spec.spec) - {"agent_options", "secrets"}, key=str)
    if ignored:
        result.warnings.append(
            f"{doc.filename}:{doc.line('spec', ignored[0])}: Fleet settings fleetweb does not use were ignored: "
            + ", ".join(map(str, ignored))
        )


# Application order: what others refer to comes first, so a pack may name a query or label
# defined anywhere in the same file.
HANDLERS: dict[str, tuple[int, Callable[[Document, KindResult], None]]] = {
    "query": (0, apply_query),
    "label": (1, apply_label),
    "pack": (2, apply_pack),
    "policy": (3, apply_policy),
    "options": (4, apply_options),
    "config": (4, apply_config),
    "enroll_secret": (5, apply_enroll_secret),
}
UNSUPPORTED_KINDS = {
    "team": "fleetweb has no teams",
    "built-in": "Fleet's built-in query catalogue entries are documentation, not appliable specs",
}
