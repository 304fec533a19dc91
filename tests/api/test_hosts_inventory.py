"""Host filters and the inventory views: labels, policy responses, software with host counts,
users, refetch."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hosts.inventory.models import HostSoftware, HostUser
from hosts.models import Host
from queries.models import Label, LabelMembership, Policy, PolicyResult


@pytest.fixture
def fleet(db):
    now = timezone.now()
    mac = Host.objects.create(host_identifier="m", hostname="mac-1", uuid="U-MAC", platform="darwin", last_seen_at=now)
    lin = Host.objects.create(host_identifier="l", hostname="lin-1", uuid="U-LIN", platform="linux", last_seen_at=now)
    old = Host.objects.create(
        host_identifier="o", hostname="old-1", uuid="U-OLD", platform="linux", last_seen_at=now - timedelta(days=40)
    )
    for host, version in ((mac, "120.0"), (lin, "120.0"), (old, "99.0")):
        HostSoftware.objects.create(host=host, name="Firefox", version=version, source="apps")
    HostUser.objects.create(host=mac, uid="501", username="anna", shell="/bin/zsh", directory="/Users/anna")  # noqa: S604
    policy = Policy.objects.create(name="Firewall", sql="SELECT 1;")
    PolicyResult.objects.create(policy=policy, host=mac, passes=True)
    PolicyResult.objects.create(policy=policy, host=lin, passes=False)
    canaries = Label.objects.create(name="Canaries", membership=Label.Membership.MANUAL)
    LabelMembership.objects.create(label=canaries, host=lin)
    return {"mac": mac, "lin": lin, "old": old, "policy": policy, "canaries": canaries}


def _names(api, **params):
    status, body = api.get("hosts", **params)
    assert status == 200, body
    return sorted(h["hostname"] for h in body["hosts"])


def test_status_platform_label_policy_filters(apis, fleet):
    api = apis["observer"]
    assert _names(api, status="online") == ["lin-1", "mac-1"]
    assert _names(api, status="mia") == ["old-1"]
    assert _names(api, status="missing") == ["old-1"]
    assert _names(api, platform="linux") == ["lin-1", "old-1"]
    assert _names(api, label_id=fleet["canaries"].pk) == ["lin-1"]
    assert _names(api, policy_id=fleet["policy"].pk, policy_response="passing") == ["mac-1"]
    assert _names(api, policy_id=fleet["policy"].pk, policy_response="failing") == ["lin-1"]
    status, body = api.get("hosts", policy_id=fleet["policy"].pk, policy_response="maybe")
    assert status == 400 and body["errors"][0]["name"] == "policy_response"
    status, body = api.get("hosts", label_id=999999)
    assert status == 404


def test_pagination_and_order(apis, fleet):
    api = apis["observer"]
    status, body = api.get("hosts", page=0, per_page=2, order_key="hostname", order_direction="desc")
    assert [h["hostname"] for h in body["hosts"]] == ["old-1", "mac-1"]
    status, body = api.get("hosts", page=1, per_page=2, order_key="hostname", order_direction="desc")
    assert [h["hostname"] for h in body["hosts"]] == ["lin-1"]
    status, body = api.get("hosts", order_key="secret_column")
    assert status == 400 and "order_key" in body["errors"][0]["reason"]


def test_software_inventory_with_host_counts(apis, fleet):
    status, body = apis["observer"].get("software/versions", order_key="version")
    assert status == 200
    counts = {(s["name"], s["version"]): s["hosts_count"] for s in body["software"]}
    assert counts == {("Firefox", "120.0"): 2, ("Firefox", "99.0"): 1}
    newest = next(s for s in body["software"] if s["version"] == "120.0")
    assert _names(apis["observer"], software_version_id=newest["id"]) == ["lin-1", "mac-1"]
    status, body = apis["observer"].get(f"hosts/{fleet['old'].pk}/software")
    assert [(s["name"], s["version"]) for s in body["software"]] == [("Firefox", "99.0")]


def test_host_users_policies_and_detail(apis, fleet):
    api = apis["observer"]
    mac = fleet["mac"]
    status, body = api.get(f"hosts/{mac.pk}/users")
    assert body["users"] == [
        {"uid": 501, "username": "anna", "type": "", "groupname": "", "shell": "/bin/zsh", "directory": "/Users/anna"}
    ]
    status, body = api.get(f"hosts/{mac.pk}/policies")
    assert [(p["name"], p["response"]) for p in body["policies"]] == [("Firewall", "pass")]
    status, body = api.get(f"hosts/{mac.pk}")
    host = body["host"]
    assert host["status"] == "online"
    assert [p["response"] for p in host["policies"]] == ["pass"]
    assert host["software"][0]["name"] == "Firefox" and host["users"][0]["username"] == "anna"
    status, body = api.get(f"policies/{fleet['policy'].pk}")
    assert (body["policy"]["passing_host_count"], body["policy"]["failing_host_count"]) == (1, 1)


def test_refetch_marks_the_host_due(apis, fleet):
    from hosts.inventory.due import due_times

    lin = fleet["lin"]
    assert apis["observer_plus"].post(f"hosts/{lin.pk}/refetch") == (200, {})
    assert all(t is not None and t <= timezone.now().timestamp() for t in due_times(lin.pk, ("details",)))


def test_manual_label_membership(apis, fleet):
    api = apis["maintainer"]
    mac, canaries = fleet["mac"], fleet["canaries"]
    assert api.post(f"hosts/{mac.pk}/labels", {"labels": ["Canaries"]}) == (200, {})
    assert _names(api, label_id=canaries.pk) == ["lin-1", "mac-1"]
    assert api.delete(f"hosts/{mac.pk}/labels", {"labels": ["Canaries"]}) == (200, {})
    status, body = api.patch(f"labels/{canaries.pk}", {"host_ids": [fleet["old"].pk]})
    assert status == 200 and body["label"]["host_ids"] == [fleet["old"].pk]
    status, body = api.post(f"hosts/{mac.pk}/labels", {"labels": ["Nope"]})
    assert status == 422 and "Nope" in body["errors"][0]["reason"]
    dynamic = Label.objects.create(name="Dyn", sql="SELECT 1;")
    status, body = api.post(f"hosts/{mac.pk}/labels", {"labels": [dynamic.name]})
    assert status == 422 and "not a manual label" in body["errors"][0]["reason"]


def test_host_summary_and_bulk_delete(apis, fleet):
    status, body = apis["observer"].get("host_summary")
    assert status == 200
    assert (body["totals_hosts_count"], body["online_count"], body["mia_count"]) == (3, 2, 1)
    assert {p["platform"]: p["hosts_count"] for p in body["platforms"]} == {"darwin": 1, "linux": 2}
    status, body = apis["admin"].post("hosts/delete", {"ids": [fleet["old"].pk, 999999]})
    assert status == 422 and Host.objects.count() == 3
    assert apis["admin"].post("hosts/delete", {"ids": [fleet["old"].pk, fleet["lin"].pk]}) == (200, {})
    assert list(Host.objects.values_list("hostname", flat=True)) == ["mac-1"]
