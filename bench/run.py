"""`make bench`: bring up the stack, price every agent endpoint, run the workload at several host
counts, and write bench/results.json and bench/RESULTS.md.

Knobs (environment): BENCH_HOSTS (comma list, default 1000,1500,2000), BENCH_WINDOW (seconds of
steady state measured per host count, default 60), BENCH_RUNS (runs per endpoint, default 3),
BENCH_WORKERS (app server workers, default 2), BENCH_SURFACES (FLEETWEB_SURFACES of the measured
node, default agent).
"""

import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from .measure import hammer_measured, median_of, paced_cost, run_onboarding, run_workload
from .stack import APP_PORT, REPO, VAR, Stack

HERE = Path(__file__).resolve().parent
FLOOR_PATH = "/bench/floor"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# (label, server, environment): the same project under each WSGI/ASGI server, and granian with and
# without the agent fast path (collector/node/wsgi.py) and the operator middleware.
SERVER_VARIANTS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("granian, agent node", "granian", {"FLEETWEB_SURFACES": "agent"}),
    (
        "granian, agent node, Django views only",
        "granian",
        {"FLEETWEB_SURFACES": "agent", "FLEETWEB_AGENT_FAST_PATH": "false"},
    ),
    ("granian, all surfaces", "granian", {"FLEETWEB_SURFACES": "all"}),
    ("gunicorn sync, agent node", "gunicorn", {"FLEETWEB_SURFACES": "agent"}),
    ("uvicorn ASGI, agent node (no fast path)", "uvicorn", {"FLEETWEB_SURFACES": "agent"}),
)


def measure_servers(stack: Stack, runs: int, workers: int) -> dict[str, Any]:
    """The floor view and distributed/read under each serving variant."""
    out: dict[str, Any] = {}
    for offset, (label, server, variant_env) in enumerate(SERVER_VARIANTS, start=1):
        port = APP_PORT + offset
        log(f"serving stack: {label} on :{port}")
        app = stack.start_app(server, workers=workers, port=port, extra_env=variant_env)
        url = f"http://127.0.0.1:{port}"
        try:
            floor = [
                hammer_measured(stack, app, url, "raw", requests=3000, hosts=8, path=FLOOR_PATH) for _ in range(runs)
            ]
            read = [
                hammer_measured(stack, app, url, "distributed_read", requests=2000, hosts=100, run_id="srv")
                for _ in range(runs)
            ]
            out[label] = {"floor": median_of(floor), "distributed_read": median_of(read)}
        finally:
            stack.stop(app.name)
    return out


def sql_counts_in_process() -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Exact statements per agent request in steady state, counted by Django itself."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fleetweb_sim.templates import enroll_details, host_identity, result_line, rows_for
    from tests.wsgi_client import WSGIClient

    from .seed import ENROLL_SECRET

    # Through the production WSGI entry point (the agent fast path in front of Django).
    client = WSGIClient()
    host = host_identity(999_999, "darwin", "sqlcount")
    mask, details = enroll_details(host, int(time.time()))
    enroll = {"enroll_secret": ENROLL_SECRET, "host_identifier": host.hostname, "platform_type": mask}
    host_header = {"Host": "localhost"}
    reply = client.generic(
        "POST", "/api/osquery/enroll", orjson.dumps({**enroll, "host_details": details}), headers=host_header
    )
    node_key = orjson.loads(reply.content)["node_key"]

    statements: dict[str, list[str]] = {}

    def count(path: str, body: dict[str, Any], name: str = "") -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.generic("POST", path, orjson.dumps({"node_key": node_key, **body}), headers=host_header)
        assert "error" not in orjson.loads(response.content), response.content
        if name:
            statements[name] = [q["sql"][:90] for q in ctx.captured_queries]
        return len(ctx.captured_queries)

    out: dict[str, Any] = {}
    for name, path in (("distributed_read", "/api/osquery/distributed/read"), ("config", "/api/osquery/config")):
        count(path, {})  # the first call fills the caches
        out[name] = count(path, {}, name)
    now = time.time()
    for lines in (1, 10, 100):
        data = [
            result_line("pack/bench/processes", host, r, now, 1)
            for r in rows_for("SELECT * FROM processes", host, lines)
        ]
        key = f"log_{lines}_line" + ("s" if lines > 1 else "")
        out[key] = count("/api/osquery/log", {"log_type": "result", "data": data}, key)
    out["distributed_write"] = count(
        "/api/osquery/distributed/write",
        {"queries": {"fleetweb_live_0": [{"a": "1"}]}, "statuses": {"fleetweb_live_0": 0}, "messages": {}},
        "distributed_write",
    )
    return out, statements


