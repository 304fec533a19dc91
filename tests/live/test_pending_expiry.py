import pytest

from fleetweb.redis import get_redis
from queries.live import campaign_launch, pending_key
from tests.agent_sim import sim_fleet


@pytest.mark.django_db
def test_short_campaign_does_not_shorten_a_long_one(client, enroll_secret, django_capture_on_commit_callbacks):
    (agent,) = sim_fleet(client, 1)
    with django_capture_on_commit_callbacks(execute=True):
        long = campaign_launch(sql="SELECT 1;", targets={"all": True}, ttl=3600)
        campaign_launch(sql="SELECT 2;", targets={"all": True}, ttl=30)
    host_id = long.hosts.get().host_id
    assert get_redis().ttl(pending_key(host_id)) > 3000
    queries = agent.checkin()["queries"]
    assert {f"fleetweb_live_{long.pk}", f"fleetweb_live_{long.pk + 1}"} <= set(queries)
