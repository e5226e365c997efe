"""The MLflow side of a tracked fit, run as a child process of the fit.

Why a child process: importing MLflow and opening its store costs seconds of CPU
(SQLAlchemy, alembic's schema check), several times a ridge fit's own wall time on
a small machine. Started when the fit starts, the child does that work while the
parent fits, and the parent only waits for the final logging. A thread would not
help: imports hold the GIL and slow the fit down as much.

The tracking URI may be given as the first argument: the store is then opened
before the first command arrives, while the parent still reads its data.

Protocol: one JSON object per line on stdin, one JSON answer per line on stdout.

``{"op": "start", "uri", "artifact_root", "experiment", "run_name", "tags", "params"}``
    creates the run; answers ``{"ok": true, "run_id", "tracking_uri"}``.
``{"op": "log", "params", "metrics", "tags", "artifacts": [[local, artifact_path]]}``
    logs them; answers ``{"ok": true}``.
``{"op": "end", "status": "FINISHED" | "FAILED", "error": str | null}``
    ends the run and the process.

Failures answer ``{"ok": false, "error": ...}``. If stdin closes before ``end`` (the
fit crashed or was killed), the run is marked FAILED: a run is never left looking
complete when its fit did not finish.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

__all__ = ["ensure_experiment", "git_commit", "main", "open_store", "store_lock"]

log = logging.getLogger(__name__)

# MLflow's limits per log_batch call
_MAX_PARAMS = 100
_MAX_METRICS = 1000


def git_commit(path: Path) -> str | None:
    """The commit of the git checkout holding ``path``, or ``None`` outside one."""
    try:
        done = subprocess.run(  # noqa: S603 -- fixed git command on the checkout's own path, no shell
            ["git", "-C", str(path), "rev-parse", "HEAD"],  # noqa: S607 -- git from PATH, as a user's own git; failure means no commit tag
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and len(commit) == 40 else None


class _Session:
    def __init__(self, warm: tuple[str, Any] | None = None) -> None:
        self.warm = warm
        self.client: Any = None
        self.run_id: str | None = None
        self.ended = False

    def start(self, cmd: dict[str, Any]) -> dict[str, Any]:
        import mediamix

        uri = cmd["uri"]
        if self.warm is not None and self.warm[0] == uri:
            self.client = self.warm[1]
        else:
            self.client = open_store(uri)
        experiment_id = ensure_experiment(self.client, cmd["experiment"], cmd.get("artifact_root"))
        tags = dict(cmd.get("tags") or {})
        commit = git_commit(Path(mediamix.__file__).parent)
        if commit:
            tags["mediamix.git_commit"] = commit
        run = self.client.create_run(experiment_id, run_name=cmd.get("run_name"), tags=tags)
        self.run_id = run.info.run_id
        self._batch(params=cmd.get("params") or {})
        return {"ok": True, "run_id": self.run_id, "tracking_uri": uri}

    def _batch(
        self,
        params: dict[str, Any] | None = None,
        metrics: dict[str, float] | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        import time

        from mlflow.entities import Metric, Param, RunTag

        now = int(time.time() * 1000)
        p = [Param(k, str(v)[:6000]) for k, v in (params or {}).items()]
        m = [Metric(k, float(v), now, 0) for k, v in (metrics or {}).items()]
        t = [RunTag(k, str(v)) for k, v in (tags or {}).items()]
        for i in range(0, max(len(p), 1), _MAX_PARAMS):
            chunk = p[i : i + _MAX_PARAMS]
            if chunk:
                self.client.log_batch(self.run_id, params=chunk)
        for i in range(0, max(len(m), 1), _MAX_METRICS):
            chunk_m = m[i : i + _MAX_METRICS]
            if chunk_m:
                self.client.log_batch(self.run_id, metrics=chunk_m)
        if t:
            self.client.log_batch(self.run_id, tags=t)

    def log(self, cmd: dict[str, Any]) -> dict[str, Any]:
        self._batch(cmd.get("params"), cmd.get("metrics"), cmd.get("tags"))
        for local, artifact_path in cmd.get("artifacts") or []:
            path = Path(local)
            if path.is_dir():
                self.client.log_artifacts(self.run_id, str(path), artifact_path or None)
            else:
                self.client.log_artifact(self.run_id, str(path), artifact_path or None)
        return {"ok": True}

    def end(self, status: str, error: str | None) -> None:
        if self.ended or self.client is None or self.run_id is None:
            return
        if error:
            self.client.set_tag(self.run_id, "mediamix.error", error[:5000])
        self.client.set_terminated(self.run_id, status=status)
        self.ended = True


@contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """Serialize opening a SQLite store across processes.

    MLflow creates and migrates a SQLite store's schema on first open; two
    processes doing it at once fail half-way. Other URIs need no lock.
    """
    if not uri.startswith("sqlite:///"):
        yield
        return
    db = Path(uri[len("sqlite:///") :])
    db.parent.mkdir(parents=True, exist_ok=True)
    with open(db.with_name(db.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def open_store(uri: str) -> Any:
    """An MLflow client on ``uri`` whose store is open (schema checked, tables created)."""
    from mlflow.tracking import MlflowClient

    with store_lock(uri):
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        client.get_experiment_by_name("Default")
        client.search_registered_models(max_results=1)  # opens (migrates) the registry store too
    return client


def ensure_experiment(client: Any, name: str, artifact_root: str | None) -> str:
    """The id of experiment ``name``, created if missing (safe when racing others)."""
    from mlflow.exceptions import MlflowException

    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    try:
        return str(client.create_experiment(name, artifact_location=artifact_root))
    except MlflowException:
        # another process created it between the two calls
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return str(found.experiment_id)


def _answer(answers: TextIO, answer: dict[str, Any]) -> bool:
    """Write one answer; ``False`` when the parent is gone (its end of the pipe closed)."""
    try:
        answers.write(json.dumps(answer) + "\n")
        answers.flush()
    except OSError:  # BrokenPipeError: the fit was killed while this command ran
        return False
    return True


def serve(commands: TextIO, answers: TextIO, warm: tuple[str, Any] | None = None) -> int:
    """Answer protocol commands until ``end`` or end of input.

    ``warm`` is a store opened before the first command arrived: ``(uri, client)``.
    A parent that dies mid-command (its answer cannot be written) counts as end of
    input: the run is marked FAILED either way.
    """
    session = _Session(warm)
    for line in commands:
        if not line.strip():
            continue
        cmd = json.loads(line)
        op = cmd.get("op")
        try:
            if op == "start":
                answer = session.start(cmd)
            elif op == "log":
                answer = session.log(cmd)
            elif op == "end":
                session.end(cmd.get("status", "FINISHED"), cmd.get("error"))
                _answer(answers, {"ok": True})
                return 0
            else:
                answer = {"ok": False, "error": f"unknown op {op!r}"}
        except Exception as exc:  # reported to the parent, which raises it there
            log.debug("tracking command failed", exc_info=True)
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        if not _answer(answers, answer):
            break
    # input closed without "end", or nobody reads the answers: the fit died; never
    # leave the run looking usable
    try:
        session.end("FAILED", "the fit process ended before the run was complete")
    except Exception:
        log.warning("could not mark the run FAILED", exc_info=True)
        return 1
    return 0


def main() -> None:
    """Entry point of ``python -m mediamix.tracking.worker``."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    # answers go to the original stdout; anything a library prints goes to stderr
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    warm = None
    if len(sys.argv) > 1:
        # opened while the parent still reads and validates its data
        try:
            warm = (sys.argv[1], open_store(sys.argv[1]))
        except Exception:  # reported when the run is started, with the same call
            log.debug("could not open the store early", exc_info=True)
    code = serve(sys.stdin, answers, warm)
    sys.stderr.flush()
    # everything is stored and answered: skip the interpreter's teardown of MLflow's
    # modules, which costs seconds of CPU the fit would wait for
    os._exit(code)


if __name__ == "__main__":
    main()
