"""Helpers to run real fleetweb processes (Celery workers, the web server) from tests."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def fleetweb_env(database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=os.environ["REDIS_URL"],
        SECRET_KEY="test-only",
        CELERY_TASK_ALWAYS_EAGER="false",
        DJANGO_SETTINGS_MODULE="fleetweb.settings",
        PYTHONPATH=str(REPO),
    )
    env.update(extra)
    return env


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    # Own process group, so a kill reaches the worker's pool children too.
    with log.open("ab") as output:
        return subprocess.Popen(
            args, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


def kill_group(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
    process.wait(timeout=30)


def wait_until(
    predicate: Callable[[], bool], timeout: float, what: str, step: Callable[[], None] | None = None
) -> None:
    """Poll a condition, bounded in time (a safety net against hangs, not a speed assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if step is not None:
            step()
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")
