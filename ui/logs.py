"""Recent log lines of one host, read back from the stored batches for the host page."""

from typing import Any

from collector.models import LogBatch
from collector.services.logs import log_batch_lines

# osquery status log severities: 0 info, 1 warning, 2 error, 3 fatal.
WARNING = 1


def recent_result_lines(host_id: int, *, batches: int = 5, limit: int = 50) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for batch in LogBatch.objects.filter(host_id=host_id, log_type="result").order_by("-received_at", "-id")[:batches]:
        for line in reversed(log_batch_lines(batch)):
            lines.append(_result_view(line))
            if len(lines) >= limit:
                return lines
    return lines


def recent_status_problems(host_id: int, *, batches: int = 20, limit: int = 20) -> list[dict[str, Any]]:
    """Warnings and errors the agent reported about itself (bad queries, config problems)."""
    problems: list[dict[str, Any]] = []
    for batch in LogBatch.objects.filter(host_id=host_id, log_type="status").order_by("-received_at", "-id")[:batches]:
        for line in reversed(log_batch_lines(batch)):
            try:
                severity = int(line.get("severity", 0))
            except (TypeError, ValueError):
                severity = 0
            if severity >= WARNING:
                problems.append(
                    {
                        "severity": {1: "warning", 2: "error", 3: "fatal"}.get(severity, str(severity)),
                        "message": str(line.get("message", "")),
                        "where": f"{line.get('filename', '')}:{line.get('line', '')}",
                        "time": str(line.get("calendarTime", "")),
                    }
                )
                if len(problems) >= limit:
                    return problems
    return problems


def _result_view(line: dict[str, Any]) -> dict[str, Any]:
    if isinstance(line.get("columns"), dict):
        rows = [line["columns"]]
    elif isinstance(line.get("snapshot"), list):
        rows = [row for row in line["snapshot"] if isinstance(row, dict)]
    elif isinstance(line.get("diffResults"), dict):
        rows = [row for row in line["diffResults"].get("added", []) if isinstance(row, dict)]
    else:
        rows = []
    return {
        "name": str(line.get("name", "")),
        "action": str(line.get("action", "snapshot" if "snapshot" in line else "")),
        "time": str(line.get("calendarTime", "")),
        "rows": rows[:20],
        "row_count": len(rows),
    }
