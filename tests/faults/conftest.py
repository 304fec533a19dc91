import httpx
import pytest

from .stack import Stack

ENROLL_SECRET = "fault-test-enroll-secret-9Xw"


@pytest.fixture(scope="session")
def stack():
    """One private stack for the fault tests; each test leaves every component running."""
    # The sweep re-parses batches whose forwarding task was lost after a second, not a minute.
    private = Stack(FLEET_FORWARD_STALE_SECONDS="1")
    try:
        private.boot()
        private.shell(
            "from hosts.models import EnrollSecret; "
            f"EnrollSecret.objects.get_or_create(name='faults', secret='{ENROLL_SECRET}')"
        )
        yield private
    finally:
        private.destroy()


@pytest.fixture
def running(stack: Stack):
    """The stack with every component up again after the test, whatever it stopped."""
    yield stack
    if not stack.db.running:
        stack.db.start()
    if not stack.redis.running:
        stack.redis.start()
    stack.worker.stop()
    stack.beat.stop()
    stack.shell("from collector.models import Destination; Destination.objects.all().delete()")


def logged_in(stack: Stack) -> httpx.Client:
    stack.shell(
        "from django.contrib.auth.models import User; "
        "User.objects.filter(username='ops').exists() or "
        "User.objects.create_superuser('ops', 'ops@example.com', 'fault-test-password-1')"
    )
    browser = httpx.Client(base_url=stack.base, timeout=30)
    browser.get("/login/")
    reply = browser.post(
        "/login/",
        data={"username": "ops", "password": "fault-test-password-1", "next": "/"},
        headers={"X-CSRFToken": browser.cookies["csrftoken"], "Referer": stack.base + "/login/"},
    )
    assert reply.status_code == 302, reply.text[:500]
    assert browser.get("/admin/").status_code == 200
    return browser
