"""Every endpoint with every role and anonymously: allowed, forbidden (nothing changes), not found."""

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core import serializers as django_serializers

from accounts.models import Activity, Profile
from hosts.models import EnrollSecret, Host
from queries.models import AgentOptions, Campaign, Label, LabelMembership, Pack, Policy, Query, ScheduledQuery

from .conftest import ROLES, make_user

READ = set(ROLES)
MANAGE = {"admin", "maintainer"}
LIVE = {"admin", "maintainer", "observer_plus"}
ADMIN = {"admin"}
MISSING = 987654


@dataclass
class Case:
    method: str
    path: str  # may contain {host}, {query}, ... filled from the world
    allowed: set[str]
    body: Any = None
    # Path for the not-found check; None when the path names no object.
    missing: str | None = None
    ok: set[int] = field(default_factory=lambda: {200})

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _q(name: str) -> dict[str, Any]:
    return {"name": name, "query": "SELECT 1;"}


QUERY_DOC = "apiVersion: v1\nkind: query\nspec:\n  name: from yaml\n  query: SELECT 1;\n"
SECRET_DOC = "apiVersion: v1\nkind: enroll_secret\nspec:\n  secrets:\n    - secret: another-long-secret-1\n"

CASES = [
    # hosts
    Case("GET", "hosts", READ),
    Case("GET", "hosts/count", READ),
    Case("POST", "hosts/delete", ADMIN, {"ids": ["{host}"]}),
    Case("GET", "host_summary", READ),
    Case("GET", "hosts/{host}", READ, missing="hosts/{MISSING}"),
    Case("GET", "hosts/identifier/{hostname}", READ, missing="hosts/identifier/no-such-host"),
    Case("DELETE", "hosts/{host}", ADMIN, missing="hosts/{MISSING}"),
    Case("POST", "hosts/{host}/refetch", LIVE, missing="hosts/{MISSING}/refetch"),
    Case("GET", "hosts/{host}/software", READ, missing="hosts/{MISSING}/software"),
    Case("GET", "hosts/{host}/users", READ, missing="hosts/{MISSING}/users"),
    Case("GET", "hosts/{host}/policies", READ, missing="hosts/{MISSING}/policies"),
    Case("POST", "hosts/{host}/labels", MANAGE, {"labels": ["Canaries"]}, missing="hosts/{MISSING}/labels"),
    Case("DELETE", "hosts/{host}/labels", MANAGE, {"labels": ["Canaries"]}, missing="hosts/{MISSING}/labels"),
    Case("POST", "hosts/{host}/query", LIVE, {"query": "SELECT 1;"}, missing="hosts/{MISSING}/query"),
    Case(
        "POST",
        "hosts/identifier/{hostname}/query",
        LIVE,
        {"query": "SELECT 1;"},
        missing="hosts/identifier/no-such-host/query",
    ),
    Case("GET", "software/versions", READ),
    Case("GET", "software", READ),
    # queries
    Case("GET", "queries", READ),
    Case("POST", "queries", MANAGE, _q("new query")),
    Case("GET", "queries/{query}", READ, missing="queries/{MISSING}"),
    Case("PATCH", "queries/{query}", MANAGE, {"description": "changed"}, missing="queries/{MISSING}"),
    Case("DELETE", "queries/id/{query}", MANAGE, missing="queries/id/{MISSING}"),
    Case("DELETE", "queries/{query_name}", MANAGE, missing="queries/no-such-query"),
    Case("POST", "queries/delete", MANAGE, {"ids": ["{query}"]}),
    Case("POST", "queries/run", LIVE, {"query": "SELECT 1;", "selected": {"hosts": ["{host}"]}}),
    Case("POST", "queries/run_by_identifiers", LIVE, {"query": "SELECT 1;", "selected": {"hosts": ["{hostname}"]}}),
    Case("POST", "queries/{query}/run", LIVE, {"host_ids": ["{host}"]}, missing="queries/{MISSING}/run"),
    # packs
    Case("GET", "packs", READ),
    Case("POST", "packs", MANAGE, {"name": "new pack"}),
    Case("GET", "packs/{pack}", READ, missing="packs/{MISSING}"),
    Case("PATCH", "packs/{pack}", MANAGE, {"description": "changed"}, missing="packs/{MISSING}"),
    Case("DELETE", "packs/id/{pack}", MANAGE, missing="packs/id/{MISSING}"),
    Case("DELETE", "packs/{pack_name}", MANAGE, missing="packs/no-such-pack"),
    Case("GET", "packs/{pack}/scheduled", READ, missing="packs/{MISSING}/scheduled"),
    Case("POST", "packs/schedule", MANAGE, {"pack_id": "{pack}", "query_id": "{query}", "name": "again"}),
    Case("GET", "packs/schedule/{scheduled}", READ, missing="packs/schedule/{MISSING}"),
    Case("PATCH", "packs/schedule/{scheduled}", MANAGE, {"interval": 60}, missing="packs/schedule/{MISSING}"),
    Case("DELETE", "packs/schedule/{scheduled}", MANAGE, missing="packs/schedule/{MISSING}"),
    # labels
    Case("GET", "labels", READ),
    Case("GET", "labels/summary", READ),
    Case("POST", "labels", MANAGE, {"name": "new label", "query": "SELECT 1;"}),
    Case("GET", "labels/{label}", READ, missing="labels/{MISSING}"),
    Case("PATCH", "labels/{label}", MANAGE, {"description": "changed"}, missing="labels/{MISSING}"),
    Case("GET", "labels/{label}/hosts", READ, missing="labels/{MISSING}/hosts"),
    Case("DELETE", "labels/id/{label}", MANAGE, missing="labels/id/{MISSING}"),
    Case("DELETE", "labels/{label_name}", MANAGE, missing="labels/no-such-label"),
    # policies
    Case("GET", "policies", READ),
    Case("GET", "global/policies", READ),
    Case("GET", "policies/count", READ),
    Case("POST", "policies", MANAGE, {"name": "new policy", "query": "SELECT 1;"}),
    Case("GET", "policies/{policy}", READ, missing="policies/{MISSING}"),
    Case("PATCH", "policies/{policy}", MANAGE, {"critical": True}, missing="policies/{MISSING}"),
    Case("POST", "policies/delete", MANAGE, {"ids": ["{policy}"]}),
    # users and sessions
    Case("GET", "me", READ),
    Case("GET", "users", ADMIN),
    Case(
        "POST",
        "users/admin",
        ADMIN,
        {"email": "new@example.com", "name": "New", "password": "another-good-pass-7", "global_role": "observer"},
    ),
    Case("GET", "users/{other_user}", ADMIN, missing="users/{MISSING}"),
    Case("PATCH", "users/{other_user}", ADMIN, {"global_role": "maintainer"}, missing="users/{MISSING}"),
    Case("DELETE", "users/{other_user}", ADMIN, missing="users/{MISSING}"),
    Case("GET", "users/{other_user}/sessions", ADMIN, missing="users/{MISSING}/sessions"),
    Case("DELETE", "users/{other_user}/sessions", ADMIN, missing="users/{MISSING}/sessions"),
    Case("GET", "sessions/{other_session}", ADMIN, missing="sessions/{MISSING}"),
    Case("DELETE", "sessions/{other_session}", ADMIN, missing="sessions/{MISSING}"),
    # config, secrets, audit
    Case("GET", "config", READ),
    Case("PATCH", "config", ADMIN, {"agent_options": {"config": {"options": {"distributed_interval": 30}}}}),
    Case("GET", "spec/enroll_secret", ADMIN),
    Case("POST", "spec/enroll_secret", ADMIN, {"spec": {"secrets": [{"secret": "a-new-secret-value"}]}}),
    Case("GET", "activities", READ),
    # specs
    Case("POST", "spec/apply", MANAGE, {"text": QUERY_DOC, "filename": "q.yml"}),
    Case("POST", "spec/apply", ADMIN, {"text": SECRET_DOC, "filename": "s.yml"}),
    Case("GET", "spec/export", READ),
    Case("POST", "spec/convert", READ, {"text": '{"queries": {"up": {"query": "SELECT 1;", "interval": 60}}}'}),
    Case("GET", "spec/export?kinds=enroll_secret", ADMIN),
    Case("POST", "spec/queries", MANAGE, {"specs": [{"name": "spec query", "query": "SELECT 2;"}]}),
    Case("GET", "spec/queries", READ),
    Case("GET", "spec/queries/{query_name}", READ, missing="spec/queries/no-such-query"),
    Case("POST", "spec/packs", MANAGE, {"specs": [{"name": "spec pack", "queries": [{"query": "uptime"}]}]}),
    Case("GET", "spec/packs", READ),
    Case("GET", "spec/packs/{pack_name}", READ, missing="spec/packs/no-such-pack"),
    Case("POST", "spec/labels", MANAGE, {"specs": [{"name": "spec label", "query": "SELECT 1;"}]}),
    Case("GET", "spec/labels", READ),
    Case("GET", "spec/labels/{label_name}", READ, missing="spec/labels/no-such-label"),
    Case("POST", "spec/policies", MANAGE, {"specs": [{"name": "spec policy", "query": "SELECT 1;"}]}),
    Case("GET", "version", READ),
]