def launch_live_query(sql: str = "SELECT name, version FROM os_version;") -> int:
    from hosts.models import Host
    from queries.live import campaign_launch

    campaign = campaign_launch(sql=sql, host_ids=list(Host.objects.values_list("id", flat=True)))
    return campaign.pk


def json_libraries() -> dict[str, Any]:
    """orjson against the standard library on the bodies fleetweb handles most."""
    import json
    import timeit

    from fleetweb_sim.templates import host_identity, result_line, rows_for

    host = host_identity(1, "darwin", "json")
    rows = rows_for("SELECT * FROM processes", host, 100)
    log_body = {
        "node_key": "k" * 43,
        "log_type": "result",
        "data": [result_line("pack/m/processes", host, r, 0, 1) for r in rows],
    }
    raw = orjson.dumps(log_body)

    def per_call_us(fn: Any, arg: Any, n: int = 200) -> float:
        return round(1e6 * min(timeit.repeat(lambda: fn(arg), number=n, repeat=5)) / n, 1)

    out: dict[str, Any] = {}
    for name, dumps, loads in (("orjson", orjson.dumps, orjson.loads), ("json", json.dumps, json.loads)):
        out[name] = {
            "loads_100_line_log_us": per_call_us(loads, raw),
            "dumps_100_line_log_us": per_call_us(dumps, log_body),
        }
    return out


def _fragment(script: Path, stack: Stack, key: str, *args: str, redis_db: int = 1) -> dict[str, Any] | None:
    """Run another part's benchmark script (when this checkout has it) against the bench stack and
    read the JSON fragment it writes with --out. None if it is absent or fails."""
    if not script.exists():
        return None
    target = VAR / f"{script.stem}.json"
    target.unlink(missing_ok=True)
    env = stack.app_env()
    # A Redis database of its own: the running app node, worker and beat use database 0.
    env["REDIS_URL"] = env["REDIS_URL"].rsplit("/", 1)[0] + f"/{redis_db}"
    try:
        result = subprocess.run(
            [sys.executable, str(script), "--out", str(target), *args],
            env=env,
            cwd=REPO,
            check=False,
            timeout=300,
            stdout=subprocess.DEVNULL,
            stderr=open(VAR / f"{script.stem}.log", "wb"),  # noqa: SIM115
        )
    except subprocess.TimeoutExpired:
        log(f"{script.name} timed out")
        return None
    if result.returncode != 0 or not target.exists():
        log(f"{script.name} failed (exit {result.returncode}); see var/bench/{script.stem}.log")
        return None
    data = orjson.loads(target.read_bytes())
    return data.get(key, data) if isinstance(data, dict) else None


def collector_rates(stack: Stack, url: str, app: Any, runs: int) -> dict[str, Any]:
    """Intake and forwarding rates: the collector's own benchmark when present; intake through the
    real app server (log posts of 100 lines, flat out) always."""
    samples = [
        hammer_measured(stack, app, url, "log", requests=300, hosts=50, lines=100, concurrency=16) for _ in range(runs)
    ]
    out: dict[str, Any] = {
        "intake_lines_per_s": round(median_of(samples)["requests_per_s"] * 100),
        "intake_source": "log posts of 100 lines, 16 in flight, through granian and the simulator",
    }
    collector = _fragment(HERE / "collector_bench.py", stack, "collector", redis_db=2)
    if collector:
        out["collector_bench"] = collector
        out["forward_events_per_s"] = collector.get("forward_events_per_s")
        out["intake_lines_per_s_in_process"] = collector.get("intake_lines_per_s")
    else:
        out["forward_events_per_s"] = None
        out["forward_note"] = "bench/collector_bench.py is not in this checkout; forwarding not measured"
    return out


def live_fanout(stack: Stack) -> dict[str, Any] | None:
    return _fragment(HERE / "live_fanout.py", stack, "live_fanout", "--hosts", "1000", redis_db=3)


