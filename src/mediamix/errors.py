"""Errors shared by every layer.

A user error is an :class:`InputError`: it carries every :class:`Problem` found in
the input (not only the first), each naming the file, the row and the column. The
shells turn it into exit code 2 (CLI) or a 4xx response (API); nothing is written
when one is raised.

Rows are 1-based data rows (the first row under the header is row 1) unless the
problem says ``line``, which counts physical lines of the file including the header.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One problem found in an input.

    Parameters
    ----------
    message : str
        What was found and what was expected, in plain words.
    file : str or None
        The file (or other source) the problem is in.
    row : int or None
        1-based data row (row 1 is the first row under the header), or a
        1-based line number for line-oriented files such as YAML.
    column : str or None
        Column name (or spec key) concerned.
    severity : {"error", "warning"}
        Warnings are reported but do not stop the work.
    rows : tuple of int
        Further rows with the same problem, when one problem covers several.

    Examples
    --------
    >>> str(Problem("expected a number, found 'abc'", file="w.csv", row=3, column="tv"))
    "w.csv, row 3, column 'tv': expected a number, found 'abc'"
    """

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    severity: Severity = "error"
    rows: tuple[int, ...] = field(default_factory=tuple)

    def location(self) -> str:
        """Where the problem is, as ``file, row N, column 'c'``."""
        parts: list[str] = []
        if self.file:
            parts.append(self.file)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.message}" if where else self.message


class MediamixError(Exception):
    """Base class of every error mediamix raises on purpose."""


class InputError(MediamixError):
    """Bad input from the user: exit code 2 on the CLI, 4xx on the API.

    Holds every problem found; ``warnings`` travel along so a report can show them.

    Examples
    --------
    >>> err = InputError([Problem("missing", file="a.csv", column="tv")])
    >>> print(err)
    a.csv, column 'tv': missing
    """

    def __init__(self, problems: Iterable[Problem] | str, *, file: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems, file=file)]
        items = list(problems)
        self.problems: tuple[Problem, ...] = tuple(p for p in items if p.severity == "error")
        self.warnings: tuple[Problem, ...] = tuple(p for p in items if p.severity == "warning")
        if not self.problems:
            raise ValueError("InputError needs at least one problem of severity 'error'")
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(
        cls,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> InputError:
        """An error with one problem."""
        return cls([Problem(message, file=file, row=row, column=column)])


class BusyError(MediamixError):
    """A resource (warehouse, registry) is held by another writer: retry later."""


def raise_if_errors(problems: Sequence[Problem]) -> None:
    """Raise :class:`InputError` when any problem is an error; warnings pass."""
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
