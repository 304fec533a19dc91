"""Agent-supplied strings cannot forge syslog structure: whatever the hostname, query name and
log line, a formatted message has exactly one RFC 5424 header, one structured-data element whose
values decode back to the original, and no line break outside the JSON body."""

import re

import orjson
from hypothesis import given
from hypothesis import strategies as st

from collector.forwarding.senders.base import Outgoing
from collector.forwarding.senders.syslog import SD_ID, format_message
from tests.fuzzing import fuzz_settings, hostile_text, json_values

HEADER = re.compile(
    rb"^<(\d{1,3})>1 (\S+) ([\x21-\x7e]{1,255}) ([\x21-\x7e]{1,48}) - ([\x21-\x7e]{1,32}) \[" + SD_ID.encode() + rb" "
)
sneaky = st.one_of(hostile_text, st.sampled_from(["a\nb", "x\r\n<13>1 - forged - - - -", 'q"] [x@1 a="b', "\\", "]"]))


def parse_sd_params(data: bytes) -> tuple[dict[str, str], bytes]:
    """The SD-PARAMs of one element per RFC 5424 §6.3.3, and what follows the closing bracket."""
    params: dict[str, str] = {}
    pos = 0
    while True:
        if data[pos : pos + 1] == b"]":
            return params, data[pos + 1 :]
        assert data[pos : pos + 1] == b" ", data[pos:]
        name_end = data.index(b'="', pos)
        name = data[pos + 1 : name_end].decode()
        assert re.fullmatch(r"[\x21-\x7e]+", name) and not set(name) & set('= ]"'), name
        value = bytearray()
        pos = name_end + 2
        while True:
            ch = data[pos : pos + 1]
            if ch == b"\\" and data[pos + 1 : pos + 2] in (b'"', b"\\", b"]"):
                value += data[pos + 1 : pos + 2]
                pos += 2
            elif ch == b'"':
                pos += 1
                break
            else:
                assert ch != b"]", "an unescaped ] inside a value"
                value += ch
                pos += 1
        params[name] = value.decode()


@given(hostname=sneaky, query_name=sneaky, log_type=sneaky, line=json_values(), app_name=sneaky)
@fuzz_settings(examples=400)
def test_syslog_structure_survives_hostile_fields(hostname, query_name, log_type, line, app_name):
    body = orjson.dumps(line)
    event = Outgoing(
        id=1,
        event_id="e-1",
        log_type=log_type,
        hostname=hostname,
        query_name=query_name,
        event_time=1700000000.5,
        body=body,
        severity=None,
    )
    message = format_message(event, app_name=app_name, facility=16)
    header = HEADER.match(message)
    assert header, message[:200]
    params, rest = parse_sd_params(message[header.end() - 1 :])
    assert rest == b" " + body
    assert b"\n" not in message[: len(message) - len(body)] and b"\r" not in message[: len(message) - len(body)]
    assert params["event_id"] == "e-1"
    assert params["log_type"] == visible(log_type)
    if query_name:
        assert params["name"] == visible(query_name)


def visible(text: str) -> str:
    """What a value reads as: control characters replaced, everything else kept."""
    return "".join("\ufffd" if ord(ch) < 32 or ord(ch) == 127 else ch for ch in text)
