import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from jiancai.api.wsgi import get_wsgi_application  # noqa: E402 (after the settings module is named)

application = get_wsgi_application()
