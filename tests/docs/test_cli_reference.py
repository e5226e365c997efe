"""docs/cli.md is the CLI's own help: it is regenerated here and must match."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location(
        "cli_reference", REPO / "scripts" / "cli_reference.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_up_to_date() -> None:
    rendered = _generator().render()
    written = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert written == rendered, (
        "docs/cli.md differs from `mediamix --help`: run "
        "`.venv/bin/python scripts/cli_reference.py` and commit docs/cli.md"
    )


def test_cli_reference_covers_every_command_and_option() -> None:
    import typer

    from mediamix.cli.app import app

    text = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    root = typer.main.get_command(app)
    ctx = root.context_class(root, info_name="mediamix")
    for name in root.list_commands(ctx):
        command = root.get_command(ctx, name)
        assert f"`mediamix {name}`" in text
        sub_ctx = command.context_class(command, info_name=name, parent=ctx)
        for param in command.get_params(sub_ctx):
            for opt in param.opts:
                if opt.startswith("-"):
                    assert opt in text, f"mediamix {name} {opt} is not documented"
