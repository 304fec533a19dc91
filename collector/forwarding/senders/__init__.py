from typing import Any

from .base import Outgoing, Sender, SendResult
from .file import FileSender
from .http import ElasticsearchSender, HttpSender, SplunkHecSender
from .syslog import SyslogSender

SENDERS: dict[str, type[Sender]] = {
    "http": HttpSender,
    "splunk_hec": SplunkHecSender,
    "elasticsearch": ElasticsearchSender,
    "syslog": SyslogSender,
    "file": FileSender,
}


def sender_for(destination: Any) -> Sender:
    return SENDERS[destination.kind](destination)


__all__ = ["Outgoing", "SendResult", "Sender", "sender_for"]
