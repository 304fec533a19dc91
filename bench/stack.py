"""Start and stop the benchmark's own services on loopback, and read their CPU time.

MariaDB and Redis are private instances (own port, data under var/bench/) so their CPU time and
statement counters belong to the benchmark alone, and the shared services on this machine are
never touched.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
VAR = REPO / "var" / "bench"
BIN = Path(sys.executable).parent

PORT_BASE = int(os.environ.get("BENCH_PORT_BASE", "20500"))
MYSQL_PORT = PORT_BASE + 10
REDIS_PORT = PORT_BASE + 11
APP_PORT = PORT_BASE + 20
DB_NAME = "fleetweb_bench"


def wait_for(check, what: str, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: S110 - not up yet
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")


def http_answers(url: str) -> bool:
    """True once anything at all answers HTTP at `url` (an error status counts)."""
    import urllib.error
    import urllib.request

    with contextlib.suppress(urllib.error.HTTPError):
        urllib.request.urlopen(urllib.request.Request(url, data=b"{}"), timeout=2)  # noqa: S310 - loopback
    return True


@dataclass
class Service:
    name: str
    proc: subprocess.Popen
    log_path: Path

    def pids(self) -> list[int]:
        """The process and all its children (server workers)."""
        try:
            parent = psutil.Process(self.proc.pid)
            return [parent.pid, *(c.pid for c in parent.children(recursive=True))]
        except psutil.NoSuchProcess:
            return []

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                for pid in self.pids():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                self.proc.wait(5)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of the given processes (children that already exited are not included,
    so measure long-lived workers)."""
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            continue
    return total


@dataclass
class Stack:
    env: dict[str, str] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Service:
        VAR.mkdir(parents=True, exist_ok=True)
        log_path = VAR / f"{name}.log"
        fh = open(log_path, "ab")  # noqa: SIM115 - the child owns it
        proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, env=env or os.environ.copy(), cwd=REPO)
        svc = Service(name, proc, log_path)
        self.services[name] = svc
        return svc

    # -- storage ------------------------------------------------------------------------------------

    def start_mariadb(self) -> None:
        datadir = VAR / "mysql"
        if datadir.exists():
            shutil.rmtree(datadir)
        datadir.mkdir(parents=True)
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={datadir}",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
        )
        self._spawn(
            "mariadb",
            [
                "mariadbd",
                "--no-defaults",
                f"--datadir={datadir}",
                "--user=root",
                "--bind-address=127.0.0.1",
                f"--port={MYSQL_PORT}",
                f"--socket={datadir}/mysqld.sock",
                f"--pid-file={datadir}/mysqld.pid",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=256M",
                "--max-connections=500",
                "--skip-name-resolve",
            ],
        )
        wait_for(lambda: self.sql("SELECT 1") is not None, "MariaDB")
        self.sql(f"CREATE DATABASE IF NOT EXISTS {DB_NAME} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")

    def sql(self, statement: str) -> str:
        out = subprocess.run(
            ["mariadb", "-h127.0.0.1", f"-P{MYSQL_PORT}", "-uroot", "-N", "-B", "-e", statement],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout

    def statement_counts(self) -> dict[str, int]:
        """Server-wide statement counters (SHOW GLOBAL STATUS): selects, inserts, updates, deletes."""
        rows = self.sql(
            "SHOW GLOBAL STATUS WHERE Variable_name IN "
            "('Com_select','Com_insert','Com_update','Com_delete','Com_begin','Com_commit','Questions')"
        )
        return {k: int(v) for k, v in (line.split("\t") for line in rows.strip().splitlines())}

    def start_redis(self) -> None:
        self._spawn(
            "redis",
            [
                "redis-server",
                "--port",
                str(REDIS_PORT),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(VAR),
            ],
        )
        wait_for(
            lambda: (
                subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True).stdout.strip()
                == b"PONG"
            ),
            "Redis",
        )

    # -- application --------------------------------------------------------------------------------

    def app_env(self, settings_module: str = "bench.settings") -> dict[str, str]:
        env = os.environ.copy()
        env.update(
            {
                "DATABASE_URL": f"mysql://root@127.0.0.1:{MYSQL_PORT}/{DB_NAME}",
                "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
                "SECRET_KEY": "bench-only-not-secret",
                "DJANGO_SETTINGS_MODULE": settings_module,
                "CELERY_TASK_ALWAYS_EAGER": "false",
                "LOG_LEVEL": "WARNING",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                # Every simulated host comes from 127.0.0.1: per-address brute-force limits would
                # throttle the whole fleet as one client.
                "FLEET_ENROLL_RATE_LIMIT": "0",
                "FLEET_ENROLL_FAILURE_RATE_LIMIT": "0",
                "FLEET_TOKEN_FAILURE_RATE_LIMIT": "0",
            }
        )
        env.update(self.env)
        return env

    def manage(self, *args: str) -> None:
        subprocess.run([str(BIN / "python"), "manage.py", *args], env=self.app_env(), cwd=REPO, check=True)

    def start_app(
        self,
        server: str = "granian",
        workers: int = 2,
        port: int = APP_PORT,
        extra_env: dict[str, str] | None = None,
        name: str = "",
    ) -> Service:
        env = self.app_env()
        env.update(extra_env or {})
        if server == "granian":
            argv = [
                str(BIN / "granian"),
                "--interface",
                "wsgi",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--blocking-threads",
                os.environ.get("BENCH_GRANIAN_THREADS", "4"),
                "--backlog",
                "2048",
                "--no-ws",
                *os.environ.get("BENCH_GRANIAN_ARGS", "").split(),
                "fleetweb.wsgi:application",
            ]
        elif server == "gunicorn":
            argv = [
                str(BIN / "gunicorn"),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--keep-alive",
                "5",
                "fleetweb.wsgi:application",
            ]
        elif server == "uvicorn":
            argv = [
                str(BIN / "uvicorn"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--no-access-log",
                "--log-level",
                "warning",
                "fleetweb.asgi:application",
            ]
        else:
            raise ValueError(server)
        svc = self._spawn(name or f"app-{server}-{port}", argv, env)
        wait_for(lambda: http_answers(f"http://127.0.0.1:{port}/api/osquery/enroll"), f"{server} app server")
        # Workers are forked after the master answers on some servers; let them all start.
        time.sleep(1.0)
        return svc

    def start_celery(self, workers: int = 1) -> None:
        env = self.app_env()
        for i in range(workers):
            self._spawn(
                "celery-worker" if i == 0 else f"celery-worker-{i + 1}",
                [str(BIN / "celery"), "-A", "fleetweb", "worker", "-l", "warning", "--concurrency", "1",
                 "-n", f"bench{i + 1}@%h"],
                env,
            )  # fmt: skip
        self._spawn(
            "celery-beat",
            [str(BIN / "celery"), "-A", "fleetweb", "beat", "-l", "warning", "-s", str(VAR / "celerybeat-schedule")],
            env,
        )

    def stop(self, name: str) -> None:
        svc = self.services.pop(name, None)
        if svc:
            svc.stop()

    def stop_all(self) -> None:
        for name in reversed(list(self.services)):
            self.stop(name)
