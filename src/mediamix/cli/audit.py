"""``mediamix audit verify``: check the API's hash-chained audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mediamix.errors import InputError

__all__ = ["audit_app"]

audit_app = typer.Typer(help="The API's audit log.", no_args_is_help=True)


@audit_app.command("verify")
def verify_cmd(
    log: Annotated[
        Path | None, typer.Option(help="Audit log (default MEDIAMIX_HOME/api/audit.log).")
    ] = None,
) -> None:
    """Check every line's hash and the chain; exit 2 naming the first bad line."""
    from mediamix.api.config import load_config
    from mediamix.state.audit import verify

    path = log or load_config().root / "audit.log"
    result = verify(path)
    if not result.ok:
        raise InputError.single(f"audit log fails verification: {result.problem}", file=str(path))
    typer.echo(f"{path}: OK, {result.lines} line(s), chain intact")
