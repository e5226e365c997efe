"""API keys: random, shown once, stored only as a SHA-256 hash, with scopes.

A key reads ``mmx_<key id>_<secret>``. The key id (public, logged, used to revoke)
finds the row; the secret (256 random bits) is compared through its hash in
constant time. A plain SHA-256 suffices for secrets of this entropy: there is
nothing to brute-force, unlike passwords.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update

from mediamix.state.db import api_keys
from mediamix.state.ids import check_tenant

__all__ = ["SCOPES", "ApiKey", "authenticate", "create_key", "list_keys", "revoke_key"]

SCOPES = (
    "data:read",
    "data:write",
    "model:train",
    "model:read",
    "model:promote",
    "optimize:run",
    "report:read",
    "admin",
)
_PREFIX = "mmx"


@dataclass(frozen=True)
class ApiKey:
    """What a key may do (never its secret)."""

    key_id: str
    tenant: str
    scopes: frozenset[str]
    created_at: float
    revoked_at: float | None = None

    def allows(self, scope: str) -> bool:
        """True when the key holds ``scope`` or ``admin``."""
        return scope in self.scopes or "admin" in self.scopes


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_key(engine: Engine, tenant: str, scopes: list[str], note: str | None = None) -> str:
    """Create a key for ``tenant`` with ``scopes``; return the full key (shown once).

    Raises
    ------
    ValueError
        An unknown scope, no scope, or a bad tenant name.
    """
    check_tenant(tenant)
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValueError(
            f"unknown scope(s) {unknown}; choose from {', '.join(SCOPES)}"
            if unknown
            else f"give at least one scope: {', '.join(SCOPES)}"
        )
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            insert(api_keys).values(
                key_id=key_id,
                tenant=tenant,
                secret_hash=_hash(secret),
                scopes=" ".join(sorted(set(scopes))),
                created_at=time.time(),
                note=note,
            )
        )
    return f"{_PREFIX}_{key_id}_{secret}"


def authenticate(engine: Engine, presented: str) -> ApiKey | None:
    """The key behind ``presented``, or ``None`` (unknown, malformed, revoked)."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != _PREFIX or len(parts[1]) != 16:
        return None
    _, key_id, secret = parts
    with engine.connect() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).first()
    if row is None or row.revoked_at is not None:
        # same hashing work either way keeps timing flat
        hmac.compare_digest(_hash(secret), "0" * 64)
        return None
    if not hmac.compare_digest(_hash(secret), row.secret_hash):
        return None
    return ApiKey(row.key_id, row.tenant, frozenset(row.scopes.split()), row.created_at)


def list_keys(engine: Engine, tenant: str | None = None) -> list[ApiKey]:
    """Every key (or a tenant's), oldest first; revoked keys included, marked."""
    query = select(api_keys).order_by(api_keys.c.created_at)
    if tenant is not None:
        query = query.where(api_keys.c.tenant == tenant)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        ApiKey(r.key_id, r.tenant, frozenset(r.scopes.split()), r.created_at, r.revoked_at)
        for r in rows
    ]


def revoke_key(engine: Engine, key_id: str) -> bool:
    """Revoke a key by id; False when there is no such active key."""
    with engine.begin() as conn:
        done = conn.execute(
            update(api_keys)
            .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=time.time())
        )
    return bool(done.rowcount)