def main() -> int:
    # The seed deployment: 3,000 hosts on two app nodes, so 1,500 per node is the middle count.
    host_counts = [int(h) for h in os.environ.get("BENCH_HOSTS", "1000,1500,2000").split(",")]
    window = float(os.environ.get("BENCH_WINDOW", "60"))
    runs = env_int("BENCH_RUNS", 3)
    workers = env_int("BENCH_WORKERS", 2)
    # Agents are served by agent nodes in a deployment at scale (docs/deploying-at-scale.md).
    surfaces = os.environ.get("BENCH_SURFACES", "agent")
    started = time.time()
    load_at_start = os.getloadavg()
    stack = Stack()
    results: dict[str, Any] = {}
    try:
        log("starting private MariaDB and Redis")
        stack.start_mariadb()
        stack.start_redis()
        # A fresh database: node keys the simulator kept from an earlier run are void.
        (VAR / "sim-state.json").unlink(missing_ok=True)
        stack.manage("migrate", "-v0")
        subprocess.run([sys.executable, "-m", "bench.seed"], env=stack.app_env(), cwd=REPO, check=True)
        os.environ.update(stack.app_env())
        import django

        django.setup()

        servers = measure_servers(stack, runs, workers)

        log(f"app server: granian ({surfaces} surface), Celery worker and beat")
        app = stack.start_app("granian", workers=workers, extra_env={"FLEETWEB_SURFACES": surfaces})
        stack.start_celery()
        url = f"http://127.0.0.1:{APP_PORT}"
        floor = median_of(
            [hammer_measured(stack, app, url, "raw", requests=3000, hosts=8, path=FLOOR_PATH) for _ in range(runs)]
        )

        log("CPU per request when requests arrive apart")
        paced = {"floor": paced_cost(app, APP_PORT, FLOOR_PATH, b"{}")}

        log("pricing each endpoint")
        endpoints: dict[str, Any] = {}
        pricing: tuple[tuple[str, str, dict[str, Any]], ...] = (
            ("distributed_read", "distributed_read", {"requests": 3000}),
            ("config", "config", {"requests": 2000}),
            ("log_1_line", "log", {"requests": 1500, "lines": 1}),
            ("log_10_lines", "log", {"requests": 1500, "lines": 10}),
            ("log_100_lines", "log", {"requests": 600, "lines": 100}),
            ("enroll", "enroll", {"requests": 400, "hosts": 200}),
        )
        for name, endpoint, kwargs in pricing:
            endpoints[name] = median_of([hammer_measured(stack, app, url, endpoint, **kwargs) for _ in range(runs)])
        writes = []
        for _ in range(runs):
            query_id = f"fleetweb_live_{launch_live_query()}"
            writes.append(
                hammer_measured(
                    stack, app, url, "distributed_write", requests=200, hosts=200, query_id=query_id, warmup=False
                )
            )
        endpoints["distributed_write"] = median_of(writes)
        for data in endpoints.values():
            data["ratio_to_floor"] = round(data["app_cpu_ms_per_request"] / floor["app_cpu_ms_per_request"], 2)

        log("counting SQL per request")
        sql_exact, sql_statements = sql_counts_in_process()

        log("intake and forwarding")
        collector = collector_rates(stack, url, app, runs)
        fanout = live_fanout(stack)

        log(f"onboarding {max(host_counts)} hosts: enroll, first config, vitals, labels, policies")
        onboarding = run_onboarding(stack, app, url, max(host_counts))
        log(f"  -> {onboarding['app_cpu_ms_per_host']} ms app CPU per host")

        workload = []
        for hosts in host_counts:
            log(f"workload: {hosts} hosts, {window:.0f} s measured")
            workload.append(
                run_workload(stack, app, url, hosts, window=window, ramp=10.0, live_query=launch_live_query)
            )
            last = workload[-1]
            log(f"  -> {last['hosts_per_core']} hosts/core, p99 {last['p99_ms']} ms, errors {last['errors']}")

        results = build_results(
            servers=servers, floor=floor, endpoints=endpoints, sql_exact=sql_exact, sql_statements=sql_statements,
            collector=collector, fanout=fanout, workload=workload, onboarding=onboarding, window=window, runs=runs,
            paced=paced,
            workers=workers, started=started, surfaces=surfaces, load_at_start=load_at_start,
        )  # fmt: skip
    finally:
        stack.stop_all()
    (HERE / "results.json").write_bytes(
        orjson.dumps(results, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    )
    from .report import render

    (HERE / "RESULTS.md").write_text(render(results))
    log(f"wrote bench/results.json and bench/RESULTS.md in {time.time() - started:.0f} s")
    return 0


def model_hosts_per_core(endpoints: dict[str, Any], rows: int, lines_per_host_hour: float) -> dict[str, Any]:
    """Hosts per core predicted from per-endpoint prices and the workload's request mix."""
    result_posts = 1 / 10  # logger_tls_period 10 s (a post only when lines are buffered; bounded by this)
    log_lines_per_post = lines_per_host_hour / 3600 * 10
    log_cost = endpoints["log_10_lines"]["app_cpu_ms_per_request"]
    if log_lines_per_post < 5:
        log_cost = endpoints["log_1_line"]["app_cpu_ms_per_request"]
    per_host_ms_per_s = (
        endpoints["distributed_read"]["app_cpu_ms_per_request"] / 10
        + endpoints["config"]["app_cpu_ms_per_request"] / 60
        + result_posts * log_cost
        + endpoints["log_1_line"]["app_cpu_ms_per_request"] / 50  # status lines
    )
    return {"hosts_per_core": round(1000 / per_host_ms_per_s), "app_cpu_ms_per_host_per_s": round(per_host_ms_per_s, 4)}


def build_results(**p: Any) -> dict[str, Any]:
    from .seed import MUST_HAVE_MACOS

    endpoints, workload, floor, onboarding = p["endpoints"], p["workload"], p["floor"], p["onboarding"]
    lines_per_host_hour = sum(3 * 3600 / interval for _, _, interval in MUST_HAVE_MACOS)
    # Steady-state windows contain no hourly vitals/label/policy refresh (every host was onboarded
    # minutes before); add each host's onboarding CPU once per hour, an upper bound on the refresh.
    hourly_ms_per_host_s = onboarding["app_cpu_ms_per_host"] / 3600
    for w in workload:
        steady_ms_per_host_s = 1000 * w["app_cores_used"] / w["hosts"]
        w["hosts_per_core_steady"] = w["hosts_per_core"]
        w["hosts_per_core"] = round(1000 / (steady_ms_per_host_s + hourly_ms_per_host_s))
    hpc = [w["hosts_per_core"] for w in workload if w["hosts_per_core"]]
    largest = max(workload, key=lambda w: w["hosts"]) if workload else None
    return {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg_at_start": p["load_at_start"],
            "load_avg_at_end": os.getloadavg(),
        },
        "setup": {
            "app_server": f"granian wsgi, {p['workers']} workers, {os.environ.get('BENCH_GRANIAN_THREADS', '4')} "
            f"blocking threads each, FLEETWEB_SURFACES={p['surfaces']}",
            "runs_per_measurement": p["runs"],
            "workload_window_s": p["window"],
            "workload": "distributed_interval 10 s, config_refresh 60 s, logger_tls_period 10 s, macOS must-have "
            f"pack ({len(MUST_HAVE_MACOS)} queries, 3 rows each), 6 dynamic labels, 6 policies, "
            "one live query on all hosts",
            "result_lines_per_host_per_hour": lines_per_host_hour,
        },
        "hosts_per_core": round(statistics.median(hpc)) if hpc else None,
        "hosts_per_core_steady": round(statistics.median(w["hosts_per_core_steady"] for w in workload)),
        "hosts_per_core_model": model_hosts_per_core(endpoints, 3, lines_per_host_hour),
        "onboarding": onboarding,
        "p99_ms": largest["p99_ms"] if largest else None,
        "floor_cpu_ms": floor["app_cpu_ms_per_request"],
        "cpu_ms_per_request": {k: v["app_cpu_ms_per_request"] for k, v in endpoints.items()},
        "ratio_to_floor": {k: v["ratio_to_floor"] for k, v in endpoints.items()},
        "sql_per_request": p["sql_exact"],
        "sql_statements": p["sql_statements"],
        "sql_per_request_server_counters": {k: v["sql_per_request"] for k, v in endpoints.items()},
        "mariadb_cpu_ms_per_request": {k: v["mariadb_cpu_ms_per_request"] for k, v in endpoints.items()},
        "redis_cpu_ms_per_request": {k: v["redis_cpu_ms_per_request"] for k, v in endpoints.items()},
        "intake_lines_per_s": p["collector"].get("intake_lines_per_s"),
        "forward_events_per_s": p["collector"].get("forward_events_per_s"),
        "collector": p["collector"],
        "live_fanout": p["fanout"],
        "endpoints": endpoints,
        "floor": floor,
        "paced_cpu_ms_per_request": p["paced"],
        "servers": p["servers"],
        "json_libraries": json_libraries(),
        "workload": workload,
        "runtime_s": round(time.time() - p["started"]),
    }


if __name__ == "__main__":
    raise SystemExit(main())
