"""The WSGI application gunicorn serves (`gunicorn opengov.wsgi:application`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opengov.settings")
# Django's application, behind the page cache's shortcut for stored answers (opengov/page_cache.py).
django_application = get_wsgi_application()

from opengov.page_cache import StoredAnswers  # noqa: E402  (needs the apps, loaded just above)

application = StoredAnswers(django_application)
