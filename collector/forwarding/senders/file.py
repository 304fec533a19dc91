"""A local JSON-lines file with size-based rotation (path, path.1 .. path.N)."""

import os
from pathlib import Path

from .base import Outgoing, Sender, SendResult


def rotate(path: Path, keep: int) -> None:
    for index in range(keep - 1, 0, -1):
        older = path.with_name(f"{path.name}.{index}")
        if older.exists():
            older.replace(path.with_name(f"{path.name}.{index + 1}"))
    if keep > 0:
        path.replace(path.with_name(f"{path.name}.1"))
    else:
        path.unlink()


class FileSender(Sender):
    def send(self, events: list[Outgoing]) -> SendResult:
        d = self.destination
        path = Path(d.file_path)
        data = b"".join(e.body + b"\n" for e in events)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists() and path.stat().st_size > 0 and path.stat().st_size + len(data) > d.file_rotate_bytes:
                rotate(path, d.file_keep)
            with path.open("ab") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            return SendResult.all_retry(events, f"{type(exc).__name__}: {exc}")
        return SendResult.all_delivered(events)
