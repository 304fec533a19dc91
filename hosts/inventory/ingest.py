"""Turn detail-query rows into inventory. Values arrive as strings (protocol §5.4).

`ingest_details` applies one host's batch of detail results: Host columns in one UPDATE, the
HostDetails row in one save, and each side table (users, software, interfaces, query stats)
replaced whole, so the SQL count depends on the number of tables, not rows.
"""

import ipaddress
from typing import Any

from django.db import transaction
from django.utils import timezone

from fleetweb.db import restart_on_deadlock

from ..identity import real_serial, real_uuid
from ..models import Host
from .models import HostDetails, HostInterface, HostQueryStat, HostSoftware, HostUser

_SOFTWARE = ("software_macos", "software_homebrew", "software_deb", "software_rpm", "software_windows")


def _int(value: Any) -> int:
    try:
        return max(0, int(str(value).strip() or 0))
    except ValueError:
        return 0


def _bool(value: Any) -> bool | None:
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on", "enabled"):
        return True
    if text in ("0", "false", "no", "off", "disabled"):
        return False
    return None


def _text(value: Any, size: int = 255) -> str:
    return str(value or "")[:size]


def _is_private_or_global(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast)


def primary_interface(rows: list[dict[str, str]]) -> dict[str, str] | None:
    """The interface the host talks through: an IPv4 on the default route, else any usable IPv4,
    else any usable IPv6."""
    usable = [r for r in rows if _is_private_or_global(r.get("address", ""))]
    for pick in (
        lambda r: r.get("default_route") == "1" and ":" not in r.get("address", ""),
        lambda r: ":" not in r.get("address", ""),
        lambda r: True,
    ):
        for row in usable:
            if pick(row):
                return row
    return None


@restart_on_deadlock
@transaction.atomic
def ingest_details(host_id: int, results: dict[str, list[dict[str, str]]]) -> dict[str, Any]:
    """Store one batch of successful detail results (name -> rows). Returns the Host fields set."""
    host_fields: dict[str, Any] = {}
    details, _ = HostDetails.objects.get_or_create(host_id=host_id)
    for name, rows in results.items():
        first = rows[0] if rows else {}
        if name == "os_version" and first:
            host_fields.update(
                os_name=_text(first.get("name")),
                os_version=_text(first.get("version")),
                os_build=_text(first.get("build")),
                platform_like=_text(first.get("platform_like")),
            )
        elif name == "osquery_info" and first:
            host_fields.update(
                osquery_version=_text(first.get("version"), 64),
                config_hash_reported=_text(first.get("config_hash"), 40),
            )
        elif name == "system_info" and first:
            serial = _text(first.get("hardware_serial"))
            host_fields.update(
                computer_name=_text(first.get("computer_name")),
                hardware_vendor=_text(first.get("hardware_vendor")),
                hardware_model=_text(first.get("hardware_model")),
            )
            if isinstance(first.get("hostname"), str) and first["hostname"]:
                host_fields["hostname"] = _text(first["hostname"])
            if real_uuid(first.get("uuid")):
                host_fields["uuid"] = real_uuid(first.get("uuid"))
            host_fields["hardware_serial"] = real_serial(serial)
            details.cpu_type = _text(first.get("cpu_type"), 64)
            details.cpu_brand = _text(first.get("cpu_brand"))
            details.cpu_physical_cores = _int(first.get("cpu_physical_cores"))
            details.cpu_logical_cores = _int(first.get("cpu_logical_cores"))
            details.physical_memory = _int(first.get("physical_memory"))
        elif name == "uptime" and first:
            details.uptime_seconds = _int(first.get("total_seconds"))
        elif name == "osquery_flags":
            flags = {r.get("name", ""): _int(r.get("value")) for r in rows}
            details.distributed_interval = flags.get("distributed_interval") or None
            # Agents that refresh their config over TLS report config_tls_refresh; older ones config_refresh.
            details.config_tls_refresh = flags.get("config_tls_refresh") or flags.get("config_refresh") or None
            details.logger_tls_period = flags.get("logger_tls_period") or None
        elif name == "network_interfaces":
            _replace_interfaces(host_id, rows, host_fields)
        elif name in ("disk_space_unix", "disk_space_windows") and first:
            details.disk_bytes_available = _int(first.get("bytes_available"))
            details.disk_bytes_total = _int(first.get("bytes_total"))
        elif name in ("users", "users_windows"):
            _replace_users(host_id, rows)
        elif name.startswith("disk_encryption_"):
            details.disk_encrypted = _bool(first.get("encrypted")) if first else False
        elif name == "sip" and first:
            details.sip_enabled = _bool(first.get("enabled"))
        elif name == "gatekeeper" and first:
            details.gatekeeper_enabled = _bool(first.get("assessments_enabled"))
        elif name == "alf" and first:
            # global_state: 0 off, 1 on for specific services, 2 block all incoming.
            details.firewall_enabled = _int(first.get("global_state")) > 0
        elif name == "scheduled_query_stats":
            _replace_query_stats(host_id, rows)
    software = {name: rows for name, rows in results.items() if name in _SOFTWARE}
    if software:
        _replace_software(host_id, software)
    details.details_updated_at = timezone.now()
    details.save()
    if host_fields:
        Host.objects.filter(pk=host_id).update(**host_fields)
    return host_fields


