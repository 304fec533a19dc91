import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from fleetweb.surfaces import AGENT

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleetweb.settings")
django_application = get_wsgi_application()

from collector.node.wsgi import AgentFastPath  # noqa: E402 - needs Django set up
from fleetweb import embedded_beat  # noqa: E402 - needs Django set up

# Agent nodes answer osquery's node endpoints before Django's request cycle (collector/node/wsgi.py).
fast_path = AGENT in settings.FLEETWEB_SURFACES and settings.FLEETWEB_AGENT_FAST_PATH
application = AgentFastPath(django_application) if fast_path else django_application

embedded_beat.start()
