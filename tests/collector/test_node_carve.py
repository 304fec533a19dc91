"""File carving: begin returns a session, blocks reassemble to the agent's archive."""

import base64
import copy
import hashlib

import pytest

from collector.models import CarveBlock, CarveSession
from collector.services.carves import carve_chunks

from .conftest import gz, without_node_key


def _begin(agent, vectors, **changes) -> tuple[int, dict]:
    body = dict(without_node_key(vectors["carve"]["begin_request"]), node_key=agent.node_key, **changes)
    return agent.post("carve/begin", body)


def _blocks(vectors, session_id: str) -> list[dict]:
    blocks = copy.deepcopy(vectors["carve"]["continue_requests"])
    for block in blocks:
        block["session_id"] = session_id
    return blocks


def _archive(session: CarveSession) -> bytes:
    return b"".join(carve_chunks(session))


def test_full_carve_with_a_duplicate_block(enrolled_mac, vectors):
    status, reply = _begin(enrolled_mac, vectors)
    assert status == 200 and set(reply) == {"session_id"}
    assert isinstance(reply["session_id"], str) and reply["session_id"]
    block0, block1 = _blocks(vectors, reply["session_id"])

    # Blocks carry no node key (before 5.23); the agent retried block 0.
    for block in (block0, block0, block1):
        assert enrolled_mac.post("carve/block", block) == (200, {})

    session = CarveSession.objects.get()
    assert session.completed_at is not None and session.error == ""
    assert session.sha256 == vectors["carve"]["reassembled_archive_sha256"]
    archive = _archive(session)
    assert len(archive) == vectors["carve"]["reassembled_archive_size"]
    assert hashlib.sha256(archive).hexdigest() == vectors["carve"]["reassembled_archive_sha256"]
    assert session.carve_id == vectors["carve"]["begin_request"]["carve_id"]
    assert session.request_id == vectors["carve"]["begin_request"]["request_id"]
    assert CarveBlock.objects.count() == 2


def test_blocks_out_of_order_and_gzipped(enrolled_mac, vectors):
    _, reply = _begin(enrolled_mac, vectors)
    block0, block1 = _blocks(vectors, reply["session_id"])

    for block in (block1, block0):
        status, body = enrolled_mac.post("carve/block", raw=gz(block), headers={"Content-Encoding": "gzip"})
        assert (status, body) == (200, {})

    assert CarveSession.objects.get().sha256 == vectors["carve"]["reassembled_archive_sha256"]


def test_begin_with_the_header_node_key(enrolled_mac, vectors):
    body = without_node_key(vectors["carve"]["begin_request"])
    status, reply = enrolled_mac.post("carve/begin", body, use_header=True)

    assert status == 200 and reply["session_id"]


def test_block_after_completion_is_ignored(enrolled_mac, vectors):
    _, reply = _begin(enrolled_mac, vectors)
    blocks = _blocks(vectors, reply["session_id"])
    for block in blocks:
        enrolled_mac.post("carve/block", block)

    retry = dict(blocks[0], data=base64.b64encode(b"x" * 10).decode())
    assert enrolled_mac.post("carve/block", retry) == (200, {})
    assert CarveSession.objects.get().sha256 == vectors["carve"]["reassembled_archive_sha256"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"block_count": 3}, "block_count 3 does not match"),
        ({"block_count": "2"}, "block_count must be a non-negative integer"),
        ({"block_size": 0}, "block_size must be"),
        ({"carve_size": 0}, "carve_size must be positive"),
        ({"carve_size": -1}, "carve_size must be a non-negative integer"),
        ({"carve_id": ""}, "carve_id must be a non-empty string"),
        ({"request_id": 7}, "request_id must be a non-empty string"),
    ],
)
def test_bad_begin(enrolled_mac, vectors, changes, message):
    status, reply = _begin(enrolled_mac, vectors, **changes)

    assert status == 400 and reply["error"].startswith(message), reply
    assert not CarveSession.objects.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"session_id": "no-such-session"}, "unknown carve session_id"),
        ({"session_id": 5}, "session_id must be a non-empty string"),
        ({"block_id": 2}, "block_id must be an integer in 0..1"),
        ({"block_id": "0"}, "block_id must be an integer in 0..1"),
        ({"data": "not base64!"}, "data is not valid base64"),
        ({"data": 42}, "data must be a base64 string"),
        ({"data": base64.b64encode(b"\0" * 8193).decode()}, "block is 8193 bytes; block_size is 8192"),
    ],
)
def test_bad_block(enrolled_mac, vectors, changes, message):
    _, reply = _begin(enrolled_mac, vectors)
    block = dict(_blocks(vectors, reply["session_id"])[0], **changes)

    status, reply = enrolled_mac.post("carve/block", block)

    assert status == 400 and reply["error"].startswith(message), reply
    assert not CarveBlock.objects.exists()
