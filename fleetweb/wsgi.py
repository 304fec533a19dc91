import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleetweb.settings")
application = get_wsgi_application()

from fleetweb import embedded_beat  # noqa: E402 - needs Django set up

embedded_beat.start()
