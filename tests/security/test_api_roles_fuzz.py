"""schemathesis over the whole REST API with each role's token and with none
(tests/api/test_schemathesis.py covers every operation in depth as admin). Invariants: no server
error, the documented content type, and anonymous callers and read-only roles change nothing."""

import pytest
import schemathesis
from hypothesis import given
from schemathesis.checks import content_type_conformance, not_a_server_error

from accounts.models import ApiToken, Profile
from accounts.tokens import token_issue
from hosts.models import EnrollSecret, Host
from queries.models import AgentOptions, Label, Pack, Policy, Query, ScheduledQuery
from tests.api.test_schemathesis import SCHEMA_DOC
from tests.fuzzing import fuzz_settings

schema = schemathesis.openapi.from_dict(SCHEMA_DOC)
CONTENT = (Host, EnrollSecret, Query, Pack, ScheduledQuery, Label, Policy, AgentOptions)


def content_snapshot() -> dict[str, list]:
    from django.contrib.auth import get_user_model

    snap = {m.__name__: sorted(map(str, m.objects.values_list("pk", flat=True))) for m in CONTENT}
    snap["users"] = sorted(get_user_model().objects.values_list("username", "is_active"))
    snap["roles"] = sorted(Profile.objects.values_list("user_id", "role"))
    return snap


@pytest.fixture
def seeded_for(transactional_db, settings):
    from django.contrib.auth import get_user_model

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.FLEET = {**settings.FLEET, "LIVE_QUERY_SYNC_TIMEOUT": 0, "TOKEN_FAILURE_RATE_LIMIT": 0}
    EnrollSecret.objects.create(name="default", secret="acme-osquery-enroll-7Gq2Zp")
    host = Host.objects.create(host_identifier="h1", hostname="h1", uuid="U1", platform="darwin")
    query = Query.objects.create(name="q1", sql="SELECT 1;")
    pack = Pack.objects.create(name="p1")
    ScheduledQuery.objects.create(pack=pack, query=query, name="q1")
    label = Label.objects.create(name="manual", membership=Label.Membership.MANUAL)
    label.hosts.add(host)
    Policy.objects.create(name="pol1", sql="SELECT 1;")

    def user(role: str):
        email = f"{role}@example.com"
        person = get_user_model().objects.create_user(username=email, email=email, password="pw-123456-role")
        Profile.objects.create(user=person, role=role)
        return person

    return user


@pytest.mark.parametrize("role", [None, "observer", "observer_plus", "maintainer"])
def test_every_role_gets_no_server_error(role, live_server, seeded_for):
    person = seeded_for(role) if role else None
    before = content_snapshot()

    @given(case=schema.as_strategy())
    @fuzz_settings(examples=120)
    def run(case):
        # A fresh token per call: a generated call may log out or revoke the previous one.
        headers = {}
        if person is not None:
            headers["Authorization"] = f"Bearer {token_issue(user=person, kind=ApiToken.Kind.API)[1]}"
        case.call_and_validate(
            base_url=live_server.url,
            headers=headers,
            checks=[not_a_server_error, content_type_conformance],
        )

    run()
    if role in (None, "observer", "observer_plus"):
        assert content_snapshot() == before, f"{role or 'anonymous'} changed something"
