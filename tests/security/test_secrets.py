"""Secrets stay secret: enroll secrets and node keys never appear in replies other than the
enroll reply, in logs, or in the activity log; node keys are stored only as digests."""

import logging

import pytest

from accounts.models import Activity
from accounts.redact import REDACTED
from accounts.services import activity_record
from hosts.models import Host
from hosts.services import enroll_secret_match

pytestmark = pytest.mark.django_db


@pytest.fixture
def all_logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def test_wrong_enroll_secret_is_not_echoed_or_logged(agent, enroll_secret, vectors, all_logs):
    guess = "guessed-secret-4f9a1c"
    status, reply = agent.post("enroll", dict(vectors["enroll"]["request_macos"], enroll_secret=guess))
    assert status == 401 and reply["node_invalid"] is True
    assert guess not in str(reply) and enroll_secret.secret not in str(reply)
    assert guess not in all_logs.text and enroll_secret.secret not in all_logs.text


def test_enroll_logs_neither_secret_nor_node_key(agent, enroll_secret, vectors, all_logs):
    reply = agent.enroll(vectors["enroll"]["request_macos"])
    node_key = reply["node_key"]
    assert "enrolled" in all_logs.text  # the enroll itself is logged, by secret name
    assert enroll_secret.secret not in all_logs.text and node_key not in all_logs.text


def test_node_keys_are_stored_only_as_digests(enrolled_mac):
    row = Host.objects.values().get()
    assert enrolled_mac.node_key not in str(row)
    assert row["node_key_hash"] and len(row["node_key_hash"]) == 64


def test_rejected_node_key_is_not_echoed(enrolled_mac, all_logs):
    stale = enrolled_mac.node_key[:-4] + "0000"
    for endpoint in ("config", "log", "distributed/read", "distributed/write", "carve/begin"):
        status, reply = enrolled_mac.post(endpoint, {"node_key": stale, "log_type": "status", "data": []})
        assert status == 401 and reply == {"node_invalid": True, "error": "invalid node key"}
    assert stale not in all_logs.text and enrolled_mac.node_key not in all_logs.text


def test_storage_failure_reply_carries_no_secret(enrolled_mac, monkeypatch, all_logs):
    from django.db import OperationalError

    def down(**kwargs):
        raise OperationalError(2002, "Can't connect to server on '127.0.0.1' (115)")

    monkeypatch.setattr("collector.services.logs.log_batch_store", down)
    status, reply = enrolled_mac.post(
        "log", {"node_key": enrolled_mac.node_key, "log_type": "status", "data": [{"line": 1}]}
    )
    assert status == 503 and reply == {"error": "server storage is temporarily unavailable; retry later"}
    assert enrolled_mac.node_key not in all_logs.text


def test_activity_log_redacts_secret_names_at_any_depth():
    activity_record(
        actor=None,
        action="enroll_secrets_changed",
        details={
            "name": "default",
            "enroll_secret": "s3cr3t-value",
            "changes": [{"api_token": "tok-123", "node_key": "nk-456", "query_key": "kept"}],
            "password": "hunter2",
        },
    )
    details = Activity.objects.get().details
    assert details == {
        "name": "default",
        "enroll_secret": REDACTED,
        "changes": [{"api_token": REDACTED, "node_key": REDACTED, "query_key": "kept"}],
        "password": REDACTED,
    }


def test_enroll_secret_comparison_is_constant_time_and_checks_every_candidate(enroll_secret, monkeypatch):
    """Review pinned as a test: hmac.compare_digest is used, against every active secret (so the
    time taken does not say which one matched), and inactive secrets never match."""
    import hmac

    from hosts.models import EnrollSecret

    EnrollSecret.objects.create(name="second", secret="second-secret-value")
    EnrollSecret.objects.create(name="revoked", secret="revoked-secret-value", is_active=False)
    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append(a)
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert enroll_secret_match(enroll_secret.secret) == enroll_secret
    assert len(compared) == 2
    assert enroll_secret_match("revoked-secret-value") is None
