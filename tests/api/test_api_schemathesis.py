"""schemathesis over the OpenAPI document of a served API, with a valid key (bounded).

Positive and negative generated requests on every operation; the checks: no 5xx,
every response conforms to its documented schema, status code and content type.
The long run (5,000+ requests) is ``benchmarks/api_fuzz_bench.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from _server import env_for, free_port, mediamix, run, stop, wait_ready

pytestmark = pytest.mark.slow

CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


def test_schemathesis_bounded(tmp_path: Path) -> None:
    env = env_for(tmp_path / "home", rate_per_minute="1000000", rate_burst="100000")
    key = run("keys", "create", "--tenant", "acme", "--scope", "admin", env=env).stdout.strip()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = mediamix("serve", "--port", str(port), "--job-workers", "0", env=env)
    try:
        wait_ready(base, server)
        # the first registry call creates MLflow's store (seconds on a busy machine)
        warm = httpx.get(
            f"{base}/v1/registry", headers={"Authorization": f"Bearer {key}"}, timeout=300
        )
        assert warm.status_code == 200, warm.text
        done = subprocess.run(
            [
                str(Path(sys.executable).with_name("schemathesis")),
                "run",
                f"{base}/openapi.json",
                "-c",
                CHECKS,
                "-n",
                "10",
                "--seed",
                "1",
                "--request-timeout",
                "60",
                "-H",
                f"Authorization: Bearer {key}",
            ],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=tmp_path,  # schemathesis keeps a folder of its own in the working directory
        )
    finally:
        stop(server)
    assert done.returncode == 0, done.stdout[-4000:]
    assert "generated" in done.stdout