def _replace_interfaces(host_id: int, rows: list[dict[str, str]], host_fields: dict[str, Any]) -> None:
    HostInterface.objects.filter(host_id=host_id).delete()
    HostInterface.objects.bulk_create(
        [
            HostInterface(
                host_id=host_id,
                interface=_text(r.get("interface")),
                address=_text(r.get("address"), 64),
                mask=_text(r.get("mask"), 64),
                mac=_text(r.get("mac"), 64),
                default_route=r.get("default_route") == "1",
            )
            for r in rows
            if r.get("address")
        ],
        batch_size=500,
    )
    primary = primary_interface(rows)
    if primary:
        host_fields["primary_ip"] = _text(primary.get("address"), 64).split("%")[0]
        host_fields["primary_mac"] = _text(primary.get("mac"), 64)


def _replace_users(host_id: int, rows: list[dict[str, str]]) -> None:
    HostUser.objects.filter(host_id=host_id).delete()
    # bandit B604 sees `shell=` below: it is the users table's login-shell column.
    HostUser.objects.bulk_create(
        [
            HostUser(
                host_id=host_id,
                uid=_text(r.get("uid"), 64),
                username=_text(r.get("username")),
                description=_text(r.get("description")),
                directory=_text(r.get("directory"), 1024),
                shell=_text(r.get("shell")),  # nosec B604
                user_type=_text(r.get("type"), 32),
            )
            for r in rows
            if r.get("username")
        ],
        batch_size=500,
    )


def _replace_software(host_id: int, by_query: dict[str, list[dict[str, str]]]) -> None:
    sources = {r.get("source", "") for rows in by_query.values() for r in rows}
    # Only the sources reported in this batch are replaced: a homebrew query filtered out by
    # discovery must not wipe the apps list, and vice versa.
    HostSoftware.objects.filter(host_id=host_id, source__in=sources).delete()
    HostSoftware.objects.bulk_create(
        [
            HostSoftware(
                host_id=host_id,
                name=_text(r.get("name")),
                version=_text(r.get("version")),
                source=_text(r.get("source"), 64),
                bundle_identifier=_text(r.get("bundle_identifier")),
                install_path=_text(r.get("install_path"), 1024),
            )
            for rows in by_query.values()
            for r in rows
            if r.get("name")
        ],
        batch_size=500,
    )


def _replace_query_stats(host_id: int, rows: list[dict[str, str]]) -> None:
    HostQueryStat.objects.filter(host_id=host_id).delete()
    HostQueryStat.objects.bulk_create(
        [
            HostQueryStat(
                host_id=host_id,
                name=_text(r.get("name")),
                interval=_int(r.get("interval")),
                executions=_int(r.get("executions")),
                last_executed=_int(r.get("last_executed")),
                denylisted=_bool(r.get("denylisted", r.get("blacklisted"))) or False,
                output_size=_int(r.get("output_size")),
                wall_time_ms=_int(r.get("wall_time_ms")),
                user_time=_int(r.get("user_time")),
                system_time=_int(r.get("system_time")),
                average_memory=_int(r.get("average_memory")),
            )
            for r in {row.get("name", ""): row for row in rows if row.get("name")}.values()
        ],
        batch_size=500,
    )
