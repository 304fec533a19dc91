"""Per-endpoint counters and latency percentiles, mergeable across simulator processes."""

import math
import time
from dataclasses import dataclass, field
from typing import Any


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, math.ceil(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[rank]


@dataclass
class EndpointStats:
    requests: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)

    def record(self, latency_ms: float, error: str | None) -> None:
        self.requests += 1
        self.latencies_ms.append(latency_ms)
        if error:
            self.errors += 1
            if len(self.error_samples) < 5:
                self.error_samples.append(error[:200])

    def merge(self, other: "EndpointStats") -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.latencies_ms.extend(other.latencies_ms)
        self.error_samples.extend(other.error_samples[: max(0, 5 - len(self.error_samples))])

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        return {
            "requests": self.requests,
            "errors": self.errors,
            "p50_ms": round(percentile(ordered, 50), 2),
            "p95_ms": round(percentile(ordered, 95), 2),
            "p99_ms": round(percentile(ordered, 99), 2),
            "max_ms": round(ordered[-1], 2) if ordered else 0.0,
            "error_samples": self.error_samples,
        }


@dataclass
class RunStats:
    """Per-endpoint stats. Requests sent before `steady_after` (a Unix time: the enrollment storm
    and first config renders of a fleet starting at once) are kept apart under `startup`, so the
    steady-state percentiles describe the fleet's normal load."""

    endpoints: dict[str, EndpointStats] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    startup: dict[str, EndpointStats] = field(default_factory=dict)
    steady_after: float = 0.0

    def endpoint(self, name: str) -> EndpointStats:
        bucket = self.startup if self.steady_after and time.time() < self.steady_after else self.endpoints
        if name not in bucket:
            bucket[name] = EndpointStats()
        return bucket[name]

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + n

    def to_raw(self) -> dict[str, Any]:
        """A picklable form that keeps raw latencies, for merging in the parent process."""

        def dump(bucket: dict[str, EndpointStats]) -> dict[str, Any]:
            return {
                k: {"requests": v.requests, "errors": v.errors, "lat": v.latencies_ms, "samples": v.error_samples}
                for k, v in bucket.items()
            }

        return {"endpoints": dump(self.endpoints), "startup": dump(self.startup), "counters": dict(self.counters)}

    def merge_raw(self, raw: dict[str, Any]) -> None:
        for key, bucket in (("endpoints", self.endpoints), ("startup", self.startup)):
            for name, data in raw.get(key, {}).items():
                stats = EndpointStats(data["requests"], data["errors"], data["lat"], data["samples"])
                bucket.setdefault(name, EndpointStats()).merge(stats)
        for name, n in raw["counters"].items():
            self.count(name, n)

    def summary(self) -> dict[str, Any]:
        all_lat = EndpointStats()
        for stats in self.endpoints.values():
            all_lat.merge(stats)
        out = {
            "endpoints": {k: v.summary() for k, v in sorted(self.endpoints.items())},
            "all": all_lat.summary(),
            "counters": dict(sorted(self.counters.items())),
        }
        if self.startup:
            out["startup"] = {k: v.summary() for k, v in sorted(self.startup.items())}
        return out
