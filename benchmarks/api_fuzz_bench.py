"""schemathesis against a served API: many generated requests, 0 5xx, 0 schema breaks.

Starts ``mediamix serve`` on loopback with a temporary ``MEDIAMIX_HOME``, creates an
admin key, runs ``schemathesis run`` with the four response checks and prints the
summary; exits non-zero when schemathesis found a failure.

    python benchmarks/api_fuzz_bench.py [--examples 120] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=120, help="max examples per operation")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="mediamix-fuzz-") as home:
        env = dict(os.environ, MEDIAMIX_HOME=home)
        env["MEDIAMIX_API_RATE_PER_MINUTE"] = "100000000"
        env["MEDIAMIX_API_RATE_BURST"] = "10000000"
        key = subprocess.run(
            [str(bin_dir / "mediamix"), "keys", "create", "--tenant", "acme", "--scope", "admin"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                str(bin_dir / "mediamix"),
                "serve",
                "--port",
                str(port),
                "--job-workers",
                "0",
                "--log-level",
                "WARNING",
            ],
            env=env,
            start_new_session=True,
        )
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(f"{base}/livez", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            started = time.monotonic()
            done = subprocess.run(
                [
                    str(bin_dir / "schemathesis"),
                    "run",
                    f"{base}/openapi.json",
                    "-c",
                    CHECKS,
                    "-n",
                    str(args.examples),
                    "--seed",
                    str(args.seed),
                    "-H",
                    f"Authorization: Bearer {key}",
                ],
                capture_output=True,
                text=True,
                cwd=home,  # schemathesis keeps a folder of its own in the working directory
            )
            elapsed = time.monotonic() - started
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(60)
    summary = done.stdout[done.stdout.rfind("SUMMARY") :]
    print(summary)
    generated = re.search(r"(\d+) generated", done.stdout)
    print(
        f"examples per operation {args.examples}, seed {args.seed}: "
        f"{generated.group(1) if generated else '?'} test cases in {elapsed:.0f} s, "
        f"exit code {done.returncode}"
    )
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
