"""Command line: `fleetweb-sim run --url https://fleet:8443 --hosts 1000 --secret S --duration 120`.

`run` simulates the full agent workload and prints, per endpoint, requests, errors and latency
percentiles; `hammer` sends one endpoint flat out (used by `make bench` to price each endpoint).
Agents are split over `--processes` worker processes, each with its own event loop and pool.
"""

import argparse
import asyncio
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import orjson

from .agent import SimConfig
from .runner import dumps, hammer, simulate
from .stats import RunStats
from .templates import PLATFORMS


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", required=True, help="server base URL, e.g. https://127.0.0.1:8443")
    p.add_argument("--secret", default=os.environ.get("FLEETWEB_SIM_SECRET", ""), help="enroll secret")
    p.add_argument("--hosts", type=int, default=100)
    p.add_argument("--run-id", default="sim", help="hosts are named <platform>-<run-id>-<n>; reuse to re-enroll")
    p.add_argument("--platforms", default=",".join(PLATFORMS), help="mix, cycled: darwin,ubuntu,windows")
    p.add_argument("--rows", type=int, default=3, help="rows per scheduled or live query result")
    p.add_argument("--no-compress", action="store_true", help="send logger posts uncompressed")
    p.add_argument("--no-nodekey-header", action="store_true", help="act like agents before 5.23")
    p.add_argument("--ca", help="CA bundle to verify the server with")
    p.add_argument("--insecure", action="store_true", help="skip TLS verification (loopback tests only)")
    p.add_argument("--json-out", help="write the summary as JSON here")


def _config(args: argparse.Namespace) -> SimConfig:
    return SimConfig(
        base_url=args.url.rstrip("/"),
        enroll_secret=args.secret,
        distributed_interval=getattr(args, "distributed_interval", 10.0),
        config_refresh=getattr(args, "config_refresh", 60.0),
        logger_tls_period=getattr(args, "logger_tls_period", 10.0),
        rows_per_query=args.rows,
        status_lines_per_period=getattr(args, "status_lines", 0.2),
        compress_logs=not args.no_compress,
        node_key_header=not args.no_nodekey_header,
        ramp_seconds=getattr(args, "ramp", 10.0),
    )


def _run_slice(cfg: SimConfig, indices: list[int], opts: dict[str, Any]) -> dict[str, Any]:
    return asyncio.run(simulate(cfg, indices, **opts))


def cmd_run(args: argparse.Namespace) -> dict[str, Any]:
    cfg = _config(args)
    mix = [p.strip() for p in args.platforms.split(",") if p.strip()]
    opts: dict[str, Any] = {
        "run_id": args.run_id,
        "duration": args.duration,
        "drain_seconds": args.drain,
        "mix": mix,
        "connections": args.connections,
        "ca_file": args.ca,
        "insecure": args.insecure,
        "warmup_seconds": args.warmup,
    }
    state: dict[str, dict[str, str]] = {}
    if args.state_file and os.path.exists(args.state_file):
        with open(args.state_file, "rb") as fh:
            state = orjson.loads(fh.read())
    opts["node_keys"] = state.get(f"{args.url}|{args.run_id}", {})
    started = time.time()
    stats = RunStats()
    keys: dict[str, str] = {}
    slices = [list(range(args.first + k, args.first + args.hosts, args.processes)) for k in range(args.processes)]
    if args.processes == 1:
        raws = [_run_slice(cfg, slices[0], opts)]
    else:
        with ProcessPoolExecutor(max_workers=args.processes) as pool:
            raws = list(pool.map(_run_slice, [cfg] * args.processes, slices, [opts] * args.processes))
    for raw in raws:
        stats.merge_raw(raw)
        keys.update(raw["node_keys"])
    if args.state_file:
        state[f"{args.url}|{args.run_id}"] = {**opts["node_keys"], **keys}
        with open(args.state_file, "wb") as fh:
            fh.write(orjson.dumps(state))
    summary = stats.summary()
    summary.update({"hosts": args.hosts, "duration_s": args.duration, "wall_s": round(time.time() - started, 1)})
    return summary


