"""A private MariaDB server (own datadir, socket and port) that a test may stop and start
again. The shared server is never touched."""

import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from .processes import wait_until


class PrivateMariaDB:
    def __init__(self, port: int) -> None:
        self.port = port
        # Short path: the socket path must fit in sun_path.
        self.dir = Path(tempfile.mkdtemp(prefix="fwdb"))
        self.process: subprocess.Popen | None = None
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={self.dir / 'data'}",
                "--user=root",
                "--skip-test-db",
                "--auth-root-authentication-method=normal",
            ],
            check=True,
            capture_output=True,
        )
        self.start()

    @property
    def url(self) -> str:
        return f"mysql://root@127.0.0.1:{self.port}/fleetweb"

    def start(self) -> None:
        errors = (self.dir / "error.log").open("ab")
        self.process = subprocess.Popen(
            [
                "mariadbd",
                "--no-defaults",
                f"--datadir={self.dir / 'data'}",
                f"--socket={self.dir / 'sock'}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                "--user=root",
                f"--pid-file={self.dir / 'pid'}",
                "--innodb-buffer-pool-size=32M",
                "--skip-log-bin",
            ],
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        errors.close()  # the server has its own copy
        wait_until(self._answers, 60, "the private MariaDB to accept connections")

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError((self.dir / "error.log").read_text()[-2000:])
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
        except OSError:
            return False
        return True

    def sql(self, statement: str) -> str:
        result = subprocess.run(
            ["mariadb", "-h127.0.0.1", f"-P{self.port}", "-uroot", "-N", "-B", "-e", statement],
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout.strip()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
