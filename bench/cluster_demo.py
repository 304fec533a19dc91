"""`make cluster-demo`: two agent nodes and one operator node behind nginx (TLS) on loopback,
shared MariaDB and Redis, two Celery workers and one beat. The simulator runs through nginx;
one agent node is killed mid-run and restarted. The demo shows how requests and hosts spread over
both nodes and checks that every log line the agents were told was stored is in the database.

Writes bench/CLUSTER.md (the last run) and exits non-zero if a line was lost or a surface leaked.
"""

import contextlib
import os
import signal
import ssl
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson

from .run import launch_live_query
from .seed import ENROLL_SECRET
from .stack import BIN, PORT_BASE, REPO, VAR, Stack, wait_for

HERE = Path(__file__).resolve().parent
CLUSTER = VAR / "cluster"
NODE_PORTS = {"app1": PORT_BASE + 30, "app2": PORT_BASE + 31, "ops": PORT_BASE + 32}
AGENT_LISTEN = PORT_BASE + 43
OPERATOR_LISTEN = PORT_BASE + 44
HOSTS = int(os.environ.get("CLUSTER_HOSTS", "300"))
DURATION = float(os.environ.get("CLUSTER_DURATION", "60"))
KILL_AT, RESTART_AT = DURATION * 0.4, DURATION * 0.75


def log(message: str) -> None:
    print(f"[cluster {time.strftime('%H:%M:%S')}] {message}", flush=True)


def make_cert() -> tuple[Path, Path]:
    cert, key = CLUSTER / "tls.crt", CLUSTER / "tls.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def start_nginx(stack: Stack, cert: Path, key: Path) -> None:
    template = string.Template((REPO / "deploy" / "nginx" / "fleetweb.conf.template").read_text())
    site = template.safe_substitute(
        AGENT_SERVERS="\n".join(
            f"    server 127.0.0.1:{NODE_PORTS[n]} max_fails=1 fail_timeout=5s;" for n in ("app1", "app2")
        ),
        OPERATOR_SERVERS=f"    server 127.0.0.1:{NODE_PORTS['ops']};",
        AGENT_LISTEN=f"127.0.0.1:{AGENT_LISTEN}",
        OPERATOR_LISTEN=f"127.0.0.1:{OPERATOR_LISTEN}",
        SERVER_NAME="localhost",
        TLS_CERT=cert,
        TLS_KEY=key,
        LOG_DIR=CLUSTER,
    )
    (CLUSTER / "fleetweb.conf").write_text(site)
    (CLUSTER / "nginx.conf").write_text(
        f"worker_processes 1;\npid {CLUSTER}/nginx.pid;\nerror_log {CLUSTER}/nginx-error.log warn;\n"
        "events { worker_connections 2048; }\n"
        f"http {{\n  client_body_temp_path {CLUSTER}/body;\n  proxy_temp_path {CLUSTER}/proxy;\n"
        f"  include {CLUSTER}/fleetweb.conf;\n}}\n"
    )
    subprocess.run(["nginx", "-t", "-q", "-p", str(CLUSTER), "-c", str(CLUSTER / "nginx.conf")], check=True)
    stack._spawn("nginx", ["nginx", "-p", str(CLUSTER), "-c", str(CLUSTER / "nginx.conf"), "-g", "daemon off;"])
    import socket

    wait_for(lambda: bool(socket.create_connection(("127.0.0.1", AGENT_LISTEN), timeout=1)), "nginx")


def fetch(url: str, cert: Path, data: bytes | None = None) -> tuple[int, bytes, str]:
    ctx = ssl.create_default_context(cafile=str(cert)) if url.startswith("https") else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5, context=ctx) as resp:  # noqa: S310 - loopback
            return resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


