"""``mediamix report``: write the executive report; ``mediamix report send``: distribute it.

``mediamix report MODEL ...`` is short for ``mediamix report render MODEL ...``
(the original command line keeps working).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

__all__ = ["report_app"]


class _DefaultRender(TyperGroup):
    """A group whose first argument, when it is not a subcommand, is ``render``'s MODEL."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in {"--help", "-h"}:
            args = ["render", *args]
        return super().parse_args(ctx, _pdf_paths(args))


def _pdf_paths(args: list[str]) -> list[str]:
    """``--pdf PATH.pdf`` (the original form) as ``--pdf-file PATH.pdf``; ``--pdf`` is a flag."""
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--pdf="):
            out.append("--pdf-file=" + arg.removeprefix("--pdf="))
        elif arg == "--pdf" and i + 1 < len(args) and args[i + 1].lower().endswith(".pdf"):
            out += ["--pdf-file", args[i + 1]]
            i += 1
        else:
            out.append(arg)
        i += 1
    return out


report_app = typer.Typer(
    name="report",
    cls=_DefaultRender,
    help="Write the executive report of a model and its plan (HTML, PDF), or send one.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
_out = Console(soft_wrap=True, highlight=False)


@report_app.command("render")
def render_cmd(  # noqa: PLR0913 -- one argument per command-line option (typer)
    model: Annotated[
        str,
        typer.Argument(
            help="Fit output folder (or its model/ folder), models:/ reference, or stored "
            "model (s3://bucket/prefix/models/NAME[/VERSION], store:NAME[/VERSION])."
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            help="A folder (report.html, report.pdf, report.json, roi.csv, plan.csv, "
            "tables.xlsx) or, ending in .html, one HTML file."
        ),
    ] = Path("report"),
    plan: Annotated[
        Path | None,
        typer.Option(help="The plan.json made from this model: gives the executive report."),
    ] = None,
    attribution: Annotated[
        Path | None,
        typer.Option(help="Folder of attribution tables (mediamix attribute) to compare."),
    ] = None,
    drift: Annotated[Path | None, typer.Option(help="A drift.json for the data-quality page.")] = (
        None
    ),
    pdf: Annotated[
        bool,
        typer.Option(
            "--pdf",
            help="Also write the PDF (same sections, A4): report.pdf in the folder, or "
            "beside the HTML file. `--pdf FILE.pdf` writes it to FILE.pdf.",
        ),
    ] = False,
    pdf_file: Annotated[
        Path | None, typer.Option("--pdf-file", help="Write the PDF to this file.")
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            help="With MEDIAMIX_STORAGE_URI: publish as reports/NAME "
            "(default: the folder's name or the HTML file's stem)."
        ),
    ] = None,
) -> None:
    """Write the report: page 1 in plain words, then the analyses (opens offline).

    With MEDIAMIX_STORAGE_URI set, the report's files are then published to the S3
    store as a new version of reports/NAME.
    """
    from mediamix.service.registry import resolve_model
    from mediamix.service.report import publish_written_report, write_report
    from mediamix.service.storage import store_name_for
    from mediamix.settings import load_settings

    settings = load_settings()
    storage = settings.storage_config()
    publish_as = store_name_for(out, name) if storage.enabled else None
    folder = resolve_model(model, settings.tracking_config(), storage)

    pdf_target: Any = None
    if pdf_file is not None:
        pdf_target = pdf_file
    elif pdf:
        html_file = out.suffix.lower() in {".html", ".htm"}
        pdf_target = out.with_suffix(".pdf") if html_file else True
    write_report(folder, out, pdf=pdf_target, plan=plan, attribution=attribution, drift=drift)
    extra = f" and {pdf_target}" if isinstance(pdf_target, Path) else ""
    _out.print(f"wrote {out}{extra}", markup=False)
    if publish_as is not None:
        published = publish_written_report(storage, out, publish_as, pdf=pdf_target)
        _out.print(f"published {published.uri}", markup=False)


@report_app.command("send")
def send_cmd(
    report_dir: Annotated[Path, typer.Argument(help="A report folder written with --pdf.")],
    config: Annotated[
        Path, typer.Option(help="delivery.yaml: recipients, webhook names, retries.")
    ],
) -> None:
    """Email the report (PDF attached) and post its summary to Slack, once per recipient.

    Secrets come from the environment variables the YAML names (password_env,
    webhook_env); the delivery log in the state store keeps a retried run from
    sending twice.
    """
    from mediamix.api.config import load_config
    from mediamix.service.distribute import (
        DistributeRequest,
        distribute_report,
        read_delivery_config,
        state_url,
    )

    # the state store the API and the workers use (its database holds the delivery log)
    service = load_config()
    request = DistributeRequest(
        report_dir=str(report_dir),
        config=read_delivery_config(config),
        state_url=state_url(service.home, service.api.database_url),
    )
    outcome = distribute_report(request, os.environ)
    for recipient in outcome.sent:
        _out.print(f"sent to {recipient}", markup=False)
    for recipient in outcome.skipped:
        _out.print(f"already sent to {recipient}: skipped", markup=False)
