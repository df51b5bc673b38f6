"""Encryption at rest for provider secrets (Fernet: AES-128-CBC with an HMAC).

Keys come from settings.ENCRYPTION_KEYS: the first encrypts, all decrypt, so a key can be
rotated by putting the new one first and re-saving the credentials.
"""

import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    """A stored secret that none of the configured keys opens."""


def valid_key(key: str) -> bool:
    try:
        Fernet(key.encode())
    except (ValueError, TypeError):
        return False
    return True


def generate_key() -> str:
    return Fernet.generate_key().decode()


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt(plaintext: str) -> str:
    return _fernet(tuple(settings.ENCRYPTION_KEYS)).encrypt(plaintext.encode()).decode()


def reencrypt(token: str) -> str:
    """The same secret encrypted with the first key (for `providers reencrypt`)."""
    try:
        return _fernet(tuple(settings.ENCRYPTION_KEYS)).rotate(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("none of the keys in FLUX2WEB_ENCRYPTION_KEY opens it") from None


def decrypt(token: str) -> str:
    try:
        return _fernet(tuple(settings.ENCRYPTION_KEYS)).decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "A stored provider secret cannot be decrypted with FLUX2WEB_ENCRYPTION_KEY; "
            "was the key changed? Put the old key after the new one, comma-separated."
        ) from None


def token_digest(token: str) -> str:
    """How a bearer secret (a share link's token, an API token) is kept: its SHA-256, which
    finds the row in one indexed lookup and opens nothing if the database is stolen. The
    tokens are 256 random bits, so no salt or slow hash is needed."""
    return hashlib.sha256(token.encode()).hexdigest()
