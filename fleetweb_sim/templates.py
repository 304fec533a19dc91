"""Plausible host details and query rows for simulated macOS, Ubuntu and Windows agents.

Values are invented but shaped like the real tables (protocol doc §2.2 and §11): every value is a
string, as the agent sends them. Each simulated host gets stable identifiers derived from its
index, so a second run re-enrolls the same hosts instead of creating new ones.
"""

import random
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

OSQUERY_VERSION = "5.23.1"
PLATFORMS = ("darwin", "ubuntu", "windows")
_NAMESPACE = uuid.UUID("6c8f3b9e-2d4a-4f1e-9a7b-5e3c1d2f4a6b")


@dataclass
class HostIdentity:
    index: int
    platform: str
    hostname: str
    uuid: str
    serial: str
    rng: random.Random = field(repr=False)


def host_identity(index: int, platform: str, run_id: str) -> HostIdentity:
    host_uuid = str(uuid.uuid5(_NAMESPACE, f"{run_id}:{index}")).upper()
    # Invented, reproducible host data, not secrets (bandit B311 does not apply).
    rng = random.Random(host_uuid)  # noqa: S311  # nosec B311
    prefix = {"darwin": "mac", "ubuntu": "ubuntu", "windows": "WIN"}[platform]
    hostname = f"{prefix}-{run_id}-{index:06d}"
    if platform == "darwin":
        hostname += ".local"
    serial = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(10))
    return HostIdentity(index, platform, hostname, host_uuid, serial, rng)


def enroll_details(host: HostIdentity, start_time: int) -> tuple[str, dict[str, dict[str, str]]]:
    """(platform_type, host_details) as the agent sends them at enroll."""
    rng = host.rng
    if host.platform == "darwin":
        mask = "21"
        os_version = {
            "name": "macOS",
            "version": "14.5",
            "major": "14",
            "minor": "5",
            "patch": "0",
            "build": "23F79",
            "platform": "darwin",
            "platform_like": "darwin",
            "arch": "arm64",
        }
        system = {
            "cpu_type": "arm64e",
            "cpu_brand": "Apple M2 Pro",
            "hardware_vendor": "Apple Inc.",
            "hardware_model": "Mac14,9",
            "physical_memory": "17179869184",
        }
        platform_info = {"vendor": "Apple Inc.", "version": "iBoot-10151.121.1", "firmware_type": "iboot"}
        build_platform, distro = "darwin", "10.14"
    elif host.platform == "ubuntu":
        mask = "9"
        os_version = {
            "name": "Ubuntu",
            "version": "22.04.4 LTS (Jammy Jellyfish)",
            "major": "22",
            "minor": "4",
            "patch": "0",
            "build": "",
            "platform": "ubuntu",
            "platform_like": "debian",
            "codename": "jammy",
            "arch": "x86_64",
            "pid_with_namespace": "0",
        }
        system = {
            "cpu_type": "x86_64",
            "cpu_brand": "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz",
            "hardware_vendor": "Dell Inc.",
            "hardware_model": "PowerEdge R650",
            "physical_memory": "67328565248",
        }
        platform_info = {"vendor": "Dell Inc.", "version": "1.10.2", "date": "03/15/2024"}
        build_platform, distro = "linux", "centos7"
    else:
        mask = "2"
        os_version = {
            "name": "Microsoft Windows 11 Pro",
            "version": "10.0.22631",
            "major": "10",
            "minor": "0",
            "patch": "",
            "build": "22631",
            "platform": "windows",
            "platform_like": "windows",
            "codename": "Microsoft Windows 11 Pro",
            "arch": "64-bit",
            "install_date": "1700000000",
        }
        system = {
            "cpu_type": "x86_64",
            "cpu_brand": "11th Gen Intel(R) Core(TM) i7-1185G7 @ 3.00GHz",
            "hardware_vendor": "LENOVO",
            "hardware_model": "20XW0026US",
            "physical_memory": "34359738368",
        }
        platform_info = {"vendor": "LENOVO", "version": "N32ET86W (1.62 )", "date": "01/12/2024"}
        build_platform, distro = "windows", "10"
    cores = str(rng.choice((4, 8, 10, 16)))
    system.update(
        {
            "hostname": host.hostname,
            "uuid": host.uuid,
            "cpu_subtype": "",
            "cpu_physical_cores": cores,
            "cpu_logical_cores": cores,
            "hardware_version": "",
            "hardware_serial": host.serial,
            "computer_name": host.hostname.removesuffix(".local"),
            "local_hostname": host.hostname.removesuffix(".local"),
        }
    )
    osquery_info = {
        "pid": str(rng.randint(300, 30000)),
        "uuid": host.uuid,
        "instance_id": str(uuid.UUID(int=rng.getrandbits(128))),
        "version": OSQUERY_VERSION,
        "config_hash": "",
        "config_valid": "0",
        "extensions": "active",
        "build_platform": build_platform,
        "build_distro": distro,
        "start_time": str(start_time),
        "watcher": str(rng.randint(300, 30000)),
        "platform_mask": mask,
    }
    details = {"os_version": os_version, "osquery_info": osquery_info, "system_info": system}
    details["platform_info"] = platform_info
    return mask, details


