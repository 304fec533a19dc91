import pytest

from .stack import Stack

ENROLL_SECRET = "fault-test-enroll-secret-9Xw"


@pytest.fixture(scope="session")
def stack():
    """One private stack for the fault tests; each test leaves every component running."""
    private = Stack()
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
