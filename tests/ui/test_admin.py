import pytest
from django.contrib.messages import get_messages

from hosts.models import Host
from queries.models import AgentOptions, Label, Pack, Query

pytestmark = pytest.mark.django_db


def _errors(response) -> str:
    assert response.status_code == 200, response.status_code  # the form came back
    return response.content.decode()


def test_query_with_bad_sql_is_not_saved(admin_client_ui):
    body = _errors(
        admin_client_ui.post("/admin/queries/query/add/", {"name": "ports", "sql": "SELECT prot FROM listening_ports"})
    )
    assert "no such column: prot" in body
    body = _errors(admin_client_ui.post("/admin/queries/query/add/", {"name": "ports", "sql": "SELEC 1"}))
    assert "syntax error" in body
    assert not Query.objects.exists()


def test_query_on_extension_table_saves_with_a_warning(admin_client_ui):
    response = admin_client_ui.post(
        "/admin/queries/query/add/", {"name": "pods", "sql": "SELECT name FROM kubernetes_pods;"}
    )
    assert response.status_code == 302
    assert Query.objects.get().sql == "SELECT name FROM kubernetes_pods;"
    assert any("kubernetes_pods" in str(m) for m in get_messages(response.wsgi_request))


def test_dynamic_label_needs_valid_sql(admin_client_ui):
    body = _errors(admin_client_ui.post("/admin/queries/label/add/", {"name": "macs", "membership": "dynamic"}))
    assert "a dynamic label needs a query" in body
    body = _errors(
        admin_client_ui.post(
            "/admin/queries/label/add/", {"name": "macs", "membership": "dynamic", "sql": "SELECT 1 FROM nowhere WHERE"}
        )
    )
    assert "incomplete input" in body
    assert not Label.objects.filter(name="macs").exists()


def test_agent_options_are_validated(admin_client_ui):
    options = AgentOptions.get_solo()
    body = _errors(
        admin_client_ui.post(
            f"/admin/queries/agentoptions/{options.pk}/change/",
            {"config": '{"options": {"distributed_interval": "soon"}}', "overrides": "{}"},
        )
    )
    assert "config.options.distributed_interval must be a non-negative integer" in body
    body = _errors(
        admin_client_ui.post(
            f"/admin/queries/agentoptions/{options.pk}/change/",
            {"config": '{"packs": {}}', "overrides": "{}"},
        )
    )
    assert "unsupported key(s) packs" in body
    response = admin_client_ui.post(
        f"/admin/queries/agentoptions/{options.pk}/change/",
        {"config": '{"options": {"distributed_interval": 30}}', "overrides": '{"platforms": {"darwin": {}}}'},
    )
    assert response.status_code == 302
    options.refresh_from_db()
    assert options.config == {"options": {"distributed_interval": 30}}


def test_host_admin_list_is_bounded_and_escapes(admin_client_ui, django_assert_max_num_queries):
    Host.objects.bulk_create(
        [Host(host_identifier=f"h{i}", hostname=f"<b>host-{i}</b>", platform="linux") for i in range(120)]
    )
    label = Label.objects.create(name="<i>servers</i>", sql="SELECT 1;")
    label.hosts.add(*Host.objects.all()[:60])
    with django_assert_max_num_queries(12):
        response = admin_client_ui.get("/admin/hosts/host/?status=offline&platform__exact=linux")
    body = response.content.decode()
    assert response.status_code == 200
    assert "&lt;b&gt;host-" in body and "<b>host-" not in body
    assert "&lt;i&gt;servers&lt;/i&gt;" in body


def test_host_admin_refetch_and_delete_actions(admin_client_ui, enrolled_mac, django_capture_on_commit_callbacks):
    host = Host.objects.get()
    enrolled_mac.call("distributed/read")  # the first check-in takes the detail queries
    assert not [q for q in enrolled_mac.call("distributed/read").get("queries", {}) if "detail" in q]
    response = admin_client_ui.post(
        "/admin/hosts/host/", {"action": "refetch_hosts", "_selected_action": [host.pk]}, follow=True
    )
    assert "will refetch" in response.content.decode()
    assert [q for q in enrolled_mac.call("distributed/read")["queries"] if q.startswith("fleetweb_detail")]

    # Deleting asks for confirmation first; nothing is gone until the operator confirms.
    response = admin_client_ui.post("/admin/hosts/host/", {"action": "delete_selected", "_selected_action": [host.pk]})
    assert response.status_code == 200 and "Are you sure" in response.content.decode()
    assert Host.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_ui.post(
            "/admin/hosts/host/",
            {"action": "delete_selected", "_selected_action": [host.pk], "post": "yes"},
            follow=True,
        )
    assert "Successfully deleted 1 host" in response.content.decode()
    assert not Host.objects.exists()
    # The deleted host's node key stops working at once.
    assert enrolled_mac.call("config")["node_invalid"] is True


def test_observer_reads_the_admin_but_cannot_change_anything(observer_client):
    query = Query.objects.create(name="q", sql="SELECT 1;")
    assert observer_client.get("/admin/").status_code == 200
    assert observer_client.get("/admin/queries/query/").status_code == 200
    assert observer_client.get(f"/admin/queries/query/{query.pk}/change/").status_code == 200  # read-only view
    assert observer_client.get("/admin/queries/query/add/").status_code == 403
    response = observer_client.post(f"/admin/queries/query/{query.pk}/change/", {"name": "q", "sql": "SELECT 2;"})
    assert response.status_code == 403
    assert observer_client.post(f"/admin/queries/query/{query.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Query.objects.get().sql == "SELECT 1;"
    assert observer_client.get("/admin/queries/pack/add/").status_code == 403
    assert not Pack.objects.exists()
    # Enroll secrets are listed without their value.
    body = observer_client.get("/admin/hosts/enrollsecret/add/").status_code
    assert body == 403


def test_admin_login_goes_to_the_ui_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert client.get(response["Location"])["Location"].startswith("/login/?next=")


def test_policy_admin_counts_failing_and_passing_hosts(admin_client_ui):
    from queries.models import Policy, PolicyResult

    hosts = Host.objects.bulk_create([Host(host_identifier=f"h{i}", hostname=f"h{i}") for i in range(5)])
    policy = Policy.objects.create(name="FileVault on", sql="SELECT 1 FROM disk_encryption WHERE encrypted = 1;")
    for index, host in enumerate(hosts):
        PolicyResult.objects.create(policy=policy, host=host, passes=index < 2)
    response = admin_client_ui.get("/admin/queries/policy/")
    assert response.status_code == 200
    row = response.content.decode().split("FileVault on", 1)[1].split("</tr>", 1)[0]
    assert '<td class="field-failing_hosts">3</td>' in row
    assert '<td class="field-passing_hosts">2</td>' in row
    body = _errors(
        admin_client_ui.post("/admin/queries/policy/add/", {"name": "bad", "sql": "SELECT * FROM nope WHERE"})
    )
    assert "incomplete input" in body
