"""Running many agents: the full workload (`simulate`) and one endpoint flat out (`hammer`)."""

import asyncio
import ssl
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
import orjson

from .agent import Agent, SimConfig
from .stats import RunStats
from .templates import PLATFORMS, host_identity, result_line, rows_for


def platform_for(index: int, mix: Sequence[str]) -> str:
    return mix[index % len(mix)]


def _connector(limit: int, ca_file: str | None, insecure: bool) -> aiohttp.TCPConnector:
    ssl_ctx: ssl.SSLContext | bool = True
    if insecure:
        ssl_ctx = False
    elif ca_file:
        ssl_ctx = ssl.create_default_context(cafile=ca_file)
    return aiohttp.TCPConnector(limit=limit, ssl=ssl_ctx, ttl_dns_cache=300)


def make_agents(
    cfg: SimConfig,
    session: aiohttp.ClientSession,
    stats: RunStats,
    indices: Sequence[int],
    run_id: str,
    mix: Sequence[str],
) -> list[Agent]:
    return [Agent(host_identity(i, platform_for(i, mix), run_id), cfg, session, stats) for i in indices]


async def simulate(
    cfg: SimConfig,
    indices: Sequence[int],
    *,
    run_id: str,
    duration: float,
    drain_seconds: float = 30.0,
    mix: Sequence[str] = PLATFORMS,
    connections: int = 256,
    ca_file: str | None = None,
    insecure: bool = False,
    node_keys: dict[str, str] | None = None,
    warmup_seconds: float | None = None,
) -> dict[str, Any]:
    """Run the agents for `duration` seconds, then give buffered logs `drain_seconds` to land.

    `node_keys` (host index -> key, from an earlier run) lets agents skip enrollment, as real
    agents do after a restart; the keys in use at the end come back under "node_keys".
    Requests in the first `warmup_seconds` (default: the ramp plus 5 s) are reported as startup.
    """
    warmup = cfg.ramp_seconds + 5 if warmup_seconds is None else warmup_seconds
    stats = RunStats(steady_after=time.time() + warmup)
    async with aiohttp.ClientSession(connector=_connector(connections, ca_file, insecure)) as session:
        agents = make_agents(cfg, session, stats, indices, run_id, mix)
        for agent in agents:
            agent.node_key = (node_keys or {}).get(str(agent.host.index), "")
            agent.enrolled_once = bool(agent.node_key)
        stop_at = time.time() + duration
        await asyncio.gather(*(agent.run(stop_at) for agent in agents))
        deadline = time.time() + drain_seconds
        await asyncio.gather(*(agent.drain(deadline) for agent in agents))
    raw = stats.to_raw()
    raw["node_keys"] = {str(a.host.index): a.node_key for a in agents if a.node_key}
    return raw


async def enroll_all(agents: list[Agent], concurrency: int) -> int:
    gate = asyncio.Semaphore(concurrency)

    async def one(agent: Agent) -> bool:
        async with gate:
            return await agent.enroll()

    return sum(await asyncio.gather(*(one(a) for a in agents)))


async def hammer(
    cfg: SimConfig,
    *,
    endpoint: str,
    hosts: int,
    requests: int,
    concurrency: int,
    run_id: str,
    lines: int = 10,
    path: str = "",
    query_id: str = "",
    mix: Sequence[str] = PLATFORMS,
    ca_file: str | None = None,
    insecure: bool = False,
    on_ready: Any = None,
    warmup: bool = True,
) -> dict[str, Any]:
    """Enroll `hosts` agents, call `on_ready()` (where a harness starts measuring), then send
    `requests` requests to one endpoint with `concurrency` in flight, cycling over the hosts.

    endpoint: enroll | config | distributed_read | distributed_write | log | raw (POST `{}` to `path`).
    """
    stats = RunStats()
    async with aiohttp.ClientSession(connector=_connector(concurrency * 2, ca_file, insecure)) as session:
        agents = make_agents(cfg, session, stats, range(hosts), run_id, mix)
        if endpoint != "raw":
            await enroll_all(agents, concurrency)
        stats.endpoints.pop("enroll", None)
        now = time.time()
        batches = {
            a.host.index: [
                result_line("pack_bench_processes", a.host, row, now, 1)
                for row in rows_for("SELECT * FROM processes", a.host, lines)
            ]
            for a in agents[: min(hosts, 64)]
        }

        async def blast(n: int) -> float:
            counter = iter(range(n))

            async def worker() -> None:
                for i in counter:
                    await _one_request(cfg, agents[i % hosts], endpoint, batches, path, query_id)

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return time.perf_counter() - started

        if warmup and endpoint not in ("distributed_write", "enroll"):
            # One request per host first: fills the node-key and config caches, as in steady state.
            await blast(hosts)
        stats.endpoints.clear()
        ready = on_ready() if on_ready else None
        elapsed = await blast(requests)
    raw = stats.to_raw()
    raw["elapsed_s"] = elapsed
    raw["ready"] = ready
    return raw


async def _one_request(
    cfg: SimConfig, agent: Agent, endpoint: str, batches: dict[int, list[dict[str, Any]]], path: str, query_id: str
) -> None:
    if endpoint == "enroll":
        agent.node_key = ""  # a re-enroll, as after a wiped agent database
        await agent.enroll()
    elif endpoint == "config":
        await agent._node_call("config", "/api/osquery/config", {})
    elif endpoint == "distributed_read":
        await agent._node_call("distributed_read", "/api/osquery/distributed/read", {})
    elif endpoint == "distributed_write":
        rows = rows_for("SELECT * FROM os_version", agent.host, 1)
        body = {
            "queries": {query_id: rows},
            "statuses": {query_id: 0},
            "messages": {query_id: ""},
            "stats": {query_id: {"wall_time_ms": 1, "user_time": 1, "system_time": 0, "memory": 0}},
        }
        await agent._node_call("distributed_write", "/api/osquery/distributed/write", body)
    elif endpoint == "log":
        data = batches[agent.host.index % len(batches)]
        await agent._node_call("log", "/api/osquery/log", {"log_type": "result", "data": data}, cfg.compress_logs)
    else:
        await agent._post("raw", path, {})


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2)
