"""Body limits through the real WSGI server (granian): an oversized upload is refused while it is
still arriving, whether it declares its length or comes chunked."""

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import REPO

PORTS = range(20150, 20200)  # this checkout's share of the machine's ports
MB = 1024 * 1024


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in the assigned range")


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[int]:
    """granian serving fleetweb in its embedded mode (SQLite, in-process Redis stand-in)."""
    workdir: Path = tmp_path_factory.mktemp("granian")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "DJANGO_SETTINGS_MODULE")
    }
    env.update(FLEETWEB_EMBEDDED="true", DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}")
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=REPO, env=env, check=True, capture_output=True
    )
    port = _free_port()
    log = (workdir / "granian.log").open("w")
    process = subprocess.Popen(
        [str(bin_dir / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port)]
        + ["--workers", "1", "fleetweb.wsgi:application"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_listening(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _wait_until_listening(port: int, process: subprocess.Popen) -> None:
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            try:
                process.wait(timeout=0.1)  # a pause that also notices an early exit
            except subprocess.TimeoutExpired:
                continue
            raise RuntimeError(f"granian exited with {process.returncode}") from None
    raise RuntimeError("granian did not start listening")


def _post_streaming(port: int, headers: bytes, chunks: Iterator[bytes]) -> tuple[int, bytes, dict]:
    """Send until the server stops reading (it replied and closed), then read its reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"POST /api/osquery/log HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n")
        sock.sendall(headers + b"\r\n")
        sent = 0
        try:
            for chunk in chunks:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass  # the server answered and closed the connection mid-upload
        reply = b""
        while b"\r\n\r\n" not in reply or not _complete(reply):
            data = sock.recv(65536)
            if not data:
                break
            reply += data
    head, _, body = reply.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    return sent, head, {"status": status, **json.loads(body)}


def _complete(reply: bytes) -> bool:
    head, _, body = reply.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def _declared(total: int) -> Iterator[bytes]:
    chunk = b"{" * (64 * 1024)
    for _ in range(total // len(chunk)):
        yield chunk


def _chunked(total: int, piece: bytes = b"{" * (64 * 1024)) -> Iterator[bytes]:
    for _ in range(total // len(piece)):
        yield b"%x\r\n%s\r\n" % (len(piece), piece)
    yield b"0\r\n\r\n"


def test_declared_100_mb_is_refused_before_it_is_sent(server):
    limit = settings.FLEET["AGENT_MAX_BODY_BYTES"]

    sent, _, reply = _post_streaming(server, b"Content-Length: %d\r\n" % (100 * MB), _declared(100 * MB))

    assert reply == {"status": 413, "error": f"request body is {100 * MB} bytes; the limit is {limit}"}
    assert sent < 100 * MB


def test_chunked_100_mb_is_cut_off_at_the_limit(server):
    limit = settings.FLEET["AGENT_MAX_BODY_BYTES"]

    sent, _, reply = _post_streaming(server, b"Transfer-Encoding: chunked\r\n", _chunked(100 * MB))

    assert reply == {"status": 413, "error": f"request body exceeds the limit of {limit} bytes"}
    assert sent < 100 * MB


def test_chunked_small_body_is_read(server):
    body = json.dumps({"node_key": "nk_unknown", "log_type": "status", "data": []}).encode()

    _, _, reply = _post_streaming(server, b"Transfer-Encoding: chunked\r\n", _chunked(len(body), body))

    assert reply == {"status": 401, "node_invalid": True, "error": "invalid node key"}
