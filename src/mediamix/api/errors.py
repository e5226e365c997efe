"""Error bodies of the API: ``{code, message, problems: [{file, row, column, message}]}``.

Every mediamix error maps to a 4xx with that body; anything unexpected becomes a
500 that names the request id and nothing else (no traceback, no path).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from fastapi.responses import JSONResponse

from mediamix.errors import Problem

_ABSOLUTE = re.compile(r"/(?:[^\s'\"/]+/)+([^\s'\"/]+)")

__all__ = ["ApiError", "error_body", "error_response", "problem_dict", "relative_problems"]


class ApiError(Exception):
    """An answer other than success, raised anywhere in a request."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        problems: Sequence[Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.problems = [dict(p) for p in problems]
        self.headers = dict(headers or {})


def problem_dict(p: Problem) -> dict[str, Any]:
    """One problem as JSON."""
    return {"file": p.file, "row": p.row, "column": p.column, "message": p.message}


def relative_problems(problems: Iterable[Problem], folders: Mapping[Path, str]) -> list[Problem]:
    """Problems whose file names the server's folders replaced by the client's names.

    ``folders`` maps a server folder to the name the client knows it by (``""`` for
    "the file's own name"); any other absolute path is cut to its last component,
    so no server path reaches a response.
    """
    out = []
    for p in problems:
        file = p.file
        if file:
            for folder, name in folders.items():
                prefix = str(folder)
                if file.startswith(prefix):
                    rest = file[len(prefix) :].lstrip("/")
                    file = f"{name}/{rest}".strip("/") if name else rest
                    break
            else:
                if file.startswith("/"):
                    file = Path(file).name
        msg = p.message
        for folder in folders:
            msg = msg.replace(str(folder) + "/", "").replace(str(folder), "")
        msg = _ABSOLUTE.sub(r"\1", msg)
        out.append(Problem(msg, file=file, row=p.row, column=p.column, severity=p.severity))
    return out


def error_body(code: str, message: str, problems: Sequence[Mapping[str, Any]] = ()) -> dict:
    """The JSON body of an error."""
    return {"code": code, "message": message, "problems": [dict(p) for p in problems]}


def error_response(
    status: int,
    code: str,
    message: str,
    problems: Sequence[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A JSON error response."""
    return JSONResponse(
        error_body(code, message, problems), status_code=status, headers=dict(headers or {})
    )
