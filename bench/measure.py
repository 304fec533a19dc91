"""Measurements against a running Stack: one endpoint flat out, and the full agent workload.

Server CPU is read from the server processes themselves (psutil on the master and its workers)
before and after each phase, so the simulator's own CPU on the same machine is not counted.
"""

import asyncio
import os
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from fleetweb_sim.agent import SimConfig
from fleetweb_sim.runner import hammer
from fleetweb_sim.stats import RunStats

from .seed import ENROLL_SECRET
from .stack import BIN, VAR, Service, Stack, cpu_seconds


@dataclass
class Snapshot:
    at: float
    app: float
    mariadb: float
    redis: float
    celery: float
    statements: dict[str, int]


def snapshot(stack: Stack, app: Service) -> Snapshot:
    celery_pids = [
        p for name in ("celery-worker", "celery-beat") if name in stack.services for p in stack.services[name].pids()
    ]
    return Snapshot(
        at=time.perf_counter(),
        app=cpu_seconds(app.pids()),
        mariadb=cpu_seconds(stack.services["mariadb"].pids()),
        redis=cpu_seconds(stack.services["redis"].pids()),
        celery=cpu_seconds(celery_pids),
        statements=stack.statement_counts(),
    )


def delta(before: Snapshot, after: Snapshot) -> dict[str, Any]:
    statements = {k: after.statements[k] - before.statements[k] for k in after.statements}
    return {
        "wall_s": after.at - before.at,
        "app_cpu_s": after.app - before.app,
        "mariadb_cpu_s": after.mariadb - before.mariadb,
        "redis_cpu_s": after.redis - before.redis,
        "celery_cpu_s": after.celery - before.celery,
        "sql": statements["Com_select"]
        + statements["Com_insert"]
        + statements["Com_update"]
        + statements["Com_delete"],
        "commits": statements["Com_commit"],
    }


def sim_config(base_url: str, rows: int = 3) -> SimConfig:
    return SimConfig(base_url=base_url, enroll_secret=ENROLL_SECRET, rows_per_query=rows)