def check_surfaces(cert: Path) -> list[tuple[str, bool, str]]:
    agents, ops = f"https://127.0.0.1:{AGENT_LISTEN}", f"https://127.0.0.1:{OPERATOR_LISTEN}"
    checks = []

    def expect(label: str, url: str, status: int, json_error: bool, data: bytes | None = None) -> None:
        code, body, ctype = fetch(url, cert, data)
        ok = code == status and (not json_error or (ctype.startswith("application/json") and b'"error"' in body))
        checks.append((label, ok, f"HTTP {code} {body[:70]!r}"))

    expect("operator UI through the operator server", f"{ops}/login/", 200, False)
    expect("operator UI through the agent server is refused", f"{agents}/login/", 404, True)
    expect("agent API through the operator server is refused", f"{ops}/api/osquery/enroll", 404, True, b"{}")
    expect(
        "agent API through the agent server",
        f"{agents}/api/osquery/enroll",
        401,
        True,
        b'{"enroll_secret":"wrong","host_identifier":"probe"}',
    )
    node = f"http://127.0.0.1:{NODE_PORTS['ops']}"
    expect("operator node refuses agents even when reached directly", f"{node}/api/osquery/config", 404, True, b"{}")
    expect(
        "agent node refuses the UI when reached directly", f"http://127.0.0.1:{NODE_PORTS['app1']}/admin/", 404, False
    )
    return checks


def kill_node(stack: Stack, name: str) -> None:
    """A hard crash: SIGKILL the server and its workers at once."""
    svc = stack.services.pop(name)
    for pid in svc.pids():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    svc.proc.wait(10)


def start_node(stack: Stack, name: str) -> None:
    surfaces = "operator" if name == "ops" else "agent"
    stack.start_app(
        "granian", workers=1, port=NODE_PORTS[name], name=name,
        extra_env={
            "FLEETWEB_SURFACES": surfaces,
            "FLEETWEB_BEHIND_TLS_PROXY": "true",
            "DJANGO_SETTINGS_MODULE": "fleetweb.settings",
        },
    )  # fmt: skip


def upstream_report(t0: float, t_kill: float, t_back: float) -> dict[str, Any]:
    by_node: dict[str, Counter[str]] = defaultdict(Counter)
    hosts: dict[str, set[str]] = defaultdict(set)
    for line in (CLUSTER / "agents.log").read_text().splitlines():
        at, upstream, status, uri, tag = line.split("|")
        when = float(at)
        if when < t0:
            continue
        phase = "before" if when < t_kill else ("outage" if when < t_back else "after")
        node = {f"127.0.0.1:{p}": n for n, p in NODE_PORTS.items()}.get(upstream.split(",")[-1].strip(), upstream)
        by_node[node][phase] += 1
        by_node[node][f"status_{status}"] += 1
        if "," in upstream:  # nginx tried a node that was down, then this one
            by_node[node]["failed_over"] += 1
        if tag != "-":
            hosts[node].add(tag)
    return {n: {**dict(c), "distinct_hosts": len(hosts[n])} for n, c in sorted(by_node.items())}


def main() -> int:
    if CLUSTER.exists():
        import shutil

        shutil.rmtree(CLUSTER)
    CLUSTER.mkdir(parents=True)
    stack = Stack()
    failures: list[str] = []
    lines: list[str] = []
    try:
        log("MariaDB and Redis (private, loopback)")
        stack.start_mariadb()
        stack.start_redis()
        stack.manage("migrate", "-v0")
        subprocess.run([sys.executable, "-m", "bench.seed"], env=stack.app_env(), cwd=REPO, check=True)
        os.environ.update(stack.app_env())
        import django

        django.setup()
        log("app nodes: app1 and app2 (agent surface), ops (operator surface); 2 Celery workers, 1 beat")
        for name in ("app1", "app2", "ops"):
            start_node(stack, name)
        stack.env["DJANGO_SETTINGS_MODULE"] = "fleetweb.settings"
        stack.start_celery(workers=2)
        cert, key = make_cert()
        start_nginx(stack, cert, key)
        checks = check_surfaces(cert)
        for label, ok, detail in checks:
            log(f"{'ok  ' if ok else 'FAIL'} {label}: {detail}")
            if not ok:
                failures.append(label)

        log(f"simulator: {HOSTS} hosts through https://127.0.0.1:{AGENT_LISTEN} for {DURATION:.0f} s")
        out = CLUSTER / "sim.json"
        t0 = time.time()
        sim = subprocess.Popen(
            [str(BIN / "fleetweb-sim"), "run", "--url", f"https://127.0.0.1:{AGENT_LISTEN}", "--ca", str(cert),
             "--secret", ENROLL_SECRET, "--hosts", str(HOSTS), "--duration", str(DURATION), "--ramp", "10",
             "--drain", "40", "--warmup", "0", "--logger-tls-period", "5", "--rows", "5", "--run-id", "cluster",
             "--json-out", str(out)],
            stdout=open(CLUSTER / "sim.out", "wb"), stderr=subprocess.STDOUT,  # noqa: SIM115
        )  # fmt: skip
        time.sleep(KILL_AT / 2)
        log(f"live query on all hosts: campaign {launch_live_query()}")
        time.sleep(KILL_AT / 2)
        t_kill = time.time()
        log("killing app1 (SIGKILL, mid-run)")
        kill_node(stack, "app1")
        time.sleep(RESTART_AT - KILL_AT)
        log("restarting app1")
        start_node(stack, "app1")
        t_back = time.time()
        sim.wait(timeout=DURATION + 120)
        result = orjson.loads(out.read_bytes())
        stored = int(stack.sql("SELECT COALESCE(SUM(line_count), 0) FROM fleetweb_bench.collector_logbatch").strip())
        hosts_in_db = int(stack.sql("SELECT COUNT(*) FROM fleetweb_bench.hosts_host").strip())
        counters = result["counters"]
        acked = counters.get("result_lines_acked", 0) + counters.get("status_lines_acked", 0)
        generated = counters.get("result_lines_generated", 0)
        pending = counters.get("result_lines_pending", 0) + counters.get("status_lines_pending", 0)
        spread = upstream_report(t0, t_kill, t_back)
        if pending:
            failures.append(f"{pending} log lines still buffered on agents after the drain")
        if stored < acked:
            failures.append(f"database holds {stored} lines but agents were told {acked} were stored")
        lines = render(checks, result, spread, stored, acked, generated, pending, hosts_in_db)
    finally:
        stack.stop_all()
    report = "\n".join(lines) + "\n"
    (HERE / "CLUSTER.md").write_text(report)
    print(report)
    if failures:
        log("FAILED: " + "; ".join(failures))
        return 1
    log("passed: no log line lost, surfaces kept apart; report in bench/CLUSTER.md")
    return 0


