"""What every sender takes and returns. Senders never raise for delivery problems: they sort
each event into delivered, retry (transient: connection errors, 408, 429, 5xx) or failed
(permanent: the receiver refused it and would refuse it again)."""

import abc
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collector.models import Destination


@dataclass
class Outgoing:
    id: int
    event_id: str
    log_type: str
    hostname: str
    query_name: str
    event_time: float
    body: bytes
    severity: int | None = None


@dataclass
class SendResult:
    delivered: list[int] = field(default_factory=list)
    retry: dict[int, str] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)

    @classmethod
    def all_delivered(cls, events: list[Outgoing]) -> "SendResult":
        return cls(delivered=[e.id for e in events])

    @classmethod
    def all_retry(cls, events: list[Outgoing], error: str) -> "SendResult":
        return cls(retry={e.id: error for e in events})

    @classmethod
    def all_failed(cls, events: list[Outgoing], error: str) -> "SendResult":
        return cls(failed={e.id: error for e in events})


def is_retryable_status(status: int) -> bool:
    return status in (408, 429) or status >= 500


class Sender(abc.ABC):
    """One destination kind's wire protocol; see CONTRIBUTING.md, "a SIEM destination kind"."""

    def __init__(self, destination: "Destination") -> None:
        self.destination = destination

    @abc.abstractmethod
    def send(self, events: list[Outgoing]) -> SendResult:
        """Send a batch; say per event whether it was delivered, should be retried or failed."""

    def close(self) -> None:
        return None

    def __enter__(self) -> "Sender":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
