"""One simulated osquery agent: enroll, config, distributed and logger loops.

Follows the agent's behaviour in the protocol doc: every request is a POST of a JSON object with
the node key in the body and, as agents 5.23+ do, in `Authorization: NodeKey`; only the reply
body decides success (§1.3-1.4); `node_invalid: true` drops the key and the next request
re-enrolls; logger lines stay buffered until a POST succeeds and failures back off by
period x n² (§4.2); distributed read/write retry twice with 1 s and 4 s sleeps (§5.2).
"""

import asyncio
import gzip
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from .stats import RunStats
from .templates import OSQUERY_VERSION, HostIdentity, enroll_details, result_line, rows_for, status_line

LOGGER_MAX_LINES = 1024  # --logger_tls_max_lines
ACCELERATED_INTERVAL = 5.0
_PLATFORM_WORDS = {"darwin": {"darwin", "posix"}, "ubuntu": {"linux", "ubuntu", "posix"}, "windows": {"windows"}}


@dataclass
class SimConfig:
    base_url: str
    enroll_secret: str
    distributed_interval: float = 10.0
    config_refresh: float = 60.0
    logger_tls_period: float = 10.0
    rows_per_query: int = 3
    status_lines_per_period: float = 0.2
    compress_logs: bool = True
    node_key_header: bool = True
    ramp_seconds: float = 10.0
    request_timeout: float = 16.0  # the agent's own per-request timeout


@dataclass
class ScheduledQuery:
    name: str
    sql: str
    interval: float
    next_due: float
    counter: int = 0


