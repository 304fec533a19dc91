"""Import osquery pack files into packs, queries and scheduled queries.

Scheduled query names are the pack's query keys, exactly what osquery logs as
`pack/<pack>/<key>`. Each key's SQL is stored as a Query named after the key; when another pack
already uses that name for different SQL, the Query is named `<pack>/<key>` instead.

Targeting: a pack with a `platform` is sent to hosts of the matching platforms (`posix` means
macOS and Linux, `ubuntu`/`centos` mean Linux, as in osquery's substring match). A pack without a
platform, or with `all`/`any`, is sent to every host, as it would run if put in an osquery config.
Label and host targets set by operators are kept across re-imports.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from .config_size import config_size_check
from .models import Query, ScheduledQuery
from .packs_conf import ParsedFile, ParsedPack, ParsedQuery
from .specs.writers import PackSpec, ScheduledSpec, Status, pack_upsert, query_upsert

ALL_PLATFORMS = ("darwin", "linux", "windows")


def target_platforms_for(platform: str) -> str:
    """The server-side platform targets for an osquery pack `platform` filter."""
    value = platform.lower()
    if not value.strip() or "all" in value or "any" in value:
        return ",".join(ALL_PLATFORMS)
    matched = []
    if "darwin" in value or "posix" in value:
        matched.append("darwin")
    if any(name in value for name in ("linux", "ubuntu", "centos", "posix")):
        matched.append("linux")
    if "windows" in value:
        matched.append("windows")
    return ",".join(matched)


@dataclass
class PackImportReport:
    outcomes: list[tuple[str, str, Status]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"{kind} {name!r}: {status}" for kind, name, status in self.outcomes]
        return out + [f"warning: {warning}" for warning in self.warnings]


def _query_for(pack: ParsedPack, parsed: ParsedQuery) -> tuple[Query, Status]:
    current = ScheduledQuery.objects.filter(pack__name=pack.name, name=parsed.name).select_related("query").first()
    fields = {
        "sql": parsed.sql,
        "description": parsed.description,
        "platform": parsed.platform,
        "min_osquery_version": parsed.version,
    }
    for name in (parsed.name, f"{pack.name}/{parsed.name}"):
        existing = Query.objects.filter(name=name).first()
        owned = current is not None and existing is not None and current.query_id == existing.pk
        if existing is None or existing.sql == parsed.sql or owned:
            return query_upsert(name=name, **fields)
    raise ValidationError(
        f"pack {pack.name!r}: query {parsed.name!r}: the names {parsed.name!r} and {pack.name}/{parsed.name!r} "
        "are taken by queries with different SQL"
    )


@transaction.atomic
def pack_import(*, parsed: ParsedFile) -> PackImportReport:
    """Create or update every pack in `parsed` to match it; raise ValidationError (nothing written)
    when a name clashes or the resulting config would be too big for osquery."""
    report = PackImportReport(warnings=parsed.all_warnings)
    for pack in parsed.packs:
        scheduled = []
        for parsed_query in pack.queries:
            query, status = _query_for(pack, parsed_query)
            report.outcomes.append(("query", query.name, status))
            scheduled.append(
                ScheduledSpec(
                    name=parsed_query.name,
                    query=query,
                    interval=parsed_query.interval,
                    logging=parsed_query.logging,
                    description=parsed_query.description,
                    platform=parsed_query.platform,
                    min_osquery_version=parsed_query.version,
                    shard=parsed_query.shard,
                    denylist=parsed_query.denylist,
                )
            )
        targets = target_platforms_for(pack.platform)
        if not targets:
            report.warnings.append(f"pack {pack.name!r}: platform {pack.platform!r} matches no host platform")
        _, status = pack_upsert(
            spec=PackSpec(
                name=pack.name,
                scheduled=scheduled,
                platform=pack.platform,
                min_osquery_version=pack.version,
                shard=pack.shard,
                discovery=pack.discovery,
                target_platforms=targets,
            )
        )
        report.outcomes.append(("pack", pack.name, status))
    config_size_check()
    return report