def render(checks, result, spread, stored, acked, generated, pending, hosts_in_db) -> list[str]:  # type: ignore[no-untyped-def]
    out = [
        "# Cluster demo (last run of `make cluster-demo`)",
        "",
        f"Two agent nodes (`FLEETWEB_SURFACES=agent`, granian, 1 worker each) and one operator node behind nginx "
        f"with TLS; private MariaDB and Redis; two Celery workers and one beat. {HOSTS} simulated hosts "
        f"(macOS, Ubuntu, Windows) for {DURATION:.0f} s through the agent server; app1 was killed with SIGKILL "
        f"at {KILL_AT:.0f} s and restarted at {RESTART_AT:.0f} s.",
        "",
        "## Surfaces",
        "",
        *[f"- {'ok' if ok else 'FAILED'}: {label} ({detail})" for label, ok, detail in checks],
        "",
        "## Requests and hosts per node (nginx access log)",
        "",
        "| node | before the kill | app1 down | after restart | distinct hosts | 502s | failed over |",
        "|---|---|---|---|---|---|---|",
    ]
    for node, c in spread.items():
        out.append(
            f"| {node} | {c.get('before', 0)} | {c.get('outage', 0)} | {c.get('after', 0)} | {c['distinct_hosts']} | "
            f"{c.get('status_502', 0)} | {c.get('failed_over', 0)} |"
        )
    ep = result["endpoints"]
    out += [
        "",
        "## What the agents saw",
        "",
        "| endpoint | requests | errors | p50 ms | p99 ms |",
        "|---|---|---|---|---|",
        *[f"| {n} | {e['requests']} | {e['errors']} | {e['p50_ms']} | {e['p99_ms']} |" for n, e in ep.items()],
        "",
        f"- live query answers: {result['counters'].get('distributed_queries_answered', 0)}; "
        f"retries (distributed read/write): {result['counters'].get('retries', 0)}; re-enrolls: "
        f"{result['counters'].get('reenrolls', 0)}; hosts in the database: {hosts_in_db}",
        "",
        "## Logs",
        "",
        f"- result lines generated by the agents: {generated}",
        f"- lines acknowledged to agents (result + status): {acked}",
        f"- lines still buffered on agents after the drain: {pending}",
        f"- lines stored in the database: {stored}"
        + (f" ({stored - acked} delivered twice: a reply lost with the killed node)" if stored > acked else ""),
        f"- verdict: {'no acknowledged line lost' if stored >= acked and not pending else 'LINES LOST'}",
    ]
    return out


if __name__ == "__main__":
    raise SystemExit(main())
