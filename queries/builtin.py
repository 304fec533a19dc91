"""Content every fleetweb install has: platform labels, default agent options, the macOS pack.

`builtin_load()` is idempotent: it creates what is missing and puts the built-in labels and pack
back to their definitions, but never overwrites agent options an operator has set.
"""

from dataclasses import dataclass

from django.db import transaction

from .agent_options import DEFAULT_AGENT_OPTIONS
from .config_size import config_size_check
from .models import AgentOptions, Label, ScheduledQuery
from .specs.writers import PackSpec, ScheduledSpec, Status, model_upsert, pack_upsert, query_upsert

# (name, builtin_platform, description)
BUILTIN_LABELS = [
    ("All Hosts", "all", "Every enrolled host."),
    ("macOS", "darwin", "Hosts running macOS."),
    ("All Linux", "linux", "Hosts running any Linux distribution."),
    ("MS Windows", "windows", "Hosts running Windows."),
]

# Flags the evented tables of the macOS pack need at agent start (protocol doc §11.1): event
# publishers are set up before the config arrives, so these belong in the flags file.
# process_events on macOS reads OpenBSM; audit must be on and osquery allowed to configure it.
# events_expiry keeps buffered events at least as long as the pack's process_events interval.
BUILTIN_AGENT_FLAGS = [
    "--disable_events=false",
    "--disable_audit=false",
    "--audit_allow_config=true",
    "--audit_allow_process_events=true",
    "--events_expiry=3600",
]

MACOS_PACK_NAME = "macos"
MACOS_LABEL_NAME = "macOS"

SNAPSHOT = ScheduledQuery.Logging.SNAPSHOT
DIFFERENTIAL = ScheduledQuery.Logging.DIFFERENTIAL


@dataclass(frozen=True)
class BuiltinQuery:
    name: str  # the scheduled query name, as logged: pack/macos/<name>
    description: str
    sql: str
    logging: str
    interval: int


# Every column is written alias.column so tests can check each name against osquery's schemas.
MACOS_QUERIES = [
    BuiltinQuery(
        "installed_software",
        "Installed applications.",
        "SELECT a.name, a.path, a.bundle_identifier, a.bundle_short_version, a.bundle_version, "
        "a.last_opened_time FROM apps AS a;",
        SNAPSHOT,
        86400,
    ),
    BuiltinQuery(
        "shell_history",
        "Commands in every user's shell history.",
        "SELECT u.username, h.uid, h.time, h.command, h.history_file "
        "FROM users AS u CROSS JOIN shell_history AS h USING (uid);",
        DIFFERENTIAL,
        900,
    ),
    BuiltinQuery(
        "network_interfaces",
        "Network interfaces and their counters.",
        "SELECT i.interface, i.mac, i.type, i.mtu, i.flags, i.link_speed, i.ipackets, i.opackets, i.ibytes, "
        "i.obytes, i.ierrors, i.oerrors, i.last_change FROM interface_details AS i;",
        SNAPSHOT,
        86400,
    ),
    BuiltinQuery(
        "network_connections",
        "Open network connections with the process and user that own them.",
        "SELECT s.pid, p.name, p.path, u.username, s.family, s.protocol, s.local_address, s.local_port, "
        "s.remote_address, s.remote_port, s.state FROM process_open_sockets AS s "
        "JOIN processes AS p ON p.pid = s.pid LEFT JOIN users AS u ON u.uid = p.uid "
        "WHERE s.remote_port != 0 AND s.remote_address NOT IN ('', '0.0.0.0', '::', '127.0.0.1', '::1');",
        DIFFERENTIAL,
        3600,
    ),
    BuiltinQuery(
        "process_events",
        "Processes started since the last run (OpenBSM; needs the audit flags).",
        "SELECT e.pid, e.parent, e.path, e.cmdline, e.cwd, e.uid, e.euid, e.gid, e.auid, e.status, e.time "
        "FROM process_events AS e;",
        DIFFERENTIAL,
        3600,
    ),
    BuiltinQuery(
        "autostart_startup_items",
        "Launch agents, launch daemons and login items.",
        "SELECT si.name, si.path, si.args, si.type, si.source, si.status, si.username FROM startup_items AS si;",
        DIFFERENTIAL,
        900,
    ),
    BuiltinQuery(
        "autostart_crontab",
        "Cron jobs.",
        "SELECT c.event, c.minute, c.hour, c.day_of_month, c.month, c.day_of_week, c.command, c.path "
        "FROM crontab AS c;",
        DIFFERENTIAL,
        900,
    ),
    BuiltinQuery(
        "logged_in_users",
        "Users logged in now.",
        "SELECT l.type, l.user, l.tty, l.host, l.time, l.pid FROM logged_in_users AS l;",
        SNAPSHOT,
        3600,
    ),
    BuiltinQuery(
        "protection_disk_encryption",
        "FileVault state of each volume.",
        "SELECT d.name, d.uuid, d.encrypted, d.type, d.encryption_status, d.filevault_status "
        "FROM disk_encryption AS d;",
        SNAPSHOT,
        86400,
    ),
    BuiltinQuery(
        "protection_sip",
        "System Integrity Protection settings.",
        "SELECT s.config_flag, s.enabled, s.enabled_nvram FROM sip_config AS s;",
        SNAPSHOT,
        86400,
    ),
    BuiltinQuery(
        "protection_gatekeeper",
        "Gatekeeper state.",
        "SELECT g.assessments_enabled, g.dev_id_enabled, g.version, g.opaque_version FROM gatekeeper AS g;",
        SNAPSHOT,
        86400,
    ),
    BuiltinQuery(
        "protection_firewall",
        "Application firewall state.",
        "SELECT f.global_state, f.stealth_enabled, f.logging_enabled, f.version FROM alf AS f;",
        SNAPSHOT,
        86400,
    ),
]


@transaction.atomic
def builtin_load() -> list[tuple[str, str, Status]]:
    """Create or restore the built-in content; returns (kind, name, status) per object."""
    results: list[tuple[str, str, Status]] = []
    labels: dict[str, Label] = {}
    for name, platform, description in BUILTIN_LABELS:
        label, status = model_upsert(
            Label,
            {"name": name},
            {
                "builtin_platform": platform,
                "description": description,
                "sql": "",
                "platform": "" if platform == "all" else platform,
                "membership": Label.Membership.DYNAMIC,
            },
        )
        labels[name] = label
        results.append(("label", name, status))
    if AgentOptions.objects.filter(pk=1).exists():
        results.append(("agent_options", "agent options", "unchanged"))
    else:
        AgentOptions.objects.create(pk=1, config=DEFAULT_AGENT_OPTIONS, overrides={})
        results.append(("agent_options", "agent options", "created"))
    scheduled = []
    for item in MACOS_QUERIES:
        query, status = query_upsert(
            name=f"macos_{item.name}", sql=item.sql, description=item.description, platform="darwin"
        )
        results.append(("query", query.name, status))
        scheduled.append(
            ScheduledSpec(
                name=item.name,
                query=query,
                interval=item.interval,
                logging=item.logging,
                description=item.description,
            )
        )
    _, status = pack_upsert(
        spec=PackSpec(
            name=MACOS_PACK_NAME,
            scheduled=scheduled,
            description="Must-have macOS inventory and security telemetry.",
            platform="darwin",
            target_labels=[labels[MACOS_LABEL_NAME]],
            builtin=True,
        )
    )
    results.append(("pack", MACOS_PACK_NAME, status))
    config_size_check()
    return results
