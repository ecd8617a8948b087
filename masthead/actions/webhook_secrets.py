"""Webhook secrets: made here, shown once, kept encrypted (HMAC needs the raw secret).

The key comes from `MASTHEAD_WEBHOOK_KEY`; production refuses to start without one of
at least `MIN_KEY_LENGTH` characters (`require_webhook_key`). Elsewhere an empty key
falls back to a fixed development key, so a laptop or a test needs no set-up.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken

from masthead.errors import InsecureConfiguration
from masthead.settings import Settings

__all__ = [
    "MIN_KEY_LENGTH",
    "SECRET_PREFIX",
    "decrypt",
    "encrypt",
    "new_secret",
    "require_webhook_key",
]

MIN_KEY_LENGTH = 32
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
DEVELOPMENT_KEY = "masthead-development-webhook-key-not-for-production"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def encrypt(settings: Settings, secret: str) -> str:
    return _fernet(settings).encrypt(secret.encode()).decode()


def decrypt(settings: Settings, stored: str) -> str:
    try:
        return _fernet(settings).decrypt(stored.encode()).decode()
    except InvalidToken as error:
        raise InsecureConfiguration(
            "a webhook secret cannot be decrypted: MASTHEAD_WEBHOOK_KEY is not the key it "
            "was stored with"
        ) from error


def require_webhook_key(settings: Settings) -> None:
    """In production, webhook secrets must be encrypted with a key of the site's own."""
    if settings.env == "production" and len(settings.webhook_key) < MIN_KEY_LENGTH:
        raise InsecureConfiguration(
            "refusing to start in production without a webhook key: set MASTHEAD_WEBHOOK_KEY "
            f"to a secret of at least {MIN_KEY_LENGTH} characters"
        )


def _fernet(settings: Settings) -> Fernet:
    key = settings.webhook_key or DEVELOPMENT_KEY
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))
