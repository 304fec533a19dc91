"""Node keys: from the body (all agents) or `Authorization: NodeKey` (5.23+); bad ones get
`node_invalid: true`, which makes the agent re-enroll."""

import pytest

from .conftest import NODE_ENDPOINTS, body_for, stored_counts


def _assert_node_invalid(status: int, reply: dict) -> None:
    assert reply["node_invalid"] is True
    assert status == 401


@pytest.mark.parametrize("endpoint", NODE_ENDPOINTS)
def test_valid_key_in_body(enrolled_mac, vectors, endpoint):
    status, reply = enrolled_mac.post(endpoint, body_for(endpoint, vectors, enrolled_mac))

    assert status == 200 and "error" not in reply and "node_invalid" not in reply


@pytest.mark.parametrize("endpoint", NODE_ENDPOINTS)
def test_valid_key_in_header_only(enrolled_mac, vectors, endpoint):
    body = body_for(endpoint, vectors, enrolled_mac)
    del body["node_key"]

    status, reply = enrolled_mac.post(endpoint, body, use_header=True)

    assert status == 200 and "error" not in reply and "node_invalid" not in reply


@pytest.mark.parametrize("endpoint", NODE_ENDPOINTS)
@pytest.mark.parametrize("where", ["body", "header", "missing", "wrong type"])
def test_bad_key_is_node_invalid(enrolled_mac, vectors, endpoint, where):
    body = body_for(endpoint, vectors, enrolled_mac)
    headers = {}
    if where == "body":
        body["node_key"] = "nk_8fQ2vLx7RzT4mW1pYc6sJd3H"
    elif where == "header":
        del body["node_key"]
        headers["Authorization"] = "NodeKey nk_8fQ2vLx7RzT4mW1pYc6sJd3H"
    elif where == "missing":
        del body["node_key"]
    else:
        body["node_key"] = ["not", "a", "string"]
    before = stored_counts()

    status, reply = enrolled_mac.post(endpoint, body, headers=headers)

    _assert_node_invalid(status, reply)
    assert stored_counts() == before


def test_header_wins_over_body(enrolled_mac, vectors):
    # An agent sends the same key in both; if they differ, the header (the newer mechanism) counts.
    status, reply = enrolled_mac.post(
        "config", {"node_key": enrolled_mac.node_key}, headers={"Authorization": "NodeKey nk_unknown"}
    )

    _assert_node_invalid(status, reply)


def test_rotated_key_is_node_invalid_everywhere(enrolled_mac, vectors):
    old = enrolled_mac.node_key
    enrolled_mac.enroll(vectors["enroll"]["request_macos"])

    for endpoint in NODE_ENDPOINTS:
        body = dict(body_for(endpoint, vectors, enrolled_mac), node_key=old)
        _assert_node_invalid(*enrolled_mac.post(endpoint, body))
