import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from fleetweb.surfaces import AGENT

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleetweb.settings")
django_application = get_wsgi_application()

from collector.node.wsgi import AgentFastPath  # noqa: E402 - needs Django set up
from fleetweb import embedded_beat  # noqa: E402 - needs Django set up

# Agent nodes answer osquery's node endpoints before Django's request cycle (collector/node/wsgi.py).
application = AgentFastPath(django_application) if AGENT in settings.FLEETWEB_SURFACES else django_application

embedded_beat.start()
