"""Write docs/cli.md from the command-line app itself, so the reference cannot drift.

Every command, argument and option comes from the click command tree that
``mediamix --help`` prints, and the environment variables from the settings model;
``tests/docs/test_cli_reference.py`` fails when docs/cli.md differs from what this
script renders. After changing the CLI, run::

    .venv/bin/python scripts/cli_reference.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"

INTRO = """\
# Command-line reference

`mediamix` runs every step of the platform from a shell: validate data, fit a
model, decompose, optimize a budget, attribute conversions, write a report, load
the warehouse and run the pipeline. The Python API (`docs/python-api.md`) calls
the same functions; the files each command reads and writes are described in
`docs/formats.md`.

This page is generated from the app itself by `scripts/cli_reference.py` (a test
fails when it is out of date); `mediamix COMMAND --help` prints the same.

## Exit codes

Every command exits with:

| code | meaning |
|---|---|
| 0 | success |
| 2 | bad input or bad usage: the message on stderr names the file and, where it applies, the row (1-based data row or line number) and the column; nothing was written |
| 1 | internal error (`MEDIAMIX_LOG_LEVEL=DEBUG` logs the traceback) |
| 130 | interrupted (Ctrl-C) |

Outputs are written atomically: a command that fails leaves no partial file or
folder behind.
"""


WIDTH = 88


def _section(command: Any, path: list[str], parent: Any) -> list[str]:
    """A heading per command with its ``--help`` text, then its subcommands."""
    ctx = type(parent or command.context_class(command))(
        command, info_name=path[-1], parent=parent, terminal_width=WIDTH, max_content_width=WIDTH
    )
    name = " ".join(path)
    lines = [f"{'#' * min(len(path) + 1, 4)} `{name}`", ""]
    lines += ["```text", command.get_help(ctx).rstrip(), "```", ""]
    for sub in getattr(command, "list_commands", lambda _ctx: [])(ctx):
        child = command.get_command(ctx, sub)
        if child is not None and not child.hidden:
            lines += _section(child, [*path, sub], ctx)
    return lines


def _environment() -> list[str]:
    from mediamix.settings import Settings

    prefix = Settings.model_config.get("env_prefix", "")
    lines = [
        "## Environment",
        "",
        "The shells read these variables (library code never reads the environment):",
        "",
        "| variable | default |",
        "|---|---|",
    ]
    for field, info in Settings.model_fields.items():
        default = "" if info.default_factory is not None else f"`{info.default}`"
        if field == "home":
            default = "`~/.mediamix`"
        lines.append(f"| `{prefix}{field.upper()}` | {default} |")
    return [*lines, "", "See `mediamix.settings.Settings` for what each one does.", ""]


def render() -> str:
    """The whole docs/cli.md text."""
    from mediamix.cli.app import app

    command = typer.main.get_command(app)
    lines = [INTRO, *_section(command, ["mediamix"], None), *_environment()]
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
