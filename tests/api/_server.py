"""Run ``mediamix serve`` / ``mediamix worker`` as real processes on loopback for tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(home: Path, **api: str) -> dict[str, str]:
    env = dict(os.environ)
    env["MEDIAMIX_HOME"] = str(home)
    for key, value in api.items():
        env[f"MEDIAMIX_API_{key.upper()}"] = value
    return env


def mediamix(*args: str, env: dict[str, str], **kw: object) -> subprocess.Popen[bytes]:
    # output goes to a file: a pipe nobody reads fills up and blocks the server's logging
    log = tempfile.NamedTemporaryFile(prefix="mediamix-proc-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(  # type: ignore[call-overload]
        [sys.executable, "-m", "mediamix", *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        **kw,
    )
    proc.log_path = log.name
    return proc  # type: ignore[no-any-return]


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mediamix", *args], env=env, capture_output=True, text=True
    )


def output(proc: subprocess.Popen[bytes]) -> str:
    """The last lines a process started by :func:`mediamix` wrote."""
    try:
        return Path(proc.log_path).read_text()[-2000:]  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return ""


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _out, err = proc.communicate()
            raise AssertionError(f"server exited {proc.returncode}: {err.decode()[-2000:]}")
        try:
            if httpx.get(f"{base}/livez", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not start")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 40.0) -> int:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode


def wait_job(
    base: str, headers: dict[str, str], job_id: str, states: set[str], timeout: float = 180.0
) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = httpx.get(f"{base}/v1/jobs/{job_id}", headers=headers, timeout=10).json()
        if job["state"] in states:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job never reached {states}: {job}")
