"""Label and policy membership follows what the hosts answer; labels drive targeting."""

import time

import pytest

from hosts.inventory.due import due_now
from hosts.models import Host
from queries.agent_config import config_for_node
from queries.labels import LabelError, label_manual_set
from queries.live import campaign_launch
from queries.models import Label, LabelMembership, Pack, Policy, PolicyResult
from queries.policies import policy_counts, policy_failing_hosts
from queries.targets import resolve_targets
from tests.agent_sim import sim_fleet


def _host(agent) -> Host:
    return Host.objects.get(uuid=agent.enroll_request["host_details"]["system_info"]["uuid"])


@pytest.fixture
def fleet(client, enroll_secret, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        Label.objects.create(name="macOS", builtin_platform="darwin", membership=Label.Membership.MANUAL)
        Label.objects.create(name="has jq", sql="SELECT 1 FROM homebrew_packages WHERE name = 'jq';")
        Label.objects.create(name="Ubuntu 22", sql="SELECT 1 FROM os_version WHERE major = 22;", platform="linux")
        Policy.objects.create(name="disk encrypted", sql="SELECT 1 FROM disk_encryption WHERE encrypted = 1;")
        Policy.objects.create(name="gatekeeper on", sql="SELECT 1 FROM gatekeeper WHERE assessments_enabled = 1;")
    agents = sim_fleet(client, 6)  # mac, ubuntu, windows, mac, ubuntu, windows
    with django_capture_on_commit_callbacks(execute=True):
        for agent in agents:
            agent.checkin()
    return agents


def _recheck(agents, capture) -> None:
    due_now([_host(a).pk for a in agents], ("labels", "policies"))
    with capture(execute=True):
        for agent in agents:
            agent.checkin()


@pytest.mark.django_db
def test_dynamic_label_membership_changes(fleet, django_capture_on_commit_callbacks):
    jq = Label.objects.get(name="has jq")
    ubuntu = Label.objects.get(name="Ubuntu 22")
    assert set(LabelMembership.objects.filter(label=jq).values_list("host_id", flat=True)) == {
        _host(fleet[0]).pk,
        _host(fleet[3]).pk,
    }
    assert LabelMembership.objects.filter(label=ubuntu).count() == 2
    # jq uninstalled on one Mac: it leaves the label at the next label refresh.
    fleet[3].table("homebrew_packages", [{"name": "wget", "version": "1.24.5", "path": "/opt/homebrew"}])
    _recheck(fleet, django_capture_on_commit_callbacks)
    assert list(LabelMembership.objects.filter(label=jq).values_list("host_id", flat=True)) == [_host(fleet[0]).pk]
    assert resolve_targets({"labels": ["has jq"]}) == {_host(fleet[0]).pk}
    assert resolve_targets({"labels": ["macOS"]}) == {_host(fleet[0]).pk, _host(fleet[3]).pk}


@pytest.mark.django_db
def test_label_membership_drives_pack_targeting(fleet, django_capture_on_commit_callbacks):
    from hosts.node_cache import NodeHost

    with django_capture_on_commit_callbacks(execute=True):
        pack = Pack.objects.create(name="brew-audit")
        pack.target_labels.add(Label.objects.get(name="has jq"))
    mac = NodeHost.from_host(_host(fleet[3]))
    assert b"brew-audit" in config_for_node(mac)
    fleet[3].table("homebrew_packages", [])
    _recheck(fleet, django_capture_on_commit_callbacks)
    assert b"brew-audit" not in config_for_node(mac)


@pytest.mark.django_db
def test_label_sql_change_reaches_hosts(fleet, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        label = Label.objects.create(name="has osquery pkg", sql="SELECT 1 FROM deb_packages WHERE name = 'osquery';")
    _recheck(fleet, django_capture_on_commit_callbacks)
    assert LabelMembership.objects.filter(label=label).count() == 2


def test_new_label_and_policy_are_asked_at_the_next_checkin(fleet, django_capture_on_commit_callbacks):
    # No refetch and no interval passing: a change to labels or policies makes every host due.
    with django_capture_on_commit_callbacks(execute=True):
        label = Label.objects.create(name="osquery deb", sql="SELECT 1 FROM deb_packages WHERE name = 'osquery';")
        policy = Policy.objects.create(name="always", sql="SELECT 1;")
    with django_capture_on_commit_callbacks(execute=True):
        for agent in fleet:
            agent.checkin()
    assert LabelMembership.objects.filter(label=label).count() == 2  # the two Ubuntu hosts
    assert PolicyResult.objects.filter(policy=policy).count() == len(fleet)
    # Once answered, the hosts are not asked again until the next interval.
    queries = fleet[0].checkin().get("queries", {})
    assert not [q for q in queries if q.startswith(("fleetweb_label_", "fleetweb_policy_"))]


@pytest.mark.django_db
def test_manual_labels(fleet):
    label = Label.objects.create(name="incident-42", membership=Label.Membership.MANUAL)
    mac, ubuntu = _host(fleet[0]), _host(fleet[1])
    assert label_manual_set(label=label, identifiers=[mac.hostname, ubuntu.hardware_serial]) == {mac.pk, ubuntu.pk}
    assert resolve_targets({"labels": ["incident-42"]}) == {mac.pk, ubuntu.pk}
    assert label_manual_set(label=label, identifiers=[ubuntu.uuid]) == {ubuntu.pk}
    with pytest.raises(LabelError, match="unknown host\\(s\\): nobody"):
        label_manual_set(label=label, identifiers=["nobody"])
    with pytest.raises(LabelError, match="not a manual label"):
        label_manual_set(label=Label.objects.get(name="has jq"), identifiers=[])
    assert list(LabelMembership.objects.filter(label=label).values_list("host_id", flat=True)) == [ubuntu.pk]


@pytest.mark.django_db
def test_policies_pass_fail_unknown(fleet, django_capture_on_commit_callbacks):
    encrypted = Policy.objects.get(name="disk encrypted")
    gatekeeper = Policy.objects.get(name="gatekeeper on")
    # Windows has no disk_encryption table (BitLocker is bitlocker_info): the query fails there, so
    # the answer is unknown, not a failure. Only the Macs have a gatekeeper table.
    assert policy_counts(encrypted) == {"policy_id": encrypted.pk, "passing": 4, "failing": 0, "unknown": 2}
    assert policy_counts(gatekeeper) == {"policy_id": gatekeeper.pk, "passing": 2, "failing": 0, "unknown": 4}
    assert PolicyResult.objects.filter(policy=gatekeeper, passes__isnull=True).count() == 4
    fleet[1].table("disk_encryption", [{"name": "/dev/mapper/ubuntu--vg-root", "encrypted": "0"}])
    _recheck(fleet, django_capture_on_commit_callbacks)
    assert policy_counts(encrypted)["failing"] == 1
    assert policy_failing_hosts(encrypted) == [_host(fleet[1])]


@pytest.mark.django_db
def test_policy_platform_filter_and_live_targets(fleet, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        policy = Policy.objects.create(
            name="sip on", sql="SELECT 1 FROM sip_config WHERE enabled = 1;", platform="darwin"
        )
    _recheck(fleet, django_capture_on_commit_callbacks)
    assert policy_counts(policy) == {"policy_id": policy.pk, "passing": 2, "failing": 0, "unknown": 0}
    with django_capture_on_commit_callbacks(execute=True):
        campaign = campaign_launch(sql="SELECT 1;", targets={"labels": ["Ubuntu 22"], "hosts": [_host(fleet[0]).pk]})
    assert campaign.target_count == 3


@pytest.mark.django_db
def test_policy_and_query_cost_reports_over_http(fleet, django_capture_on_commit_callbacks):
    from django.contrib.auth import get_user_model
    from django.test import Client

    fleet[1].table("disk_encryption", [{"name": "/dev/mapper/ubuntu--vg-root", "encrypted": "0"}])
    _recheck(fleet, django_capture_on_commit_callbacks)
    api = Client()
    api.force_login(get_user_model().objects.create_user(username="viewer", password="x" * 12))
    policy = Policy.objects.get(name="disk encrypted")
    report = api.get(f"/api/v1/fleetweb/policies/{policy.pk}").json()
    failing = _host(fleet[1])
    assert (report["passing"], report["failing"], report["unknown"]) == (3, 1, 2)
    assert report["failing_hosts"] == [{"host_id": failing.pk, "hostname": failing.hostname}]
    costs = api.get("/api/v1/fleetweb/query-performance").json()["queries"]
    assert costs[0]["name"] == "pack/it-compliance/file_hashes" and costs[0]["denylisted_hosts"] == 4
    assert api.get("/api/v1/fleetweb/policies/9999").status_code == 404


@pytest.mark.django_db
def test_fleet_platform_names_and_hosts_without_queries(client, enroll_secret, django_capture_on_commit_callbacks):
    from hosts.inventory.due import due_times

    with django_capture_on_commit_callbacks(execute=True):
        label = Label.objects.create(
            name="jammy", sql="SELECT 1 FROM os_version WHERE codename = 'jammy';", platform="ubuntu"
        )
    mac, ubuntu = sim_fleet(client, 2)
    with django_capture_on_commit_callbacks(execute=True):
        mac_work = mac.checkin()
        ubuntu.checkin()
    assert not any(q.startswith("fleetweb_label_") for q in mac_work["queries"])
    assert list(LabelMembership.objects.filter(label=label).values_list("host_id", flat=True)) == [_host(ubuntu).pk]
    # The Mac had no label or policy to answer: it is due again after the full interval, not sooner.
    labels_due, policies_due = due_times(_host(mac).pk, ("labels", "policies"))
    assert min(labels_due, policies_due) > time.time() + 3000
