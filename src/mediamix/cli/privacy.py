"""``mediamix privacy``: erase (GDPR art. 17) or export (art. 15) what is held about users."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from mediamix.cli.progress import working
from mediamix.settings import load_settings

__all__ = ["privacy_app"]

privacy_app = typer.Typer(
    help="Erase or export the event-log rows of users (user-level data in the warehouse).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
_out = Console(soft_wrap=True, highlight=False)

_USER_ID = typer.Option("--user-id", help="A user id (repeat for several).")


@privacy_app.command("forget")
def forget_cmd(user_id: Annotated[list[str], _USER_ID]) -> None:
    """Delete every row about the users from every warehouse table, rebuild the
    aggregates from what is left, and record the erasure (counts only) in the audit log."""
    from mediamix.service.privacy import forget_users

    settings = load_settings()
    with working("erasing"):
        deleted = forget_users(
            settings.home, user_id, pseudonymize_key=settings.pseudonymize_secret()
        )
    total = sum(deleted.values())
    detail = ", ".join(f"{t}: {n}" for t, n in sorted(deleted.items())) or "no table holds users"
    _out.print(f"deleted {total} row(s) about {len(user_id)} user id(s) ({detail})", markup=False)


@privacy_app.command("export")
def export_cmd(
    user_id: Annotated[list[str], _USER_ID],
    out: Annotated[Path, typer.Option(help="JSON file to write (table -> rows).")],
) -> None:
    """Write everything the warehouse holds about the users."""
    from mediamix.service.privacy import export_users

    settings = load_settings()
    counts = export_users(
        settings.home, user_id, out, pseudonymize_key=settings.pseudonymize_secret()
    )
    detail = ", ".join(f"{t}: {n}" for t, n in sorted(counts.items())) or "nothing held"
    _out.print(f"wrote {out} ({detail})", markup=False)
