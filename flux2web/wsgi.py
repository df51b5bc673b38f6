"""WSGI entry point: gunicorn flux2web.wsgi --config python:flux2web.lib.gunicorn_conf."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flux2web.settings")
application = get_wsgi_application()