# Rows for tables that scheduled, live and detail queries commonly read. Anything else gets a
# generic row, which is enough for a server that stores rows as given.
def _row(table: str, host: HostIdentity, i: int) -> dict[str, str]:
    rng = host.rng
    if table == "processes":
        name = rng.choice(("launchd", "Slack", "zsh", "python3", "sshd", "osqueryd", "chrome", "svchost.exe"))
        return {
            "pid": str(100 + i),
            "name": name,
            "path": f"/usr/bin/{name}",
            "cmdline": f"{name} --flag",
            "state": "S",
            "uid": "501",
            "resident_size": str(rng.randint(10**6, 10**9)),
            "user_time": str(rng.randint(0, 10**5)),
            "system_time": str(rng.randint(0, 10**5)),
            "start_time": str(1717430000 + i),
            "parent": "1",
        }
    if table == "users":
        return {
            "uid": str(500 + i),
            "gid": "20",
            "username": f"user{i}",
            "description": "",
            "directory": f"/Users/user{i}",
            "shell": "/bin/zsh",
            "uuid": str(uuid.UUID(int=rng.getrandbits(128))).upper(),
        }
    if table in ("process_open_sockets", "listening_ports"):
        return {
            "pid": str(200 + i),
            "fd": str(i + 3),
            "family": "2",
            "protocol": "6",
            "local_address": "10.0.0.5",
            "remote_address": f"93.184.216.{i % 250}",
            "local_port": str(49152 + i),
            "remote_port": "443",
            "state": "ESTABLISHED",
            "path": "",
        }
    if table == "shell_history":
        return {
            "uid": "501",
            "time": str(1717430000 + i),
            "command": f"git status # {i}",
            "history_file": ".zsh_history",
        }
    if table == "apps":
        return {
            "name": f"App{i}.app",
            "path": f"/Applications/App{i}.app",
            "bundle_identifier": f"com.example.app{i}",
            "bundle_short_version": f"1.{i}.0",
            "last_opened_time": "1717430000.0",
        }
    if table in ("os_version", "osquery_info", "system_info", "platform_info"):
        return enroll_details(host, 1717430000)[1][table]
    if table == "uptime":
        return {"days": "1", "hours": "2", "minutes": "3", "seconds": "4", "total_seconds": "93784"}
    if table == "interface_details":
        return {"interface": f"en{i}", "mac": f"a4:83:e7:00:00:{i:02x}", "type": "6", "mtu": "1500", "ipackets": "1"}
    if table == "interface_addresses":
        return {"interface": f"en{i}", "address": f"10.0.0.{i + 5}", "mask": "255.255.255.0", "type": "dhcp"}
    if table in ("disk_encryption", "sip_config", "gatekeeper", "alf"):
        return {"name": f"/dev/disk{i}", "encrypted": "1", "enabled": "1", "global_state": "1", "type": "APFS"}
    return {"name": f"{table}-{i}", "value": str(rng.randint(0, 10**6)), "path": f"/var/{table}/{i}"}


_FROM = re.compile(r"\bfrom\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)


def table_of(sql: str) -> str:
    match = _FROM.search(sql)
    return match.group(1).lower() if match else ""


def rows_for(sql: str, host: HostIdentity, count: int) -> list[dict[str, str]]:
    """Rows a query plausibly returns. `SELECT 1 ...` (labels, policies) answers one row most of
    the time, so memberships and pass/fail results vary across hosts."""
    if re.match(r"\s*select\s+1\b", sql, re.IGNORECASE):
        return [{"1": "1"}] if host.rng.random() < 0.7 else []
    table = table_of(sql)
    if table in ("os_version", "osquery_info", "system_info", "platform_info", "uptime"):
        count = 1
    return [_row(table, host, i) for i in range(count)]


def result_line(name: str, host: HostIdentity, row: dict[str, str], now: float, counter: int) -> dict[str, Any]:
    """One event-format result line (protocol doc §7.2)."""
    return {
        "name": name,
        "hostIdentifier": host.hostname,
        "calendarTime": calendar_time(now),
        "unixTime": int(now),
        "epoch": 0,
        "counter": counter,
        "numerics": False,
        "decorations": {"host_uuid": host.uuid, "hostname": host.hostname},
        "columns": row,
        "action": "added",
    }


def status_line(host: HostIdentity, now: float, message: str, severity: int = 0) -> dict[str, Any]:
    """One status log line (protocol doc §7.6)."""
    return {
        "hostIdentifier": host.hostname,
        "calendarTime": calendar_time(now),
        "unixTime": int(now),
        "severity": severity,
        "filename": "scheduler.cpp",
        "line": 83,
        "message": message,
        "version": OSQUERY_VERSION,
        "decorations": {"host_uuid": host.uuid, "hostname": host.hostname},
    }


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def calendar_time(now: float) -> str:
    """asctime layout in UTC with a space-padded day, e.g. `Mon Jun  3 16:00:12 2024 UTC`."""
    import time

    t = time.gmtime(now)
    return (
        f"{_DAYS[t.tm_wday]} {_MONTHS[t.tm_mon - 1]} {t.tm_mday:2d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} {t.tm_year} UTC"
    )