def cmd_hammer(args: argparse.Namespace) -> dict[str, Any]:
    raw = asyncio.run(
        hammer(
            _config(args),
            endpoint=args.endpoint,
            hosts=args.hosts,
            requests=args.requests,
            concurrency=args.concurrency,
            run_id=args.run_id,
            lines=args.lines,
            path=args.path,
            query_id=args.query_id,
            ca_file=args.ca,
            insecure=args.insecure,
        )
    )
    stats = RunStats()
    stats.merge_raw(raw)
    summary = stats.summary()
    summary["elapsed_s"] = round(raw["elapsed_s"], 3)
    summary["requests_per_s"] = round(args.requests / raw["elapsed_s"], 1) if raw["elapsed_s"] else 0
    return summary


def print_table(summary: dict[str, Any]) -> None:
    out = sys.stdout
    out.write(f"{'endpoint':<20}{'requests':>10}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}\n")
    for name, s in [*summary["endpoints"].items(), ("(all)", summary["all"])]:
        out.write(
            f"{name:<20}{s['requests']:>10}{s['errors']:>8}{s['p50_ms']:>9.1f}{s['p95_ms']:>9.1f}{s['p99_ms']:>9.1f}\n"
        )
        for sample in s["error_samples"][:2] if name != "(all)" else []:
            out.write(f"    e.g. {sample}\n")
    if summary.get("startup"):
        startup = summary["startup"]
        out.write("startup (before the warm-up ended): ")
        out.write(", ".join(f"{k} {v['requests']} req p99 {v['p99_ms']:.0f} ms" for k, v in startup.items()) + "\n")
    for name, value in summary["counters"].items():
        out.write(f"  {name}: {value}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fleetweb-sim", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="simulate N agents with the full workload")
    _common(run)
    run.add_argument("--first", type=int, default=0, help="index of the first host (to split fleets)")
    run.add_argument("--duration", type=float, default=60.0, help="seconds of simulated traffic")
    run.add_argument("--drain", type=float, default=30.0, help="seconds to flush buffered logs after the run")
    run.add_argument("--ramp", type=float, default=10.0, help="agent start times spread over this many seconds")
    run.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="requests in the first N seconds (enrollment storm) are reported apart as startup; default ramp + 5",
    )
    run.add_argument("--distributed-interval", type=float, default=10.0)
    run.add_argument("--config-refresh", type=float, default=60.0)
    run.add_argument("--logger-tls-period", type=float, default=10.0)
    run.add_argument("--status-lines", type=float, default=0.2, help="status lines per host per logger period")
    run.add_argument("--processes", type=int, default=1)
    run.add_argument("--connections", type=int, default=256, help="connection pool size per process")
    run.add_argument("--state-file", help="keep node keys here between runs, so agents skip re-enrolling")
    ham = sub.add_parser("hammer", help="send one endpoint flat out")
    _common(ham)
    ham.add_argument(
        "--endpoint", required=True, choices=("enroll", "config", "distributed_read", "distributed_write", "log", "raw")
    )
    ham.add_argument("--requests", type=int, default=1000)
    ham.add_argument("--concurrency", type=int, default=8)
    ham.add_argument("--lines", type=int, default=10, help="result lines per log post")
    ham.add_argument("--path", default="", help="path for --endpoint raw")
    ham.add_argument("--query-id", default="fleetweb_live_0", help="query id answered by distributed_write")
    args = parser.parse_args(argv)
    if not args.secret and getattr(args, "endpoint", "") != "raw":
        parser.error("--secret (or FLEETWEB_SIM_SECRET) is required")
    summary = cmd_run(args) if args.command == "run" else cmd_hammer(args)
    print_table(summary)
    if args.json_out:
        with open(args.json_out, "wb") as fh:
            fh.write(dumps(summary))
    return 0
