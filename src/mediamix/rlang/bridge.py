"""Finding R: the rpy2 session for in-process calls and ``Rscript`` for subprocesses.

R is optional. The ``r`` extra installs rpy2 (below 3.6, which imports against
Debian's R 4.2); R and its packages come from the system. When a command needs R and
R, rpy2 or an R package is missing, :class:`RMissingError` (an :class:`InputError`,
so the CLI exits 2) says what to install. R is located the way rpy2 does it: the
``R_HOME`` environment variable, else ``R RHOME`` of the ``R`` on ``PATH``.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from types import ModuleType

from mediamix.errors import InputError, Problem

__all__ = ["INSTALL_HINT", "RMissingError", "r_session", "r_version", "rscript_path"]

log = logging.getLogger(__name__)

#: What a user installs to get R with the packages mediamix uses (Debian/Ubuntu).
INSTALL_HINT = (
    "install R and its packages (Debian/Ubuntu: apt-get install r-base-core r-cran-glmnet "
    "r-cran-jsonlite; elsewhere R from https://cran.r-project.org with "
    "install.packages(c('glmnet', 'jsonlite'))) and the Python bridge "
    "(pip install 'mediamix[r]')"
)


class RMissingError(InputError):
    """R, rpy2 or an R package a command needs is not available."""

    def __init__(self, what: str, purpose: str) -> None:
        super().__init__([Problem(f"{purpose} needs {what}: {INSTALL_HINT}", column="R")])


def rscript_path(purpose: str = "this command") -> Path:
    """The ``Rscript`` executable: ``$R_HOME/bin/Rscript``, else the one on ``PATH``.

    Raises
    ------
    RMissingError
        No ``Rscript`` found.

    Examples
    --------
    >>> rscript_path().name
    'Rscript'
    """
    home = os.environ.get("R_HOME")
    if home and (Path(home) / "bin" / "Rscript").is_file():
        return Path(home) / "bin" / "Rscript"
    found = shutil.which("Rscript")
    if found is None:
        raise RMissingError("R (no Rscript on PATH and R_HOME unset)", purpose)
    return Path(found)


def r_version(rscript: Path) -> str:
    """The version line of an ``Rscript`` (``R version 4.2.2 ...``), for lineage records.

    "unknown" when the executable does not say (it is asked with ``--version``).

    Examples
    --------
    >>> r_version(rscript_path()).startswith("R version ")
    True
    """
    try:
        proc = subprocess.run(  # noqa: S603 -- fixed arguments to the R found by rscript_path
            [str(rscript), "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("could not ask %s for its version: %s", rscript, exc)
        return "unknown"
    # "Rscript (R) version 4.2.2 (2022-10-31)", on stdout or stderr depending on the R
    for line in (proc.stdout + proc.stderr).splitlines():
        if "version" in line:
            return "R " + line[line.index("version") :].strip()
    return "unknown"


@cache
def _robjects() -> ModuleType:
    """rpy2.robjects, initializing the embedded R once per process.

    Starting R sets ``LD_LIBRARY_PATH`` in this process's environment (R's own
    libraries and the system library folder). R has loaded them by then; left in
    place, the variable would make every later child process (a worker, a tracking
    server, another Python) load the system's libraries before its own, e.g. a
    different ``libpython``. So it is put back as it was.
    """
    saved = os.environ.get("LD_LIBRARY_PATH")
    try:
        import rpy2.robjects as ro  # rpy2 raises when it cannot find or load R

        ro.r("invisible(NULL)")  # make sure the embedded R is initialized now
    finally:
        if saved is None:
            os.environ.pop("LD_LIBRARY_PATH", None)
        else:
            os.environ["LD_LIBRARY_PATH"] = saved
    return ro


def r_session(packages: Sequence[str] = (), purpose: str = "this command") -> ModuleType:
    """The embedded R session (``rpy2.robjects``) with ``packages`` loaded.

    Parameters
    ----------
    packages : sequence of str
        R packages that must be installed (each is loaded).
    purpose : str
        Named in the error, e.g. ``"--engine r-glmnet"``.

    Raises
    ------
    RMissingError
        rpy2 is not installed, R cannot be found or loaded, or a package is missing.

    Examples
    --------
    >>> ro = r_session(["glmnet"], purpose="a doctest")
    >>> float(ro.r("1 + 1")[0])
    2.0
    """
    try:
        import rpy2  # noqa: F401
    except ImportError:
        raise RMissingError("rpy2 (the 'r' extra)", purpose) from None
    if not os.environ.get("R_HOME") and shutil.which("R") is None:
        raise RMissingError("R (no R on PATH and R_HOME unset)", purpose)
    try:
        ro = _robjects()
    except Exception as exc:  # rpy2 raises ValueError/OSError/RuntimeError by cause
        log.debug("rpy2 could not start R", exc_info=True)
        raise RMissingError(f"a working R (rpy2 could not load it: {exc})", purpose) from None
    for name in packages:
        ok = ro.r(f'isTRUE(suppressWarnings(requireNamespace("{name}", quietly = TRUE)))')
        if not bool(ok[0]):
            raise RMissingError(f"the R package '{name}'", purpose)
        ro.r(f'suppressPackageStartupMessages(library("{name}"))')
    return ro
