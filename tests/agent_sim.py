"""A simulated osquery agent that speaks the real TLS protocol (../shared/docs/osquery-protocol.md).

Its tables live in an in-memory SQLite database (osquery's own SQL engine), so the SQL the
server sends really runs: a wrong column or table fails the way it fails on a real agent, with
SQLite's message ("no such table: ..."). The distributed cycle follows §5: read, run discovery
then queries, write only when there is at least one result; a discovery that returns no rows
drops the query silently; a denylisted query is reported with status 1, the agent's message and
empty stats.
"""

import base64
import copy
import hashlib
import io
import json
import sqlite3
import tarfile
from typing import Any

from tests.conftest import AgentClient, vectors_data

DENYLISTED = "distributed query is denylisted"


def _flatten(value: Any) -> str:
    return "" if value is None else str(value)


class SimAgent:
    def __init__(self, client: Any, enroll_request: dict[str, Any], tables: dict[str, list[dict[str, Any]]]) -> None:
        self.api = AgentClient(client)
        self.enroll_request = enroll_request
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.denylisted: set[str] = set()
        self.discovery_false: set[str] = set()
        self.carve_files: dict[str, bytes] = {}
        self.carves: list[dict[str, str]] = []
        self.accelerate = 0
        self.reads = 0
        for name, rows in tables.items():
            self.table(name, rows)
        self.table(
            "osquery_registry",
            [{"registry": "table", "name": name, "active": "1"} for name in [*tables, "carves", "osquery_registry"]],
        )

    def table(self, name: str, rows: list[dict[str, Any]]) -> None:
        columns: dict[str, None] = {}
        for row in rows:
            columns.update(dict.fromkeys(row))
        self.db.execute(f'DROP TABLE IF EXISTS "{name}"')
        # NUMERIC affinity: "1" compares equal to 1 and multiplies as a number, as in osquery.
        self.db.execute(f'CREATE TABLE "{name}" ({", ".join(f"{c!r} NUMERIC" for c in columns) or "x"})')
        for row in rows:
            cols = list(row)
            self.db.execute(
                f'INSERT INTO "{name}" ({", ".join(repr(c) for c in cols)}) VALUES ({", ".join("?" * len(cols))})',  # noqa: S608
                [row[c] for c in cols],
            )

    @property
    def node_key(self) -> str:
        return self.api.node_key

    def enroll(self) -> dict[str, Any]:
        return self.api.enroll(self.enroll_request)

    def run_sql(self, sql: str) -> tuple[list[dict[str, str]], str | None]:
        if "FROM carves" in sql and "carve = 1" in sql:
            return self._schedule_carve(sql), None
        try:
            cursor = self.db.execute(sql)
        except sqlite3.Error as exc:
            return [], str(exc)
        names = [d[0] for d in cursor.description or []]
        return [{n: _flatten(v) for n, v in zip(names, row, strict=True)} for row in cursor.fetchall()], None

    def checkin(self) -> dict[str, Any]:
        """One distributed cycle; returns the read reply."""
        self.reads += 1
        work = self.api.call("distributed/read")
        assert "error" not in work, work
        if isinstance(work.get("accelerate"), int):
            self.accelerate = work["accelerate"]
        discovery = work.get("discovery", {})
        body: dict[str, Any] = {"queries": {}, "statuses": {}, "messages": {}, "stats": {}}
        for query_id, sql in work.get("queries", {}).items():
            if query_id in discovery:
                rows, error = self.run_sql(discovery[query_id])
                if error:
                    # A failing discovery rejects the whole read (§5.3).
                    return work
                if not rows or discovery[query_id] in self.discovery_false:
                    continue
            if sql in self.denylisted:
                rows, error, stats = [], DENYLISTED, {}
            else:
                rows, error = self.run_sql(sql)
                stats = {"wall_time_ms": 3, "user_time": 1, "system_time": 1, "memory": 16384}
            body["queries"][query_id] = rows
            body["statuses"][query_id] = 1 if error else 0
            body["messages"][query_id] = error or ""
            body["stats"][query_id] = stats
        if body["queries"]:
            reply = self.api.call("distributed/write", body)
            assert reply == {}, reply
        return work

    def _schedule_carve(self, sql: str) -> list[dict[str, str]]:
        path = sql.split("path = '", 1)[1].split("'", 1)[0]
        guid = hashlib.md5(f"{self.node_key}{path}".encode()).hexdigest()  # noqa: S324 - test GUID
        row = {
            "time": "1717430451",
            "sha256": "",
            "size": "-1",
            "path": path,
            "status": "SCHEDULED",
            "carve_guid": f"{guid[:8]}-{guid[8:12]}-{guid[12:16]}-{guid[16:20]}-{guid[20:]}",
            "request_id": f"req-{guid[:12]}",
            "carve": "1",
        }
        self.carves.append(row)
        return [row]

    def upload_carves(self, block_size: int = 8192) -> list[str]:
        """What the carver does on its next 60 s boundary: tar the file and upload it in blocks."""
        done = []
        for row in self.carves:
            archive = io.BytesIO()
            data = self.carve_files[row["path"]]
            with tarfile.open(fileobj=archive, mode="w", format=tarfile.PAX_FORMAT) as tar:
                info = tarfile.TarInfo(row["path"].lstrip("/"))
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            blob = archive.getvalue()
            blocks = [blob[i : i + block_size] for i in range(0, len(blob), block_size)]
            begin = self.api.call(
                "carve/begin",
                {
                    "block_count": len(blocks),
                    "block_size": block_size,
                    "carve_size": len(blob),
                    "carve_id": row["carve_guid"],
                    "request_id": row["request_id"],
                },
            )
            session_id = begin["session_id"]
            for block_id, block in enumerate(blocks):
                message = {
                    "block_id": block_id,
                    "session_id": session_id,
                    "request_id": row["request_id"],
                    "data": base64.b64encode(block).decode(),
                }
                assert self.api.post("carve/block", message)[1] == {}
                if block_id == 0:
                    # A retried block (5.22+ retries) must be tolerated.
                    assert self.api.post("carve/block", message)[1] == {}
            done.append(hashlib.sha256(blob).hexdigest())
        self.carves = []
        return done


