"""A line with numbers no agent would send must not stop forwarding for its host."""

import pytest

from collector.models import LogBatch, StatusLogLine
from collector.services.forwarding import destination_deliver

from .conftest import forward_all, make_destination

pytestmark = pytest.mark.usefixtures("manual_delivery")


@pytest.mark.django_db(transaction=True)
def test_out_of_range_numbers_are_forwarded_and_do_not_wedge_the_host(enrolled_mac, receivers):
    siem = receivers("ndjson")
    destination = make_destination("siem", "http", url=siem.url, batch_max_events=100, batch_max_wait_seconds=0)
    poison = {"name": "pack/p/q", "unixTime": 1e30, "counter": -1e300, "columns": {"a": "1"}, "action": "added"}
    assert enrolled_mac.call("log", {"log_type": "result", "data": [poison]}) == {}
    status = {"hostIdentifier": "h", "unixTime": 1e30, "severity": 1e20, "line": 1e12, "message": "odd"}
    assert enrolled_mac.call("log", {"log_type": "status", "data": [status]}) == {}
    follow_up = {"name": "pack/p/q", "unixTime": 1717430400, "columns": {"marker": "after"}, "action": "added"}
    assert enrolled_mac.call("log", {"log_type": "result", "data": [follow_up]}) == {}
    forward_all()
    destination_deliver(destination_id=destination.pk)
    assert not LogBatch.objects.filter(processed_at__isnull=True).exists()
    columns = [e.get("columns") for e in siem.events]
    assert {"a": "1"} in columns and {"marker": "after"} in columns
    assert len(siem.events) == 3
    poisoned = next(e for e in siem.events if e.get("columns") == {"a": "1"})
    assert poisoned["unixTime"] is None and poisoned["counter"] is None
    assert StatusLogLine.objects.get().line is None


@pytest.mark.django_db
def test_file_destinations_stay_inside_the_allowed_directories(settings, tmp_path):
    from django.core.exceptions import ValidationError

    from collector.models import Destination

    settings.FLEET = {**settings.FLEET, "FILE_DESTINATION_DIRS": [str(tmp_path)]}
    for path in ("/etc/passwd", str(tmp_path / ".." / "escape.log"), "relative.log"):
        destination = Destination(name="f", kind=Destination.Kind.FILE, file_path=path)
        with pytest.raises(ValidationError) as excinfo:
            destination.clean()
        assert "file_path" in excinfo.value.message_dict
    Destination(name="f", kind=Destination.Kind.FILE, file_path=str(tmp_path / "siem" / "events.log")).clean()
