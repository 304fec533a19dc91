"""A real syslog-ng (Debian's) on loopback: TCP and TLS with octet counting, and UDP, writing
every message it parsed to a JSON-lines file (config from ../shared/docs/siem-forwarding.md §4.1)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from .receivers import pick_port

CONFIG = """@version: 3.38
options {{ keep-hostname(yes); keep-timestamp(yes); log-msg-size(262144); stats-freq(0); frac-digits(3); }};
source s_tcp {{ syslog(ip("127.0.0.1") port({tcp}) transport("tcp") max-connections(50)); }};
source s_tls {{ syslog(ip("127.0.0.1") port({tls}) transport("tls")
    tls(key-file("{dir}/key.pem") cert-file("{dir}/cert.pem") peer-verify(optional-untrusted))); }};
source s_udp {{ syslog(ip("127.0.0.1") port({udp}) transport("udp") so-rcvbuf(8388608)); }};
destination d_json {{ file("{dir}/received.jsonl"
    template("$(format-json --scope rfc5424 --scope nv-pairs --key SOURCE)\\n") flush-lines(1)); }};
log {{ source(s_tcp); source(s_tls); source(s_udp); destination(d_json); }};
"""


class SyslogNg:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.tcp = pick_port()
        self.tls = pick_port_after(self.tcp)
        self.udp = pick_port_after(self.tls)
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                str(directory / "key.pem"),
                "-out",
                str(directory / "cert.pem"),
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ],
            check=True,
            capture_output=True,
        )
        conf = directory / "syslog-ng.conf"
        conf.write_text(CONFIG.format(tcp=self.tcp, tls=self.tls, udp=self.udp, dir=directory))
        binary = shutil.which("syslog-ng") or "/usr/sbin/syslog-ng"
        self._stderr = (directory / "stderr.log").open("wb")
        self.process = subprocess.Popen(
            [
                binary,
                "-F",
                "-e",
                "-f",
                str(conf),
                "-R",
                str(directory / "persist"),
                "-p",
                str(directory / "pid"),
                "-c",
                str(directory / "ctl"),
                "--no-caps",
            ],
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )
        # The child has its own copy of the descriptor.
        self._stderr.close()
        self._wait_listening()

    @property
    def ca_file(self) -> str:
        return str(self.dir / "cert.pem")

    def _wait_listening(self) -> None:
        for _ in range(200):
            if self.process.poll() is not None:
                raise RuntimeError("syslog-ng exited: " + (self.dir / "stderr.log").read_text())
            try:
                socket.create_connection(("127.0.0.1", self.tls), timeout=0.2).close()
                socket.create_connection(("127.0.0.1", self.tcp), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("syslog-ng did not start listening")

    def messages(self) -> list[dict[str, Any]]:
        path = self.dir / "received.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Messages once `count` arrived (or what arrived by the timeout, for the assertion)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.messages()
            if len(messages) >= count:
                return messages
            time.sleep(0.05)
        return self.messages()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)


def pick_port_after(previous: int) -> int:
    for port in range(previous + 1, 20300):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")