# --- realistic host data --------------------------------------------------------------------------


def _schedule_rows() -> list[dict[str, str]]:
    sample = vectors_data()["sample_rows_darwin_select_star"]["osquery_schedule"]
    denylisted = dict(sample, name="pack/it-compliance/file_hashes", query="SELECT * FROM hash;", denylisted="1")
    denylisted.update(executions="3", wall_time_ms="95000", user_time="61000", system_time="8000")
    return [sample, denylisted]


def mac_tables(index: int = 0) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    vec = vectors_data()
    request = copy.deepcopy(vec["enroll"]["request_macos"])
    details = request["host_details"]
    uuid = f"4C2A9E1B-7D3F-5A8E-9B61-{index:012X}"
    hostname = f"mac-{index:03d}.corp.example"
    details["system_info"].update(uuid=uuid, hostname=hostname, hardware_serial=f"C7QX2L{index:04d}")
    details["osquery_info"]["uuid"] = uuid
    request["host_identifier"] = hostname
    sample = vec["sample_rows_darwin_select_star"]
    tables = {
        "os_version": [details["os_version"] | {"codename": ""}],
        "osquery_info": [details["osquery_info"]],
        "system_info": [details["system_info"]],
        "uptime": [{"days": "2", "hours": "3", "minutes": "4", "seconds": "5", "total_seconds": "183845"}],
        "osquery_flags": [
            {"name": "distributed_interval", "value": "10"},
            {"name": "config_tls_refresh", "value": "60"},
            {"name": "logger_tls_period", "value": "10"},
        ],
        "interface_addresses": [
            {"interface": "lo0", "address": "127.0.0.1", "mask": "255.0.0.0"},
            {"interface": "en0", "address": "fe80::1c8a:2bff:fe11:3344%en0", "mask": "ffff:ffff:ffff:ffff::"},
            {"interface": "en0", "address": f"192.168.1.{10 + index % 200}", "mask": "255.255.255.0"},
        ],
        "interface_details": [
            {"interface": "lo0", "mac": "00:00:00:00:00:00", "type": "24"},
            sample["interface_details"],
        ],
        "routes": [{"destination": "0.0.0.0", "netmask": "0", "gateway": "192.168.1.1", "interface": "en0"}],
        "mounts": [
            {
                "device": "/dev/disk3s1s1",
                "device_alias": "/dev/disk3s1",
                "path": "/",
                "type": "apfs",
                "blocks_size": "4096",
                "blocks": "121960287",
                "blocks_available": "60980143",
            }
        ],
        "users": [
            {
                "uid": "501",
                "username": "jane",
                "description": "Jane Appleseed",
                "directory": "/Users/jane",
                "shell": "/bin/zsh",
            },
            {
                "uid": "-2",
                "username": "nobody",
                "description": "Unprivileged User",
                "directory": "/var/empty",
                "shell": "/usr/bin/false",
            },
        ],
        "apps": [
            {
                "name": "Safari.app",
                "bundle_short_version": "17.5",
                "bundle_identifier": "com.apple.Safari",
                "path": "/Applications/Safari.app",
            },
            {
                "name": "Slack.app",
                "bundle_short_version": "4.38.125",
                "bundle_identifier": "com.tinyspeck.slackmacgap",
                "path": "/Applications/Slack.app",
            },
        ],
        "homebrew_packages": [{"name": "jq", "version": "1.7.1", "path": "/opt/homebrew/Cellar/jq/1.7.1"}],
        "disk_encryption": [sample["disk_encryption"]],
        "sip_config": [{"config_flag": "sip", "enabled": "1", "enabled_nvram": "1"}],
        "gatekeeper": [sample["gatekeeper"]],
        "alf": [sample["alf"]],
        "osquery_schedule": _schedule_rows(),
    }
    return request, tables


