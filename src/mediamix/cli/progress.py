"""What users see while long work runs: progress bars and live status lines (stderr)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

__all__ = ["err_console", "progress_bar", "working"]

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[float, str], None]]:
    """A progress bar fed with (fraction, message) callbacks.

    The bar appears at the first update, so input errors found before any work
    starts are not preceded by an empty bar.
    """
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err_console,
    )
    task: list[TaskID] = []

    def update(fraction: float, message: str) -> None:
        if not task:
            bar.start()
            task.append(bar.add_task(description, total=1.0))
        bar.update(
            task[0],
            completed=min(max(fraction, 0.0), 1.0),
            description=f"{description}: {message}",
        )

    try:
        yield update
    finally:
        if task:
            bar.stop()


@contextmanager
def working(description: str) -> Iterator[None]:
    """A live status line with a spinner and the elapsed time, for work without steps."""
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        bar.add_task(description, total=None)
        yield