def hammer_measured(
    stack: Stack,
    app: Service,
    base_url: str,
    endpoint: str,
    *,
    requests: int,
    hosts: int = 200,
    concurrency: int = 8,
    lines: int = 10,
    path: str = "",
    query_id: str = "",
    run_id: str = "bench",
    warmup: bool = True,
) -> dict[str, Any]:
    """Price one endpoint: CPU ms of each process group and SQL statements per request."""
    marks: dict[str, Snapshot] = {}
    raw = asyncio.run(
        hammer(
            sim_config(base_url),
            endpoint=endpoint,
            hosts=hosts,
            requests=requests,
            concurrency=concurrency,
            run_id=run_id,
            lines=lines,
            path=path,
            query_id=query_id,
            mix=("darwin",),
            warmup=warmup,
            on_ready=lambda: marks.setdefault("before", snapshot(stack, app)),
        )
    )
    d = delta(marks["before"], snapshot(stack, app))
    stats = RunStats()
    stats.merge_raw(raw)
    summary = stats.summary()["all"]
    n = summary["requests"]
    return {
        "requests": n,
        "errors": summary["errors"],
        "error_samples": summary["error_samples"],
        "requests_per_s": round(n / raw["elapsed_s"], 1),
        "app_cpu_ms_per_request": 1000 * d["app_cpu_s"] / n,
        "mariadb_cpu_ms_per_request": 1000 * d["mariadb_cpu_s"] / n,
        "redis_cpu_ms_per_request": 1000 * d["redis_cpu_s"] / n,
        "celery_cpu_ms_per_request": 1000 * d["celery_cpu_s"] / n,
        "sql_per_request": d["sql"] / n,
        "commits_per_request": d["commits"] / n,
        "p50_ms": summary["p50_ms"],
        "p99_ms": summary["p99_ms"],
        "elapsed_s": raw["elapsed_s"],
    }


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-key median over several runs (the machine is shared and noisy)."""
    out: dict[str, Any] = {"runs": len(runs)}
    for key, value in runs[0].items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = round(statistics.median(r[key] for r in runs), 4)
    out["errors"] = sum(r["errors"] for r in runs)
    samples = [s for r in runs for s in r.get("error_samples", [])]
    if samples:
        out["error_samples"] = samples[:3]
    return out


def _sim_argv(
    base_url: str, hosts: int, duration: float, ramp: float, warmup: float, rows: int, out: Path
) -> list[str]:
    return [
        str(BIN / "fleetweb-sim"), "run", "--url", base_url, "--secret", ENROLL_SECRET, "--hosts", str(hosts),
        "--duration", str(duration), "--ramp", str(ramp), "--drain", "20", "--platforms", "darwin",
        "--rows", str(rows), "--processes", "2", "--run-id", "bench", "--warmup", str(warmup),
        "--state-file", str(VAR / "sim-state.json"), "--json-out", str(out),
    ]  # fmt: skip


def run_onboarding(stack: Stack, app: Service, base_url: str, hosts: int, rows: int = 3) -> dict[str, Any]:
    """Bring `hosts` new hosts in: enroll, first config, and the vitals, label and policy queries
    a new host is asked at once. The server CPU of all of it, per host, is what each host's hourly
    refresh costs at most (the refresh skips enroll and the first config render)."""
    out_path = VAR / "sim-onboarding.json"
    before = snapshot(stack, app)
    proc = subprocess.Popen(
        _sim_argv(base_url, hosts, duration=40, ramp=10, warmup=0, rows=rows, out=out_path),
        stdout=subprocess.DEVNULL,
        stderr=open(VAR / "sim.log", "ab"),  # noqa: SIM115
    )
    proc.wait(timeout=300)
    d = delta(before, snapshot(stack, app))
    sim = orjson.loads(Path(out_path).read_bytes())
    return {
        "hosts": hosts,
        "app_cpu_ms_per_host": round(1000 * d["app_cpu_s"] / hosts, 3),
        "mariadb_cpu_ms_per_host": round(1000 * d["mariadb_cpu_s"] / hosts, 3),
        "redis_cpu_ms_per_host": round(1000 * d["redis_cpu_s"] / hosts, 3),
        "celery_cpu_ms_per_host": round(1000 * d["celery_cpu_s"] / hosts, 3),
        "sql_per_host": round(d["sql"] / hosts, 2),
        "requests": sim["all"]["requests"],
        "errors": sim["all"]["errors"],
        "distributed_queries_answered": sim["counters"].get("distributed_queries_answered", 0),
        "latency": {
            k: {m: v[m] for m in ("requests", "errors", "p50_ms", "p99_ms")} for k, v in sim["endpoints"].items()
        },
    }


def run_workload(
    stack: Stack,
    app: Service,
    base_url: str,
    hosts: int,
    *,
    window: float,
    ramp: float,
    live_query: Any,
    rows: int = 3,
) -> dict[str, Any]:
    """The full agent workload for `hosts` hosts: CPU measured over `window` seconds of steady
    state after the agents have started; one live query on all hosts a third of the way in."""
    out_path = VAR / f"sim-{hosts}.json"
    settle = 5.0
    duration = ramp + settle + window + 2
    argv = _sim_argv(base_url, hosts, duration=duration, ramp=ramp, warmup=ramp + settle, rows=rows, out=out_path)
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=open(VAR / "sim.log", "ab"))  # noqa: SIM115
    try:
        time.sleep(ramp + settle)
        before = snapshot(stack, app)
        time.sleep(window / 3)
        live_query()
        time.sleep(window - window / 3)
        d = delta(before, snapshot(stack, app))
        # The machine is shared: how busy it was tells how far to trust the latencies.
        load_1min = os.getloadavg()[0]
        proc.wait(timeout=duration + 120)
    finally:
        if proc.poll() is None:
            proc.terminate()
    sim = orjson.loads(Path(out_path).read_bytes())
    per_s = {k: d[k] / d["wall_s"] for k in ("app_cpu_s", "mariadb_cpu_s", "redis_cpu_s", "celery_cpu_s")}
    return {
        "hosts": hosts,
        "window_s": round(d["wall_s"], 1),
        "machine_load_1min": round(load_1min, 2),
        "app_cores_used": round(per_s["app_cpu_s"], 4),
        "hosts_per_core": round(hosts / per_s["app_cpu_s"]) if per_s["app_cpu_s"] else None,
        "mariadb_cpu_ms_per_host_per_min": round(60_000 * per_s["mariadb_cpu_s"] / hosts, 3),
        "redis_cpu_ms_per_host_per_min": round(60_000 * per_s["redis_cpu_s"] / hosts, 3),
        "celery_cpu_ms_per_host_per_min": round(60_000 * per_s["celery_cpu_s"] / hosts, 3),
        "sql_per_host_per_min": round(60 * d["sql"] / d["wall_s"] / hosts, 3),
        "latency": {
            k: {m: v[m] for m in ("requests", "errors", "p50_ms", "p95_ms", "p99_ms")}
            for k, v in sim["endpoints"].items()
        },
        "startup_latency": {
            k: {m: v[m] for m in ("requests", "errors", "p50_ms", "p99_ms")} for k, v in sim.get("startup", {}).items()
        },
        "p50_ms": sim["all"]["p50_ms"],
        "p95_ms": sim["all"]["p95_ms"],
        "p99_ms": sim["all"]["p99_ms"],
        "errors": sim["all"]["errors"],
        "requests": sim["all"]["requests"],
        "counters": sim["counters"],
    }


def paced_cost(
    app: Service, port: int, path: str, body: bytes, pauses_ms: tuple[int, ...] = (0, 5, 20)
) -> dict[str, float]:
    """Server CPU per request when requests arrive back to back and when they arrive apart.

    One client, one kept-alive connection, a pause after each reply. A server that sits idle
    between requests pays more CPU for each one (cold CPU caches, thread wake-ups), which is why
    hosts per core grows with the number of hosts a node serves.
    """
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def post() -> None:
        conn.request("POST", path, body, {"Content-Type": "application/json"})
        conn.getresponse().read()

    out = {}
    try:
        for pause_ms in pauses_ms:
            count = 600 if pause_ms < 10 else 200
            before = cpu_seconds(app.pids())
            for _ in range(count):
                try:
                    post()
                except (ConnectionError, http.client.HTTPException):
                    conn.close()  # the server closed the kept-alive connection: open another
                    post()
                if pause_ms:
                    time.sleep(pause_ms / 1000)
            out[f"pause_{pause_ms}_ms"] = round(1000 * (cpu_seconds(app.pids()) - before) / count, 3)
    finally:
        conn.close()
    return out
