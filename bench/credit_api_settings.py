"""Settings of the Django side of bench/credit_api.py: the project's settings, plus the route of baseline (b)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "credit_api_urls"
