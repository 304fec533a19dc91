"""The benchmark's fleet configuration: the macOS must-have pack, 6 dynamic labels, 6 policies.

Idempotent, so a re-run of `make bench` on the same database changes nothing. The pack reads the
tables of the macOS must-have list (protocol doc §11) at intervals an operator would pick.
"""

ENROLL_SECRET = "bench-enroll-secret-4Jp7Qx"

MUST_HAVE_MACOS: list[tuple[str, str, int]] = [
    ("apps", "SELECT name, path, bundle_identifier, bundle_short_version, last_opened_time FROM apps;", 3600),
    (
        "shell_history",
        "SELECT u.username, h.time, h.command FROM users u CROSS JOIN shell_history h USING (uid);",
        600,
    ),
    ("interface_details", "SELECT interface, mac, type, mtu, ipackets, opackets FROM interface_details;", 600),
    (
        "process_open_sockets",
        "SELECT pid, family, protocol, local_address, remote_address, local_port, remote_port "
        "FROM process_open_sockets WHERE remote_port != 0;",
        300,
    ),
    ("processes", "SELECT pid, name, path, cmdline, uid, resident_size, start_time FROM processes;", 300),
    ("users", "SELECT uid, gid, username, directory, shell FROM users;", 3600),
    ("process_events", "SELECT pid, path, cmdline, uid, parent, time FROM process_events;", 60),
    (
        "es_process_events",
        "SELECT pid, path, cmdline, username, signing_id, team_id, event_type, time FROM es_process_events;",
        60,
    ),
    ("startup_items", "SELECT name, path, type, source, status, username FROM startup_items;", 3600),
    ("crontab", "SELECT event, minute, hour, command, path FROM crontab;", 3600),
    ("logged_in_users", "SELECT type, user, tty, host, time FROM logged_in_users;", 600),
    ("disk_encryption", "SELECT name, encrypted, type, filevault_status FROM disk_encryption;", 3600),
    ("sip_config", "SELECT config_flag, enabled, enabled_nvram FROM sip_config;", 3600),
    ("gatekeeper", "SELECT assessments_enabled, dev_id_enabled, version FROM gatekeeper;", 3600),
    ("alf", "SELECT global_state, logging_enabled, stealth_enabled FROM alf;", 3600),
]

LABELS = [
    ("macOS 14", "SELECT 1 FROM os_version WHERE platform = 'darwin' AND major = '14';", "darwin"),
    ("Apple silicon", "SELECT 1 FROM system_info WHERE cpu_type LIKE 'arm64%';", ""),
    ("16 GB or more", "SELECT 1 FROM system_info WHERE physical_memory >= 17179869184;", ""),
    ("Has Slack", "SELECT 1 FROM apps WHERE bundle_identifier = 'com.tinyspeck.slackmacgap';", "darwin"),
    ("Docker installed", "SELECT 1 FROM processes WHERE name = 'com.docker.backend';", ""),
    ("osquery 5.23+", "SELECT 1 FROM osquery_info WHERE version >= '5.23';", ""),
]

POLICIES = [
    ("FileVault on", "SELECT 1 FROM disk_encryption WHERE filevault_status = 'on';", "darwin"),
    ("SIP enabled", "SELECT 1 FROM sip_config WHERE config_flag = 'sip' AND enabled = 1;", "darwin"),
    ("Gatekeeper on", "SELECT 1 FROM gatekeeper WHERE assessments_enabled = 1;", "darwin"),
    ("Firewall on", "SELECT 1 FROM alf WHERE global_state >= 1;", "darwin"),
    ("No root SSH keys", "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM users WHERE uid = 0 AND shell = '');", ""),
    ("osquery current", "SELECT 1 FROM osquery_info WHERE version >= '5.20';", ""),
]


def seed() -> None:
    from hosts.models import EnrollSecret
    from queries.agent_config import config_generation_bump
    from queries.models import Label, Pack, Policy, Query, ScheduledQuery

    EnrollSecret.objects.get_or_create(name="bench", defaults={"secret": ENROLL_SECRET})
    pack, _ = Pack.objects.get_or_create(
        name="macos-must-have", defaults={"target_platforms": "darwin", "platform": "darwin"}
    )
    for name, sql, interval in MUST_HAVE_MACOS:
        query, _ = Query.objects.get_or_create(name=f"macos_{name}", defaults={"sql": sql, "platform": "darwin"})
        ScheduledQuery.objects.get_or_create(pack=pack, name=name, defaults={"query": query, "interval": interval})
    for name, sql, platform in LABELS:
        Label.objects.get_or_create(name=name, defaults={"sql": sql, "platform": platform})
    for name, sql, platform in POLICIES:
        Policy.objects.get_or_create(name=name, defaults={"sql": sql, "platform": platform})
    config_generation_bump()


if __name__ == "__main__":
    import django

    django.setup()
    seed()
