"""Every real log input the collector must handle: the files in ../shared/realworld/logs/ and
the logger vectors in ../shared/docs/osquery-vectors.json, as (label, log_type, lines)."""

import base64
import json
from typing import Any

from tests.conftest import REALWORLD, VECTORS_PATH

LOGS = REALWORLD / "logs"


def _ndjson(path: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (LOGS / path).read_text().splitlines() if line.strip()]


def realworld_batches() -> list[tuple[str, str, list[dict[str, Any]]]]:
    firehose = json.loads((LOGS / "fleet-docs/firehose_kinesis_record_status.json").read_text())
    return [
        ("fleet-testdata/result_logs", "result", _ndjson("fleet-testdata/result_logs.ndjson")),
        ("fleet-testdata/status_logs", "status", _ndjson("fleet-testdata/status_logs.ndjson")),
        ("kolide-fleet-testdata/result_logs", "result", _ndjson("kolide-fleet-testdata/result_logs.ndjson")),
        ("kolide-fleet-testdata/status_logs", "status", _ndjson("kolide-fleet-testdata/status_logs.ndjson")),
        ("fleet-docs/status_log_decoded", "status", _ndjson("fleet-docs/status_log_decoded.ndjson")),
        # The Kinesis record carries the status line base64-encoded in Data.
        ("fleet-docs/firehose_kinesis_record_status", "status", [json.loads(base64.b64decode(firehose["Data"]))]),
        # Not a logger body: a distributed write. Sent as one line of unknown shape, it must still
        # be forwarded whole rather than dropped.
        (
            "kolide-fleet-testdata/distributed_write_queries",
            "result",
            [json.loads((LOGS / "kolide-fleet-testdata/distributed_write_queries.json").read_text())],
        ),
    ]


def vector_batches() -> list[tuple[str, str, list[dict[str, Any]]]]:
    logger = json.loads(VECTORS_PATH.read_text())["logger"]
    return [
        (name, body["log_type"], body["data"])
        for name, body in logger.items()
        if isinstance(body, dict) and isinstance(body.get("data"), list)
    ]


def all_batches() -> list[tuple[str, str, list[dict[str, Any]]]]:
    return realworld_batches() + vector_batches()
