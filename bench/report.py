"""bench/RESULTS.md from bench/results.json."""

from typing import Any


def _f(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def render(r: dict[str, Any]) -> str:
    out: list[str] = []
    w = out.append
    w("# fleetweb benchmark results\n")
    w(f"Produced by `make bench` at {r['generated_at']} on {r['machine']['cpus']} CPUs (Python "
      f"{r['machine']['python']}); the whole run took {r['runtime_s']} s. Server: {r['setup']['app_server']}, "
      "private MariaDB and Redis, one Celery worker and beat, all on loopback; the simulator runs on the same "
      "machine. CPU figures are the server processes' own CPU time (user + system, read with psutil before and "
      f"after each phase), medians of {r['setup']['runs_per_measurement']} runs.\n")  # fmt: skip
    w("## Headline\n")
    w("| measure | value |\n|---|---|")
    w(
        f"| hosts per app-server core (measured, median over host counts, hourly refresh included) | **{_f(r['hosts_per_core'])}** |"
    )
    w(f"| the same without the hourly vitals/labels/policies refresh | {_f(r['hosts_per_core_steady'])} |")
    w(f"| hosts per core predicted from per-endpoint prices | {_f(r['hosts_per_core_model']['hosts_per_core'])} |")
    w(f"| p99 latency at the largest host count, all endpoints | {_f(r['p99_ms'], 1)} ms |")
    w(f"| floor: minimal Django view returning {{}} | {_f(r['floor_cpu_ms'])} ms CPU per request |")
    w(f"| log intake | {_f(r['intake_lines_per_s'])} lines/s |")
    fwd = r["forward_events_per_s"]
    if isinstance(fwd, dict):
        fwd = ", ".join(f"{k} {_f(v, 0)}" for k, v in fwd.items())
    w(f"| forwarding (events/s) | {_f(fwd)} |")
    w("")
    w(f"Workload: {r['setup']['workload']}; {r['setup']['result_lines_per_host_per_hour']:.0f} result lines per "
      "host per hour.\n")  # fmt: skip
    w("## Server CPU and SQL per request, by endpoint\n")
    w("Each endpoint sent flat out by the simulator (`fleetweb-sim hammer`) after one warm-up request per host. "
      "SQL is counted two ways: exactly, by Django in-process in steady state (`sql_per_request`), and from "
      "MariaDB's own statement counters during the runs (includes the Celery worker and beat).\n")  # fmt: skip
    w(
        "| endpoint | app CPU ms/req | × floor | SQL/req (exact) | SQL/req (MariaDB counters) | MariaDB CPU ms/req | Redis CPU ms/req | req/s | p50 ms | p99 ms | errors |"
    )
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, e in r["endpoints"].items():
        exact = r["sql_per_request"].get(name)
        w(f"| {name} | {_f(e['app_cpu_ms_per_request'])} | {_f(e['ratio_to_floor'], 2)} | {_f(exact)} | "
          f"{_f(e['sql_per_request'], 2)} | {_f(e['mariadb_cpu_ms_per_request'])} | {_f(e['redis_cpu_ms_per_request'])} | "
          f"{_f(e['requests_per_s'], 0)} | {_f(e['p50_ms'], 1)} | {_f(e['p99_ms'], 1)} | {e['errors']} |")  # fmt: skip
    f = r["floor"]
    w(f"| floor (`/bench/floor`) | {_f(f['app_cpu_ms_per_request'])} | 1.00 | 0 | {_f(f['sql_per_request'], 2)} | "
      f"{_f(f['mariadb_cpu_ms_per_request'])} | {_f(f['redis_cpu_ms_per_request'])} | {_f(f['requests_per_s'], 0)} | "
      f"{_f(f['p50_ms'], 1)} | {_f(f['p99_ms'], 1)} | {f['errors']} |\n")  # fmt: skip
    paced = (r.get("paced_cpu_ms_per_request") or {}).get("floor")
    if paced:
        w("## Why hosts per core grows with load\n")
        w("The floor view again, one request at a time on one kept-alive connection, with a pause after each "
          "reply: a server that idles between requests pays more CPU for each one (cold CPU caches, thread "
          "wake-ups). The per-endpoint prices above are measured back to back; an app node serving few hosts "
          "idles between their requests and pays the higher price, so the workload's hosts per core rises "
          "with the host count.\n")  # fmt: skip
        w("| pause between requests | " + " | ".join(k.split("_")[1] + " ms" for k in paced) + " |")
        w("|---|" + "---|" * len(paced))
        w("| app CPU ms per request | " + " | ".join(_f(v) for v in paced.values()) + " |\n")
    ob = r["onboarding"]
    w("## Onboarding (and the hourly refresh)\n")
    w(f"{ob['hosts']} hosts started at once: enroll, first config, then the vitals, label and policy queries a "
      f"new host is asked at once ({ob['distributed_queries_answered']} answered). Per host: app server "
      f"{ob['app_cpu_ms_per_host']} ms CPU, MariaDB {ob['mariadb_cpu_ms_per_host']} ms, Redis "
      f"{ob['redis_cpu_ms_per_host']} ms, Celery {ob['celery_cpu_ms_per_host']} ms, {ob['sql_per_host']} SQL "
      f"statements; {ob['requests']} requests, {ob['errors']} errors. The hourly refresh repeats the vitals, "
      "label and policy part, so hosts per core charges every host this whole cost once an hour on top of the "
      "steady state.\n")  # fmt: skip
    w("## Workload at each host count\n")
    w(
        "| hosts | load avg (1 min) | app cores used | hosts/core | MariaDB CPU ms/host/min | Redis CPU ms/host/min | Celery CPU ms/host/min | SQL/host/min | requests | errors | p50 ms | p95 ms | p99 ms |"
    )
    w("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for wl in r["workload"]:
        w(f"| {wl['hosts']} | {_f(wl.get('machine_load_1min'), 2)} | {_f(wl['app_cores_used'])} | {_f(wl.get('hosts_per_core_steady', wl['hosts_per_core']))} | "
          f"{_f(wl['mariadb_cpu_ms_per_host_per_min'])} | {_f(wl['redis_cpu_ms_per_host_per_min'])} | "
          f"{_f(wl['celery_cpu_ms_per_host_per_min'])} | {_f(wl['sql_per_host_per_min'])} | {wl['requests']} | "
          f"{wl['errors']} | {_f(wl['p50_ms'], 1)} | {_f(wl['p95_ms'], 1)} | {_f(wl['p99_ms'], 1)} |")  # fmt: skip
    w("")
    w("Latency by endpoint (p50 / p95 / p99 ms):\n")
    names = sorted({k for wl in r["workload"] for k in wl["latency"]})
    w("| hosts | " + " | ".join(names) + " |")
    w("|---|" + "---|" * len(names))
    for wl in r["workload"]:
        cells = []
        for n in names:
            e = wl["latency"].get(n)
            cells.append(f"{e['p50_ms']:.1f} / {e['p95_ms']:.1f} / {e['p99_ms']:.1f} ({e['requests']})" if e else "")
        w(f"| {wl['hosts']} | " + " | ".join(cells) + " |")
    w("")
    w("Start-up of each run (agents starting over 10 s, reported apart from the steady state above; only "
      "hosts new to the run enroll, the others keep their node keys as real agents do):\n")  # fmt: skip
    w("| hosts | requests | worst endpoint p99 ms | by endpoint (requests, p50 / p99 ms) |")
    w("|---|---|---|---|")
    for wl in r["workload"]:
        st = wl.get("startup_latency") or {}
        if not st:
            continue
        worst = max(e["p99_ms"] for e in st.values())
        detail = "; ".join(f"{k} ({e['requests']}, {e['p50_ms']:.0f} / {e['p99_ms']:.0f})" for k, e in st.items())
        w(f"| {wl['hosts']} | {sum(e['requests'] for e in st.values())} | {worst:.0f} | {detail} |")
    w("")
    w("## Serving stack: why granian, and why orjson\n")
    w("The same project under each server, same worker count; CPU per request of the floor view and of "
      "distributed/read (all server processes, master included). Agent nodes answer the node endpoints in "
      "the agent fast path (collector/node/wsgi.py), before Django's request cycle; \"Django views only\" "
      "is the same node with FLEETWEB_AGENT_FAST_PATH=false. The fast path is WSGI middleware, so the ASGI "
      "server runs without it.\n")  # fmt: skip
    w("| server | floor CPU ms/req | floor p99 ms | distributed/read CPU ms/req | distributed/read p99 ms |")
    w("|---|---|---|---|---|")
    for server, s in r["servers"].items():
        w(f"| {server} | {_f(s['floor']['app_cpu_ms_per_request'])} | {_f(s['floor']['p99_ms'], 1)} | "
          f"{_f(s['distributed_read']['app_cpu_ms_per_request'])} | {_f(s['distributed_read']['p99_ms'], 1)} |")  # fmt: skip
    w("")
    w("| JSON library | parse a 100-line log post (µs) | serialise it (µs) |")
    w("|---|---|---|")
    for lib, j in r["json_libraries"].items():
        w(f"| {lib} | {j['loads_100_line_log_us']} | {j['dumps_100_line_log_us']} |")
    w("")
    w("## Intake and forwarding\n")
    for key, value in r["collector"].items():
        if isinstance(value, dict):
            w(f"- {key}:")
            for k, v in value.items():
                w(f"  - {k}: {_f(v)}")
        else:
            w(f"- {key}: {_f(value)}")
    if r.get("live_fanout"):
        w("\n## Live query fan-out\n")
        for key, value in r["live_fanout"].items():
            w(f"- {key}: {_f(value) if not isinstance(value, dict) else value}")
    w("\n## How to read this\n")
    w("- *hosts per core* = hosts ÷ app-server cores busy during the measured window of the workload run "
      "(server CPU seconds ÷ wall seconds). MariaDB, Redis and Celery are reported separately per host.\n"
      "- *× floor* compares an endpoint with a Django view that returns `{}` on the same stack. The node "
      "endpoints skip Django's request cycle (the agent fast path), so their ratio is what fleetweb's own work "
      "(Redis, SQL, JSON, gzip) costs next to Django serving an empty view.\n"
      "- The simulator shares the 2 CPUs with the server, MariaDB and Redis, and the machine is shared, so "
      "latencies include queueing behind the simulator itself and behind whatever else runs on the machine "
      "(the load average column: above 2 means processes were waiting for a CPU); treat them as upper bounds.\n"
      "- Re-run with `make bench`; knobs: BENCH_HOSTS, BENCH_WINDOW, BENCH_RUNS, BENCH_WORKERS.")  # fmt: skip
    return "\n".join(out) + "\n"
