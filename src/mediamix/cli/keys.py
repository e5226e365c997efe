"""``mediamix keys create|list|revoke``: API keys of tenants (shown once, stored hashed)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from mediamix.errors import InputError

if TYPE_CHECKING:
    from mediamix.state.store import StateStore

__all__ = ["keys_app"]

keys_app = typer.Typer(help="API keys: create (printed once), list, revoke.", no_args_is_help=True)


def _store() -> StateStore:
    from mediamix.api.config import load_config
    from mediamix.state.store import StateStore

    config = load_config()
    return StateStore(config.root, config.api.database_url, ca_bundle=config.tls_ca_bundle)


def _time(t: float | None) -> str:
    return "-" if t is None else datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


@keys_app.command("create")
def create_cmd(
    tenant: Annotated[str, typer.Option(help="Tenant the key acts for.")],
    scope: Annotated[
        list[str],
        typer.Option(
            help="Scope (repeat): data:read data:write model:train model:read model:promote "
            "optimize:run report:read admin."
        ),
    ],
    note: Annotated[str | None, typer.Option(help="What the key is for.")] = None,
) -> None:
    """Create a key and print it alone on stdout (it cannot be shown again)."""
    from mediamix.state.ids import InvalidNameError
    from mediamix.state.keys import create_key

    store = _store()
    try:
        key = create_key(store.engine, tenant, scope, note)
    except InvalidNameError as exc:
        raise InputError.single(str(exc), column="--tenant") from None
    except ValueError as exc:
        raise InputError.single(str(exc), column="--scope") from None
    key_id = key.split("_")[1]
    store.audit.append(action="keys.create", outcome="ok", tenant=tenant, key_id=key_id)
    typer.echo(key)


@keys_app.command("list")
def list_cmd(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's keys.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """List keys (ids, tenants, scopes; never secrets)."""
    from mediamix.state.keys import list_keys

    found = list_keys(_store().engine, tenant)
    if as_json:
        doc = [
            {
                "key_id": k.key_id,
                "tenant": k.tenant,
                "scopes": sorted(k.scopes),
                "created_at": k.created_at,
                "revoked_at": k.revoked_at,
            }
            for k in found
        ]
        typer.echo(json.dumps(doc, indent=2))
        return
    table = Table(title=f"{len(found)} key(s)")
    for column in ("key id", "tenant", "scopes", "created", "revoked"):
        table.add_column(column)
    for k in found:
        table.add_row(
            k.key_id, k.tenant, " ".join(sorted(k.scopes)), _time(k.created_at), _time(k.revoked_at)
        )
    Console(soft_wrap=True).print(table)


@keys_app.command("revoke")
def revoke_cmd(key_id: Annotated[str, typer.Argument(help="Key id (from keys list).")]) -> None:
    """Revoke a key: it answers 401 within MEDIAMIX_API_KEY_CACHE_SECONDS (5 s)."""
    from mediamix.state.keys import revoke_key

    store = _store()
    if not revoke_key(store.engine, key_id):
        raise InputError.single(f"no active key with id '{key_id}'", column="KEY_ID")
    store.audit.append(action="keys.revoke", outcome="ok", key_id=key_id)
    typer.echo(f"revoked {key_id}")
