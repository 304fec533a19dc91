def test_admin_lists_empty_hosts(admin_api):
    status, body = admin_api.get("hosts")
    assert status == 200
    assert body == {"hosts": []}


def test_anonymous_gets_401_in_fleet_shape(apis):
    status, body = apis[None].get("hosts")
    assert status == 401
    assert body["message"] == "Authentication required"
    assert body["errors"][0]["name"] == "base"
