"""Protection of personal ID numbers at rest: Fernet encryption plus a keyed digest for uniqueness."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet
from django.conf import settings


@cache
def _fernet(key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))


def encrypt_text(value: str) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(value.encode()).decode()


def decrypt_text(token: str) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()).decode()


def lookup_digest(value: str) -> str:
    return hmac.new(settings.FIELD_ENCRYPTION_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()
