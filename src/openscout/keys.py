"""API keys: generated at random, shown once, stored as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets

#: How many leading characters of a key are kept in clear to tell keys apart in `keys list`.
PREFIX_LENGTH = 4


def generate_key() -> str:
    """A new key: 40 hex digits (160 random bits), the form Help Scout's v1 keys had."""
    return secrets.token_hex(20)


def hash_key(key: str) -> str:
    """The stored form of a key. A plain hash suffices: keys are long random strings."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
