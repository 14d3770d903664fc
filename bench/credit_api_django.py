"""The Django side of bench/credit_api.py (`platform` and baseline (b)), loaded when a gunicorn worker boots."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credit_api_settings")
application = get_wsgi_application()
