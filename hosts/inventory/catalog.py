"""The detail queries ("host vitals") sent to each platform.

Each entry names the query (sent as `fleetweb_detail_<name>`), the platforms it is for, and, for
tables that may be missing on some agents, a discovery query that checks the table is registered:
osquery then skips the query silently instead of failing it.
"""

from dataclasses import dataclass

ALL = ("darwin", "linux", "windows", "other")
UNIX = ("darwin", "linux", "other")


def _has_table(name: str) -> str:
    # `name` is one of the constant table names below, never outside input.
    return f"SELECT 1 FROM osquery_registry WHERE registry = 'table' AND name = '{name}' AND active = 1;"  # noqa: S608  # nosec B608


@dataclass(frozen=True)
class DetailQuery:
    name: str
    sql: str
    platforms: tuple[str, ...] = ALL
    discovery: str = ""


CATALOG: tuple[DetailQuery, ...] = (
    DetailQuery(
        "os_version",
        "SELECT name, version, major, minor, patch, build, platform, platform_like, codename, arch "
        "FROM os_version LIMIT 1;",
    ),
    DetailQuery(
        "osquery_info",
        "SELECT version, config_hash, config_valid, build_platform, uuid FROM osquery_info LIMIT 1;",
    ),
    DetailQuery(
        "system_info",
        "SELECT hostname, computer_name, uuid, hardware_serial, hardware_vendor, hardware_model, cpu_type, "
        "cpu_brand, cpu_physical_cores, cpu_logical_cores, physical_memory FROM system_info LIMIT 1;",
    ),
    DetailQuery("uptime", "SELECT total_seconds FROM uptime LIMIT 1;"),
    DetailQuery(
        "osquery_flags",
        "SELECT name, value FROM osquery_flags WHERE name IN "
        "('distributed_interval', 'config_tls_refresh', 'config_refresh', 'logger_tls_period');",
    ),
    DetailQuery(
        "network_interfaces",
        "SELECT ia.interface, ia.address, ia.mask, id.mac, "
        "(ia.interface IN (SELECT interface FROM routes WHERE destination IN ('0.0.0.0', '::') "
        "AND netmask = 0)) AS default_route "
        "FROM interface_addresses ia JOIN interface_details id ON id.interface = ia.interface;",
    ),
    DetailQuery(
        "disk_space_unix",
        "SELECT (blocks_available * blocks_size) AS bytes_available, (blocks * blocks_size) AS bytes_total "
        "FROM mounts WHERE path = '/' LIMIT 1;",
        UNIX,
    ),
    DetailQuery(
        "disk_space_windows",
        "SELECT free_space AS bytes_available, size AS bytes_total FROM logical_drives WHERE device_id = 'C:' LIMIT 1;",
        ("windows",),
    ),
    # `type` exists only in the Windows users table.
    DetailQuery(
        "users",
        "SELECT uid, username, description, directory, shell FROM users "
        "WHERE shell NOT LIKE '%/false' AND shell NOT LIKE '%/nologin';",
        UNIX,
    ),
    DetailQuery(
        "users_windows",
        "SELECT uid, username, description, directory, shell, type FROM users WHERE type = 'local';",
        ("windows",),
    ),
    DetailQuery(
        "software_macos",
        "SELECT name, bundle_short_version AS version, 'apps' AS source, bundle_identifier, path AS install_path "
        "FROM apps;",
        ("darwin",),
    ),
    DetailQuery(
        "software_homebrew",
        "SELECT name, version, 'homebrew_packages' AS source, '' AS bundle_identifier, path AS install_path "
        "FROM homebrew_packages;",
        ("darwin",),
        _has_table("homebrew_packages"),
    ),
    DetailQuery(
        "software_deb",
        "SELECT name, version, 'deb_packages' AS source, '' AS bundle_identifier, '' AS install_path "
        "FROM deb_packages;",
        ("linux",),
        _has_table("deb_packages"),
    ),
    DetailQuery(
        "software_rpm",
        "SELECT name, version || '-' || release AS version, 'rpm_packages' AS source, '' AS bundle_identifier, "
        "'' AS install_path FROM rpm_packages;",
        ("linux",),
        _has_table("rpm_packages"),
    ),
    DetailQuery(
        "software_windows",
        "SELECT name, version, 'programs' AS source, '' AS bundle_identifier, install_location AS install_path "
        "FROM programs;",
        ("windows",),
    ),
    DetailQuery(
        "disk_encryption_darwin",
        "SELECT de.encrypted FROM disk_encryption de JOIN mounts m ON m.device_alias = de.name WHERE m.path = '/';",
        ("darwin",),
    ),
    DetailQuery(
        "disk_encryption_linux",
        "SELECT de.encrypted FROM disk_encryption de JOIN mounts m ON m.device = de.name WHERE m.path = '/';",
        ("linux",),
    ),
    DetailQuery(
        "disk_encryption_windows",
        "SELECT protection_status AS encrypted FROM bitlocker_info WHERE drive_letter = 'C:';",
        ("windows",),
    ),
    DetailQuery("sip", "SELECT enabled FROM sip_config WHERE config_flag = 'sip';", ("darwin",)),
    DetailQuery("gatekeeper", "SELECT assessments_enabled FROM gatekeeper;", ("darwin",)),
    DetailQuery("alf", "SELECT global_state FROM alf;", ("darwin",)),
    DetailQuery(
        "scheduled_query_stats",
        "SELECT name, interval, executions, last_executed, denylisted, output_size, wall_time_ms, user_time, "
        "system_time, average_memory FROM osquery_schedule;",
    ),
)

BY_NAME = {q.name: q for q in CATALOG}


def detail_queries_for(platform: str) -> list[DetailQuery]:
    return [q for q in CATALOG if platform in q.platforms]