def ubuntu_tables(index: int = 0) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    vec = vectors_data()
    request = copy.deepcopy(vec["enroll"]["request_linux_minimal"])
    details = request["host_details"]
    uuid = f"9f1e2d3c-4b5a-6978-8a9b-{index:012x}"
    hostname = f"build-runner-{index:03d}"
    details["system_info"].update(uuid=uuid, hostname=hostname, hardware_serial=f"7XK2Q{index:04d}")
    details["osquery_info"]["uuid"] = uuid
    request["host_identifier"] = uuid
    tables = {
        "os_version": [details["os_version"]],
        "osquery_info": [details["osquery_info"]],
        "system_info": [details["system_info"]],
        "uptime": [{"total_seconds": "8640000"}],
        "osquery_flags": [
            {"name": "distributed_interval", "value": "30"},
            {"name": "config_refresh", "value": "300"},
            {"name": "logger_tls_period", "value": "10"},
        ],
        "interface_addresses": [
            {"interface": "lo", "address": "127.0.0.1", "mask": "255.0.0.0"},
            {"interface": "docker0", "address": "172.17.0.1", "mask": "255.255.0.0"},
            {"interface": "eno1", "address": f"10.20.{index // 250}.{1 + index % 250}", "mask": "255.255.0.0"},
        ],
        "interface_details": [
            {"interface": "lo", "mac": "00:00:00:00:00:00", "type": "772"},
            {"interface": "docker0", "mac": "02:42:5e:7a:11:02", "type": "1"},
            {"interface": "eno1", "mac": f"b0:7b:25:0a:{index // 256:02x}:{index % 256:02x}", "type": "1"},
        ],
        "routes": [{"destination": "0.0.0.0", "netmask": "0", "gateway": "10.20.0.1", "interface": "eno1"}],
        "mounts": [
            {
                "device": "/dev/mapper/ubuntu--vg-root",
                "device_alias": "/dev/mapper/ubuntu--vg-root",
                "path": "/",
                "type": "ext4",
                "blocks_size": "4096",
                "blocks": "240000000",
                "blocks_available": "180000000",
            }
        ],
        "disk_encryption": [
            {"name": "/dev/mapper/ubuntu--vg-root", "uuid": "", "encrypted": "1", "type": "LUKS2"},
        ],
        "users": [
            {"uid": "0", "username": "root", "description": "root", "directory": "/root", "shell": "/bin/bash"},
            {
                "uid": "1000",
                "username": "ci",
                "description": "CI runner",
                "directory": "/home/ci",
                "shell": "/bin/bash",
            },
            {
                "uid": "33",
                "username": "www-data",
                "description": "www-data",
                "directory": "/var/www",
                "shell": "/usr/sbin/nologin",
            },
        ],
        "deb_packages": [
            {"name": "openssl", "version": "3.0.2-0ubuntu1.15", "arch": "amd64"},
            {"name": "osquery", "version": "5.23.1-1.linux", "arch": "amd64"},
        ],
        "osquery_schedule": _schedule_rows()[:1],
    }
    return request, tables