@pytest.fixture
def world(db, users, settings) -> dict[str, Any]:
    settings.FLEET = {**settings.FLEET, "LIVE_QUERY_SYNC_TIMEOUT": 0}
    secret = EnrollSecret.objects.create(name="default", secret="acme-osquery-enroll-7Gq2Zp")
    host = Host.objects.create(host_identifier="h-1", hostname="web-1.example.com", uuid="U-1", platform="linux")
    host.enroll_secret = secret
    host.save()
    query = Query.objects.create(name="uptime", sql="SELECT * FROM uptime;")
    pack = Pack.objects.create(name="monitoring")
    scheduled = ScheduledQuery.objects.create(pack=pack, query=query, name="uptime", interval=3600)
    label = Label.objects.create(name="Ubuntu", sql="SELECT 1 FROM os_version WHERE platform = 'ubuntu';")
    manual = Label.objects.create(name="Canaries", membership=Label.Membership.MANUAL)
    LabelMembership.objects.create(label=manual, host=host)
    policy = Policy.objects.create(name="Firewall on", sql="SELECT 1;")
    other = make_user("observer", email="someone@example.com")
    from accounts.tokens import token_issue

    session, _ = token_issue(user=other)
    return {
        "host": host.pk,
        "hostname": host.hostname,
        "query": query.pk,
        "query_name": query.name,
        "pack": pack.pk,
        "pack_name": pack.name,
        "scheduled": scheduled.pk,
        "label": label.pk,
        "label_name": label.name,
        "policy": policy.pk,
        "other_user": other.pk,
        "other_session": session.pk,
        "MISSING": MISSING,
    }


