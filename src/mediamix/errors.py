"""Errors shared by every layer.

A user error is an :class:`InputError`: it carries every :class:`Problem` found in
the input (not only the first), each naming the file, the row and the column. The
shells turn it into exit code 2 (CLI) or a 4xx response (API); nothing is written
when one is raised.

Rows are 1-based data rows (the first row under the header is row 1) unless the
problem says ``line``, which counts physical lines of the file including the header.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pydantic import ValidationError

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


_WRAPPERS = frozenset({"function-after", "function-before", "function-wrap", "function-plain"})


def field_path(loc: Sequence[Any], skip: Iterable[str] = ()) -> str:
    """A pydantic error location as a dotted key path (``channels.tv.beta``).

    Parts pydantic adds for wrapped validators and parametrized types
    (``function-after[...]``, ``tuple[float, float]``) are not keys of the document and
    are left out, as are the union-member tags named in ``skip`` (``float``, a model
    name: only the caller knows which names cannot be keys of its document).

    Examples
    --------
    >>> field_path(("sampler", "chains"))
    'sampler.chains'
    >>> field_path(("channels", "tv", "saturation", "hill", "slope"))
    'channels.tv.saturation.hill.slope'
    >>> field_path(("seasonality", "function-after[_check(), SeasonalitySpec]", "yearly"))
    'seasonality.yearly'
    """
    tags = _WRAPPERS | set(skip)
    keys = [
        str(part) for part in loc if not (isinstance(part, str) and ("[" in part or part in tags))
    ]
    return ".".join(keys)


def problems_from_validation(
    err: ValidationError,
    *,
    file: str | None = None,
    message: Callable[[Any, str], str] | None = None,
    row: Callable[[str], int | None] | None = None,
    root: str | None = "(document)",
    skip: Iterable[str] = (),
) -> list[Problem]:
    """One :class:`Problem` per pydantic error, naming the field by its key path.

    This is the one place where pydantic's errors become mediamix's problems: every
    typed document (requests, curves, constraints, specs) goes through it, so the
    ``column`` of a problem is always the dotted path of the field
    (:func:`field_path`), which each shell maps to its own names (CLI flags, JSON
    paths). Messages raised by our own validators lose pydantic's ``"Value error, "``
    prefix so that they read as written.

    Parameters
    ----------
    err : pydantic.ValidationError
    file : str, optional
        The document's file, when it came from one.
    message : callable, optional
        Builds the message from pydantic's error dict and the field path (default: its
        ``msg``).
    row : callable, optional
        The line of a field path in the file (YAML documents), or ``None``.
    root : str
        Column named when an error concerns the whole document.
    skip : iterable of str
        Union-member tags to leave out of field paths (see :func:`field_path`).

    Examples
    --------
    >>> from pydantic import BaseModel, Field, ValidationError
    >>> class Sampler(BaseModel):
    ...     chains: int = Field(ge=1)
    >>> class Request(BaseModel):
    ...     sampler: Sampler
    >>> try:
    ...     Request.model_validate({"sampler": {"chains": 0}})
    ... except ValidationError as exc:
    ...     print(problems_from_validation(exc)[0])
    column 'sampler.chains': Input should be greater than or equal to 1
    """
    skip = tuple(skip)
    problems = []
    for item in err.errors():
        path = field_path(tuple(item.get("loc", ())), skip)
        text = message(item, path) if message is not None else _message(item)
        problems.append(
            Problem(
                text,
                file=file,
                row=row(path) if row is not None else None,
                column=path or root,
            )
        )
    return problems


def _message(item: Any) -> str:
    text = str(item.get("msg", "invalid value"))
    if item.get("type") == "value_error":
        text = text.removeprefix("Value error, ")
    return text
