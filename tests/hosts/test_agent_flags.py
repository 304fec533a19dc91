import socket
import ssl
import threading

import pytest

from hosts.agent_flags import osquery_flags
from hosts.tls import ensure_self_signed_cert

REQUIRED = [
    "--tls_hostname=fleet.example.com:8443",
    "--config_plugin=tls",
    "--logger_plugin=tls",
    "--distributed_plugin=tls",
    "--disable_distributed=false",
    "--enroll_tls_endpoint=/api/osquery/enroll",
    "--config_tls_endpoint=/api/osquery/config",
    "--logger_tls_endpoint=/api/osquery/log",
    "--distributed_tls_read_endpoint=/api/osquery/distributed/read",
    "--distributed_tls_write_endpoint=/api/osquery/distributed/write",
    "--carver_start_endpoint=/api/osquery/carve/begin",
    "--carver_continue_endpoint=/api/osquery/carve/block",
]


def test_flags_file_has_every_connection_flag(settings):
    text = osquery_flags(
        tls_hostname="fleet.example.com:8443",
        server_cert_path="/etc/osquery/fleet.pem",
        enroll_secret_path="/etc/osquery/secret",
    )
    lines = text.splitlines()
    for flag in REQUIRED:
        assert flag in lines
    assert "--tls_server_certs=/etc/osquery/fleet.pem" in lines
    assert "--enroll_secret_path=/etc/osquery/secret" in lines
    assert f"--config_refresh={settings.FLEET['AGENT_CONFIG_REFRESH']}" in lines
    assert f"--distributed_interval={settings.FLEET['AGENT_DISTRIBUTED_INTERVAL']}" in lines
    assert any(line.startswith("--host_identifier=") for line in lines)
    # One flag per line, each a --name=value pair osquery's flagfile parser accepts.
    assert all(line.startswith("--") and "=" in line for line in lines)


def test_self_signed_cert_verifies_for_its_names(tmp_path):
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    assert ensure_self_signed_cert(cert, key, "fleet.example.com")
    assert not ensure_self_signed_cert(cert, key, "fleet.example.com"), "must not overwrite"
    # The cert works as the trust anchor an agent pins with --tls_server_certs: a real handshake
    # with hostname verification, as osquery does it (TLS 1.2+).
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    client_ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    for name in ("fleet.example.com", "localhost"):
        assert _handshake(server_ctx, client_ctx, name)
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(server_ctx, client_ctx, "other.example.com")


def _handshake(server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext, name: str) -> bool:
    left, right = socket.socketpair()
    errors: list[Exception] = []

    def serve() -> None:
        try:
            with server_ctx.wrap_socket(right, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError) as exc:
            errors.append(exc)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with client_ctx.wrap_socket(left, server_hostname=name) as tls:
            tls.sendall(b"x")
    finally:
        left.close()
        thread.join(5)
    return not errors
