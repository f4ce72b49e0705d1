"""Fixed-window rate limits kept in the cache, for login and public intake."""

from __future__ import annotations

import hashlib

from django.core.cache import cache


def _key(scope: str, ident: str) -> str:
    return "rl:" + scope + ":" + hashlib.sha256(ident.encode()).hexdigest()[:32]


def hit(scope: str, ident: str, limit: int, window: int) -> bool:
    """Count one attempt; True while the caller is still within ``limit`` per ``window`` seconds."""
    key = _key(scope, ident)
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= limit


def is_blocked(scope: str, ident: str, limit: int) -> bool:
    return (cache.get(_key(scope, ident)) or 0) >= limit


def reset(scope: str, ident: str) -> None:
    cache.delete(_key(scope, ident))