class Agent:
    def __init__(self, identity: HostIdentity, cfg: SimConfig, session: aiohttp.ClientSession, stats: RunStats):
        self.host = identity
        self.cfg = cfg
        self.session = session
        self.stats = stats
        self.node_key = ""
        self.schedule: dict[str, ScheduledQuery] = {}
        self.config_bytes = b""
        self.result_buffer: list[dict[str, Any]] = []
        self.status_buffer: list[dict[str, Any]] = []
        self.pending_results: dict[str, Any] = {}
        self.accelerate_until = 0.0
        self.started = time.time()
        self.enrolled_once = False
        self._enroll_lock = asyncio.Lock()

    # -- transport -------------------------------------------------------------------------------

    async def _post(self, endpoint: str, path: str, body: dict[str, Any], compress: bool = False) -> dict | None:
        """POST and classify the reply the way the agent does. Returns the reply on success."""
        data = orjson.dumps(body)
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"osquery/{OSQUERY_VERSION}",
        }
        if self.cfg.node_key_header and self.node_key and endpoint != "enroll":
            headers["Authorization"] = f"NodeKey {self.node_key}"
        if compress:
            data = gzip.compress(data, compresslevel=6)
            headers["Content-Encoding"] = "gzip"
        started = time.perf_counter()
        error: str | None = None
        reply: dict | None = None
        try:
            timeout = aiohttp.ClientTimeout(total=self.cfg.request_timeout)
            async with self.session.post(self.cfg.base_url + path, data=data, headers=headers, timeout=timeout) as resp:
                raw = await resp.read()
            parsed = orjson.loads(raw) if raw.strip() else {}
            if not isinstance(parsed, dict):
                error = f"HTTP {resp.status}: reply is not a JSON object"
            elif parsed.get("node_invalid") is True:
                error = f"HTTP {resp.status}: node_invalid"
                self.node_key = ""
            elif "error" in parsed:
                error = f"HTTP {resp.status}: {parsed['error']}"
            else:
                reply = parsed
        except (aiohttp.ClientError, TimeoutError, orjson.JSONDecodeError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        self.stats.endpoint(endpoint).record((time.perf_counter() - started) * 1000, error)
        return reply

    async def _node_call(self, endpoint: str, path: str, body: dict[str, Any], compress: bool = False) -> dict | None:
        if not self.node_key and not await self.enroll():
            return None
        return await self._post(endpoint, path, {"node_key": self.node_key, **body}, compress)

    # -- enrollment and config -------------------------------------------------------------------

    async def enroll(self) -> bool:
        async with self._enroll_lock:
            if self.node_key:
                return True
            mask, details = enroll_details(self.host, int(self.started))
            body = {
                "enroll_secret": self.cfg.enroll_secret,
                "host_identifier": self.host.hostname,
                "platform_type": mask,
                "host_details": details,
            }
            reply = await self._post("enroll", "/api/osquery/enroll", body)
            key = (reply or {}).get("node_key") or (reply or {}).get("id")
            if isinstance(key, str) and key:
                self.stats.count("reenrolls" if self.enrolled_once else "enrolls")
                self.enrolled_once = True
                self.node_key = key
                return True
            return False

    async def fetch_config(self) -> bool:
        reply = await self._node_call("config", "/api/osquery/config", {})
        if reply is None:
            return False
        raw = orjson.dumps(reply)
        if raw != self.config_bytes:
            self.config_bytes = raw
            self._load_schedule(reply)
            self.stats.count("config_changes")
        return True

    def _applies(self, platform: str) -> bool:
        if not platform or platform == "all":
            return True
        words = {p.strip() for p in platform.split(",")}
        return bool(words & _PLATFORM_WORDS[self.host.platform])

    def _load_schedule(self, config: dict[str, Any]) -> None:
        now = time.time()
        wanted: dict[str, tuple[str, float]] = {}
        # Result names are pack<delim><pack><delim><query>; the server may set the delimiter.
        delim = str((config.get("options") or {}).get("pack_delimiter", "_"))
        for name, q in (config.get("schedule") or {}).items():
            if isinstance(q, dict) and self._applies(str(q.get("platform", ""))):
                wanted[name] = (str(q.get("query", "")), float(q.get("interval", 3600)))
        for pack_name, pack in (config.get("packs") or {}).items():
            if not isinstance(pack, dict) or not self._applies(str(pack.get("platform", ""))):
                continue
            for name, q in (pack.get("queries") or {}).items():
                if isinstance(q, dict) and self._applies(str(q.get("platform", ""))):
                    wanted[f"pack{delim}{pack_name}{delim}{name}"] = (
                        str(q.get("query", "")),
                        float(q.get("interval", 3600)),
                    )
        old = self.schedule
        self.schedule = {}
        for name, (sql, interval) in wanted.items():
            interval = max(interval, 1.0)
            keep = old.get(name)
            # osquery splays first runs over the interval; a query already scheduled keeps its slot.
            due = keep.next_due if keep else now + self.host.rng.uniform(0, interval)
            self.schedule[name] = ScheduledQuery(name, sql, interval, due, keep.counter if keep else 0)

    # -- loops -------------------------------------------------------------------------------------

    async def run(self, stop_at: float) -> None:
        await asyncio.sleep(self.host.rng.uniform(0, self.cfg.ramp_seconds))
        if time.time() >= stop_at:
            return
        await self.enroll()
        await self.fetch_config()
        await asyncio.gather(self._config_loop(stop_at), self._distributed_loop(stop_at), self._logger_loop(stop_at))

    async def _sleep_until(self, when: float, stop_at: float) -> bool:
        """Sleep until `when`; False if the run ends first."""
        if when >= stop_at:
            await asyncio.sleep(max(0.0, stop_at - time.time()))
            return False
        await asyncio.sleep(max(0.0, when - time.time()))
        return True

    async def _config_loop(self, stop_at: float) -> None:
        next_at = time.time() + self.cfg.config_refresh
        while await self._sleep_until(next_at, stop_at):
            ok = await self.fetch_config()
            next_at = time.time() + (self.cfg.config_refresh if ok else min(300.0, self.cfg.config_refresh))

    async def _with_retries(self, call: Any) -> dict | None:
        for attempt in range(3):
            reply = await call()
            if reply is not None:
                return reply
            self.stats.count("retries")
            if attempt < 2:
                await asyncio.sleep((attempt + 1) ** 2)
        return None

    async def _distributed_loop(self, stop_at: float) -> None:
        next_at = time.time() + self.host.rng.uniform(0, self.cfg.distributed_interval)
        while await self._sleep_until(next_at, stop_at):
            await self.distributed_cycle()
            now = time.time()
            step = ACCELERATED_INTERVAL if now < self.accelerate_until else self.cfg.distributed_interval
            next_at = now + step

    async def distributed_cycle(self) -> None:
        reply = await self._with_retries(
            lambda: self._node_call("distributed_read", "/api/osquery/distributed/read", {})
        )
        if reply is None:
            return
        queries = reply.get("queries") or {}
        discovery = reply.get("discovery") or {}
        accelerate = reply.get("accelerate")
        if isinstance(accelerate, int) and not isinstance(accelerate, bool) and accelerate > 0:
            self.accelerate_until = time.time() + accelerate
        if isinstance(queries, dict):
            for query_id, sql in queries.items():
                if not isinstance(query_id, str) or not isinstance(sql, str) or not sql:
                    break  # acceptWork stops at the first bad entry
                gate = discovery.get(query_id) if isinstance(discovery, dict) else None
                if isinstance(gate, str) and not self._discovery_passes(gate):
                    continue
                self.pending_results[query_id] = self._answer(sql)
                self.stats.count("distributed_queries_answered")
        if not self.pending_results:
            return
        body: dict[str, dict[str, Any]] = {"queries": {}, "statuses": {}, "messages": {}, "stats": {}}
        for query_id, (rows, status, message) in self.pending_results.items():
            body["queries"][query_id] = rows
            body["statuses"][query_id] = status
            body["messages"][query_id] = message
            body["stats"][query_id] = {"wall_time_ms": 2, "user_time": 1, "system_time": 1, "memory": 4096}
        written = await self._with_retries(
            lambda: self._node_call("distributed_write", "/api/osquery/distributed/write", body)
        )
        if written is not None:
            self.pending_results = {}

    def _discovery_passes(self, sql: str) -> bool:
        lowered = sql.lower()
        named = [p for p in ("darwin", "windows", "ubuntu", "linux") if f"'{p}'" in lowered]
        return not named or bool(set(named) & _PLATFORM_WORDS[self.host.platform])

    def _answer(self, sql: str) -> tuple[list[dict[str, str]], int, str]:
        if "does_not_exist" in sql:
            return [], 1, "no such table: does_not_exist"
        return rows_for(sql, self.host, self.cfg.rows_per_query), 0, ""

    async def _logger_loop(self, stop_at: float) -> None:
        failures = {"result": 0, "status": 0}
        next_at = {"result": 0.0, "status": 0.0}
        status_credit = self.host.rng.random()
        start = time.time() + self.host.rng.uniform(0, self.cfg.logger_tls_period)
        tick = start
        while await self._sleep_until(tick, stop_at):
            now = time.time()
            self._run_due_queries(now)
            status_credit += self.cfg.status_lines_per_period
            while status_credit >= 1:
                status_credit -= 1
                self.status_buffer.append(status_line(self.host, now, "Executing scheduled query pack_macos_apps"))
            for log_type, buffer in (("result", self.result_buffer), ("status", self.status_buffer)):
                if not buffer or now < next_at[log_type]:
                    continue
                if await self.send_logs(log_type, buffer):
                    failures[log_type] = 0
                else:
                    failures[log_type] += 1
                    backoff = self.cfg.logger_tls_period * failures[log_type] ** 2
                    next_at[log_type] = now + min(backoff, 3600)
            tick += self.cfg.logger_tls_period

    def _run_due_queries(self, now: float) -> None:
        for query in self.schedule.values():
            if query.next_due > now:
                continue
            rows = rows_for(query.sql, self.host, self.cfg.rows_per_query)
            lines = [result_line(query.name, self.host, row, now, query.counter) for row in rows]
            self.result_buffer.extend(lines)
            self.stats.count("result_lines_generated", len(lines))
            query.counter += 1
            query.next_due = now + query.interval

    async def send_logs(self, log_type: str, buffer: list[dict[str, Any]]) -> bool:
        """POST up to LOGGER_MAX_LINES buffered lines; they leave the buffer only on success."""
        batch = buffer[:LOGGER_MAX_LINES]
        reply = await self._node_call(
            f"log_{log_type}", "/api/osquery/log", {"log_type": log_type, "data": batch}, self.cfg.compress_logs
        )
        if reply is None:
            return False
        del buffer[: len(batch)]
        self.stats.count(f"{log_type}_lines_acked", len(batch))
        return True

    async def drain(self, deadline: float) -> None:
        """After the run: keep posting buffered lines (with backoff) until acknowledged or out of time."""
        for log_type, buffer in (("result", self.result_buffer), ("status", self.status_buffer)):
            delay = 1.0
            while buffer and time.time() < deadline:
                if not await self.send_logs(log_type, buffer):
                    await asyncio.sleep(min(delay, max(0.0, deadline - time.time())))
                    delay *= 2
        self.stats.count("result_lines_pending", len(self.result_buffer))
        self.stats.count("status_lines_pending", len(self.status_buffer))
        if self.pending_results:
            self.stats.count("distributed_results_pending", len(self.pending_results))
