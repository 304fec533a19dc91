"""The osquery flags file that points an agent at this server."""

from pathlib import Path

from fleetweb.conf import fleet_setting

AGENT_API_PREFIX = "/api/osquery"


def osquery_flags(
    *, tls_hostname: str, server_cert_path: str | Path, enroll_secret_path: str | Path, extra: list[str] | None = None
) -> str:
    """A complete flags file. Endpoint and transport flags are CLI-only in osquery, so they must
    be in the flags file rather than the served config (protocol doc §8.4)."""
    api = AGENT_API_PREFIX
    flags = [
        f"--tls_hostname={tls_hostname}",
        f"--tls_server_certs={server_cert_path}",
        f"--enroll_secret_path={enroll_secret_path}",
        # The hardware UUID survives renames and reinstalls, so re-enrolls find the same host.
        "--host_identifier=uuid",
        f"--enroll_tls_endpoint={api}/enroll",
        "--config_plugin=tls",
        f"--config_tls_endpoint={api}/config",
        f"--config_refresh={fleet_setting('AGENT_CONFIG_REFRESH')}",
        "--config_accelerated_refresh=60",
        "--logger_plugin=tls",
        f"--logger_tls_endpoint={api}/log",
        f"--logger_tls_period={fleet_setting('AGENT_LOGGER_TLS_PERIOD')}",
        "--logger_tls_compress=true",
        "--disable_distributed=false",
        "--distributed_plugin=tls",
        f"--distributed_interval={fleet_setting('AGENT_DISTRIBUTED_INTERVAL')}",
        "--distributed_tls_max_attempts=3",
        f"--distributed_tls_read_endpoint={api}/distributed/read",
        f"--distributed_tls_write_endpoint={api}/distributed/write",
        "--disable_carver=false",
        f"--carver_start_endpoint={api}/carve/begin",
        f"--carver_continue_endpoint={api}/carve/block",
        "--carver_block_size=1048576",
    ]
    flags += _builtin_pack_flags()
    flags += extra or []
    return "\n".join(flags) + "\n"


def _builtin_pack_flags() -> list[str]:
    """Flags the built-in pack's evented tables need (process_events on macOS)."""
    try:
        from queries.builtin import BUILTIN_AGENT_FLAGS
    except ImportError:  # pragma: no cover - built-in content not installed
        return []
    return list(BUILTIN_AGENT_FLAGS)
