"""Approval codes: salted scrypt hashes, constant-time checks; a code is never stored in clear.

>>> h = hash_code("4721")
>>> verify_code("4721", h), verify_code("0000", h)
(True, False)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_N, _R, _P = 2**14, 8, 1
PREFIX = "scrypt"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_code(code: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(code.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"{PREFIX}${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


_MAX_MEMORY = 32 * 1024 * 1024  # hashlib.scrypt's default limit


def is_code_hash(value: str) -> bool:
    """A hash `verify_code` can check: scrypt parameters hashlib accepts, a 32-byte digest."""
    parts = value.split("$")
    if len(parts) != 6 or parts[0] != PREFIX:
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        digest = base64.b64decode(parts[5], validate=True)
    except ValueError:
        return False
    power_of_two = n > 1 and n & (n - 1) == 0
    fits = 128 * n * r * p <= _MAX_MEMORY
    return power_of_two and r >= 1 and p >= 1 and fits and bool(salt) and len(digest) == 32


def verify_code(code: str, stored: str) -> bool:
    if not is_code_hash(stored):
        return False
    _, n, r, p, salt, digest = stored.split("$")
    try:
        candidate = hashlib.scrypt(
            code.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=32,
        )
    except ValueError:  # parameters this platform's OpenSSL refuses
        return False
    return hmac.compare_digest(candidate, base64.b64decode(digest))
