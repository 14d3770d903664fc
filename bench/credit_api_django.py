"""The Django side of bench/credit_api.py (`platform` and baseline (b)), loaded when a gunicorn worker boots: the
platform's WSGI application (`jiancai.api.wsgi`), as `config.wsgi` builds it, with the benchmark's settings."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credit_api_settings")

from jiancai.api.wsgi import get_wsgi_application  # noqa: E402 (after the settings module is named)

application = get_wsgi_application()