def _fill(value: Any, world: dict[str, Any]) -> Any:
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in world:
            return world[value[1:-1]]
        return re.sub(r"\{(\w+)\}", lambda m: str(world[m.group(1)]) if m.group(1) in world else m.group(0), value)
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


def snapshot() -> str:
    """A digest of everything a call could change (token last-use times excepted)."""
    rows = []
    for model in (
        Host,
        EnrollSecret,
        Query,
        Pack,
        ScheduledQuery,
        Label,
        LabelMembership,
        Policy,
        AgentOptions,
        Campaign,
        Activity,
        Profile,
    ):
        rows.append(django_serializers.serialize("json", model.objects.order_by("pk")))
    from django.contrib.auth import get_user_model

    rows.append(json.dumps(list(get_user_model().objects.order_by("pk").values("pk", "email", "is_active"))))
    from accounts.models import ApiToken

    rows.append(json.dumps(list(ApiToken.objects.order_by("pk").values_list("pk", "revoked_at")), default=str))
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


PAIRS = [(case, role) for case in CASES for role in [None, *ROLES]]


@pytest.mark.parametrize(("case", "role"), PAIRS, ids=[f"{c.id}-{r or 'anonymous'}" for c, r in PAIRS])
def test_role_matrix(case: Case, role: str | None, apis, world):
    api = apis[role]
    before = snapshot()
    status, body = api.call(case.method, _fill(case.path, world), _fill(case.body, world))
    if role is None:
        assert status == 401, body
        assert body["message"] == "Authentication required"
        assert snapshot() == before
    elif role in case.allowed:
        assert status in case.ok, body
        assert isinstance(body, dict)
    else:
        assert status == 403, body
        assert body["message"] == "Permission Denied"
        assert body["errors"] and body["errors"][0]["reason"]
        assert snapshot() == before, "a denied call changed something"


MISSING_CASES = [case for case in CASES if case.missing]


@pytest.mark.parametrize("case", MISSING_CASES, ids=[c.id for c in MISSING_CASES])
def test_not_found(case: Case, apis, world):
    role = "admin"
    before = snapshot()
    status, body = apis[role].call(case.method, _fill(case.missing, world), _fill(case.body, world))
    assert status == 404, body
    assert body["message"] == "Resource Not Found"
    assert body["errors"][0]["reason"]
    assert snapshot() == before


def test_every_route_is_in_the_matrix():
    """A new endpoint must be added to CASES. Login/logout are tested in test_auth, campaign
    results (launcher-only) in test_live_api; the rest of `elsewhere` are aliases of covered routes."""
    from django.urls import resolve

    from api import urls

    covered = set()
    for case in CASES:
        path = re.sub(r"\{(\w+)\}", lambda m: "x" if "name" in m.group(1) else "1", case.path).split("?")[0]
        covered.add(resolve(f"/api/v1/fleet/{path}").route)
    elsewhere = {"login", "logout", "queries/run_by_names", "schedule", "schedule/<int:scheduled_id>"}
    elsewhere |= {"global/policies/delete", "global/policies/<int:policy_id>", "queries/run/<int:campaign_id>"}
    missing = [
        str(p.pattern)
        for p in urls.urlpatterns
        if not str(p.pattern).startswith("^")
        and str(p.pattern) not in elsewhere
        and f"api/v1/fleet/{p.pattern}" not in covered
    ]
    assert missing == []