def windows_tables(index: int = 0) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    uuid = f"6D0A0E4C-2B8F-4E3A-9C71-{index:012X}"
    hostname = f"DESKTOP-{index:04d}"
    system_info = {
        "hostname": hostname,
        "uuid": uuid,
        "cpu_type": "x86_64",
        "cpu_brand": "Intel(R) Core(TM) i7-1185G7 @ 3.00GHz",
        "cpu_physical_cores": "4",
        "cpu_logical_cores": "8",
        "physical_memory": "34359738368",
        "hardware_vendor": "LENOVO",
        "hardware_model": "20XWCTO1WW",
        "hardware_serial": "Default string" if index % 2 else f"PF3ABC{index:02d}",
        "computer_name": hostname,
    }
    os_version = {
        "name": "Microsoft Windows 11 Enterprise",
        "version": "10.0.22631",
        "major": "10",
        "minor": "0",
        "patch": "",
        "build": "22631",
        "platform": "windows",
        "platform_like": "windows",
        "codename": "Microsoft Windows 11 Enterprise",
        "arch": "64-bit",
    }
    osquery_info = {
        "version": "5.23.1",
        "config_hash": "",
        "config_valid": "0",
        "build_platform": "windows",
        "uuid": uuid,
    }
    request = {
        "enroll_secret": vectors_data()["enroll"]["request_macos"]["enroll_secret"],
        "host_identifier": uuid,
        "platform_type": "2",
        "host_details": {"os_version": os_version, "osquery_info": osquery_info, "system_info": system_info},
    }
    tables = {
        "os_version": [os_version],
        "osquery_info": [osquery_info],
        "system_info": [system_info],
        "uptime": [{"total_seconds": "3600"}],
        "osquery_flags": [
            {"name": "distributed_interval", "value": "60"},
            {"name": "config_tls_refresh", "value": "60"},
        ],
        "interface_addresses": [
            {"interface": "1", "address": "127.0.0.1", "mask": "255.0.0.0"},
            {"interface": "12", "address": f"10.8.0.{10 + index % 200}", "mask": "255.255.255.0"},
        ],
        "interface_details": [
            {"interface": "1", "mac": "", "type": "24"},
            {"interface": "12", "mac": "3c:52:82:11:22:33", "type": "6"},
        ],
        "routes": [{"destination": "0.0.0.0", "netmask": "0", "gateway": "10.8.0.1", "interface": "12"}],
        "logical_drives": [
            {
                "device_id": "C:",
                "type": "Local Disk",
                "free_space": "123456789012",
                "size": "511101108224",
                "file_system": "NTFS",
            }
        ],
        "bitlocker_info": [{"drive_letter": "C:", "protection_status": "1", "encryption_method": "XTS_AES_128"}],
        "users": [
            {
                "uid": "500",
                "username": "Administrator",
                "description": "Built-in account",
                "directory": "",
                "shell": "C:\\Windows\\system32\\cmd.exe",
                "type": "local",
            },
            {
                "uid": "1001",
                "username": "alex",
                "description": "",
                "directory": "C:\\Users\\alex",
                "shell": "C:\\Windows\\system32\\cmd.exe",
                "type": "local",
            },
            {
                "uid": "1105",
                "username": "CORP\\svc",
                "description": "",
                "directory": "",
                "shell": "",
                "type": "roaming",
            },
        ],
        "programs": [
            {
                "name": "Google Chrome",
                "version": "125.0.6422.142",
                "install_location": "C:\\Program Files\\Google\\Chrome\\Application",
            },
            {"name": "osquery", "version": "5.23.1", "install_location": "C:\\Program Files\\osquery"},
        ],
        "osquery_schedule": _schedule_rows(),
    }
    return request, tables


PLATFORM_TABLES = {"darwin": mac_tables, "linux": ubuntu_tables, "windows": windows_tables}


def sim_fleet(client: Any, count: int) -> list[SimAgent]:
    """`count` enrolled agents, cycling macOS, Ubuntu and Windows."""
    makers = [mac_tables, ubuntu_tables, windows_tables]
    agents = []
    for i in range(count):
        request, tables = makers[i % 3](i)
        agent = SimAgent(client, request, tables)
        reply = agent.enroll()
        assert "node_key" in reply, reply
        agents.append(agent)
    return agents


def sse_events(chunks: Any) -> list[dict[str, Any]]:
    """Parse a text/event-stream body into events ({"id", "event", "data"})."""
    events = []
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            event: dict[str, Any] = {}
            for line in block.decode().splitlines():
                if line.startswith(":") or not line:
                    continue
                key, _, value = line.partition(": ")
                event[key] = json.loads(value) if key == "data" else value
            if "event" in event:
                events.append(event)
    return events
