"""A private fleetweb stack for fault tests: its own MariaDB, Redis, granian server and Celery
worker, each a real process the test can stop and start again. The shared MariaDB and Redis are
never touched. Ports come from FLEETWEB_FAULT_PORTS (default 20700-20799)."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
_FIRST, _, _LAST = os.environ.get("FLEETWEB_FAULT_PORTS", "20700-20799").partition("-")
_next_port = int(_FIRST)


def free_port() -> int:
    """The next port in the range nothing listens on."""
    global _next_port
    while _next_port <= int(_LAST):
        port, _next_port = _next_port, _next_port + 1
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port left in FLEETWEB_FAULT_PORTS")


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll until `predicate` holds; a readiness wait, not an assertion about speed."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        time.sleep(0.1)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


class Process:
    """A child process in its own process group, with its output in a log file."""

    def __init__(self, name: str, workdir: Path) -> None:
        self.name = name
        self.log = workdir / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None

    def spawn(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO, start_new_session=True
            )

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.running:
            assert self.popen is not None
            os.killpg(self.popen.pid, sig)
            try:
                self.popen.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


class PrivateMariaDB(Process):
    def __init__(self, workdir: Path) -> None:
        super().__init__("mariadb", workdir)
        self.port = free_port()
        self.datadir = workdir / "mariadb"
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={self.datadir}",
                "--user=root",
                "--skip-test-db",
                "--auth-root-authentication-method=normal",
            ],
            check=True,
            capture_output=True,
        )

    @property
    def url(self) -> str:
        return f"mysql://root@127.0.0.1:{self.port}/fleetweb"

    def start(self) -> None:
        self.spawn(
            [
                "mariadbd",
                "--no-defaults",
                f"--datadir={self.datadir}",
                f"--socket={self.datadir}/sock",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                "--user=root",
                "--innodb-buffer-pool-size=32M",
                "--skip-log-bin",
            ]
        )
        wait_until(lambda: self._ready(), 60, "the private MariaDB")

    def _ready(self) -> bool:
        if not self.running:
            raise RuntimeError(self.tail())
        return _listening(self.port)

    def sql(self, statement: str) -> str:
        result = subprocess.run(
            ["mariadb", "-h127.0.0.1", f"-P{self.port}", "-uroot", "-N", "-B", "-e", statement],
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout.strip()


class PrivateRedis(Process):
    """Without persistence, like the shared test Redis: a restart loses everything in it, which
    is the harder case for the server (node-key cache, queued tasks gone)."""

    def __init__(self, workdir: Path) -> None:
        super().__init__("redis", workdir)
        self.port = free_port()
        self.dir = workdir

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.spawn(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ]
        )
        wait_until(lambda: _listening(self.port), 30, "the private Redis")


class Stack:
    """MariaDB + Redis + a granian server + (optionally) a Celery worker, all private."""

    def __init__(self, **settings: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="fwfault"))
        self.db = PrivateMariaDB(self.dir)
        self.redis = PrivateRedis(self.dir)
        self.server = Process("server", self.dir)
        self.worker = Process("worker", self.dir)
        self.beat = Process("beat", self.dir)
        self.port = free_port()
        self.settings = settings

    @property
    def env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "FLEETWEB_SHARED")}
        return {
            **keep,
            "DATABASE_URL": self.db.url,
            "REDIS_URL": self.redis.url,
            "SECRET_KEY": "fault-tests-only-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONPATH": str(REPO),
            **self.settings,
        }

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def boot(self) -> None:
        self.db.start()
        self.db.sql("CREATE DATABASE fleetweb CHARACTER SET utf8mb4")
        self.redis.start()
        self.manage("migrate", "--noinput")
        self.start_server()

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [str(BIN / "python"), "manage.py", *args], env=self.env, cwd=REPO, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def shell(self, code: str) -> str:
        return self.manage("shell", "-c", code)

    def start_server(self) -> None:
        self.server.spawn(
            [
                str(BIN / "granian"),
                "--interface",
                "wsgi",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
                "--blocking-threads",
                "4",
                "fleetweb.wsgi:application",
            ],
            self.env,
        )
        wait_until(lambda: self._server_ready(), 60, "the fleetweb server")

    def _server_ready(self) -> bool:
        if not self.server.running:
            raise RuntimeError(self.server.tail())
        return _listening(self.port)

    def start_worker(self) -> None:
        self.worker.spawn(
            [
                str(BIN / "celery"),
                "-A",
                "fleetweb",
                "worker",
                "-l",
                "info",
                "--concurrency",
                "1",
                "--pool",
                "solo",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
            ],
            self.env,
        )

    def redis_queue_length(self) -> int:
        """Tasks waiting in Celery's default queue."""
        import redis

        return int(redis.Redis.from_url(self.redis.url).llen("celery"))

    def start_beat(self) -> None:
        """Celery beat: the periodic sweep that re-queues work whose task was lost."""
        self.beat.spawn(
            [
                str(BIN / "celery"),
                "-A",
                "fleetweb",
                "beat",
                "-l",
                "info",
                "--schedule",
                str(self.dir / "beat-schedule"),
            ],
            self.env,
        )

    def destroy(self) -> None:
        for process in (self.beat, self.worker, self.server, self.redis, self.db):
            process.stop()
        # FLEETWEB_FAULT_KEEP=1 keeps the logs and data for a look after a failure.
        if not os.environ.get("FLEETWEB_FAULT_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)


class Agent:
    """An osquery agent speaking to the stack over HTTP: POST JSON, read the JSON reply."""

    def __init__(self, stack: Stack) -> None:
        self.http = httpx.Client(base_url=stack.base + "/api/osquery/", timeout=30)
        self.node_key = ""

    def post(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(endpoint, json=body)
        assert response.headers["Content-Type"] == "application/json", (response.status_code, response.text[:300])
        assert "Traceback" not in response.text
        reply = response.json()
        assert isinstance(reply, dict)
        assert ("error" in reply) == (response.status_code >= 400), (response.status_code, reply)
        return reply

    def call(self, endpoint: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.post(endpoint, {"node_key": self.node_key, **(body or {})})
