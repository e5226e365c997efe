#!/usr/bin/env python
"""Screenshot every dashboard page at 1440x900 and 390x844 (headless Chromium).

Builds a throwaway service to look at: a temporary ``MEDIAMIX_HOME``, synthetic
data fitted through the API (ridge, and a small Bayesian fit for its model page), keys of two tenants, two saved scenarios and an
attribution run; then drives Debian's Chromium through each page and writes
``<page>-<width>x<height>.png`` into ``--out``.

Usage::

    .venv/bin/python scripts/dashboard_screenshots.py --out dashboard-screenshots

Needs the ``api`` and ``dev`` extras (Playwright) and ``/usr/bin/chromium``
(``make system``). Everything runs on loopback; the home is deleted afterwards.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

VIEWPORTS = ((1440, 900), (390, 844))
CHROMIUM = "/usr/bin/chromium"
PATHS_CSV = """path;total_conversions;total_conversion_value;total_null
tv;40;4000;300
tv > search;55;6100;210
search;80;7900;420
social > search;35;3300;150
social;25;2400;380
tv > social > search;30;3600;90
social > tv;12;1300;140
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603 -- our own CLI
        [sys.executable, "-m", "mediamix", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _wait(base: str, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"mediamix serve exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/livez", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise SystemExit("mediamix serve did not start")


#: A small Bayesian fit (one short NUTS chain): bands and sampler checks to look at.
BAYES = {"engine": "bayes", "method": "nuts", "chains": 1, "warmup": 200, "draws": 200}


def _fit(base: str, headers: dict[str, str], data: Path, options: dict[str, object]) -> str:
    files = {
        "data": ("synth.csv", (data / "synth.csv").read_bytes()),
        "spec": ("spec.yaml", (data / "spec.yaml").read_bytes()),
    }
    ds = httpx.post(f"{base}/v1/datasets", headers=headers, files=files, timeout=120)
    ds.raise_for_status()
    job = httpx.post(
        f"{base}/v1/models",
        headers=headers,
        json={"dataset_id": ds.json()["id"], **options},
        timeout=60,
    )
    job.raise_for_status()
    job_id = job.json()["job_id"]
    for _ in range(2400):
        state = httpx.get(f"{base}/v1/jobs/{job_id}", headers=headers, timeout=30).json()
        if state["state"] == "succeeded":
            return str(state["result"]["model_id"])
        if state["state"] in {"failed", "cancelled"}:
            raise SystemExit(f"fit job {state['state']}: {state['error']}")
        time.sleep(0.5)
    raise SystemExit("fit job did not finish")


def _register(base: str, headers: dict[str, str], model_id: str) -> None:
    """Register the model twice as ``brand``: version 1 champion, version 2 challenger."""
    versions = f"{base}/v1/registry/brand/versions"
    for _ in range(2):
        httpx.post(
            versions, headers=headers, json={"model_id": model_id}, timeout=120
        ).raise_for_status()
    champion = {"alias": "champion", "force": True, "reason": "screenshots"}
    for version, body in (("1", champion), ("2", {"alias": "challenger"})):
        r = httpx.post(f"{versions}/{version}/promote", headers=headers, json=body, timeout=120)
        r.raise_for_status()


def _shoot(  # noqa: PLR0915 -- one walk through every page
    base: str, key: str, model_id: str, bayes_id: str, out: Path, paths_file: Path
) -> list[Path]:
    from playwright.sync_api import sync_playwright

    shots: list[Path] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for width, height in VIEWPORTS:
            page = browser.new_page(viewport={"width": width, "height": height})

            def snap(name: str, page=page, width=width, height=height) -> None:
                path = out / f"{name}-{width}x{height}.png"
                page.screenshot(path=str(path), full_page=True)
                shots.append(path)

            page.goto(f"{base}/ui/#/login")
            page.wait_for_selector("[data-page=login]")
            snap("login")
            page.fill("#key", key)
            page.click("button[type=submit]")
            page.wait_for_selector("[data-page=models]")
            snap("models")
            page.goto(f"{base}/ui/#/jobs")
            page.wait_for_selector("[data-page=jobs] table")
            snap("jobs")
            page.goto(f"{base}/ui/#/models/{model_id}")
            page.wait_for_selector(".curves svg")
            page.wait_for_selector("#dec-h + .grid svg")
            page.wait_for_selector("[data-registry] table")
            snap("model")
            page.goto(f"{base}/ui/#/models/{bayes_id}")
            # the previous model's page is still in the DOM until the new one is drawn
            page.wait_for_selector(f"h1:has-text('{bayes_id[:12]}')")
            page.wait_for_selector(".curves svg")
            page.wait_for_selector("#dec-h + .grid svg")
            page.wait_for_selector("section:has(#cmp-h) p")
            snap("model-bayes")
            page.goto(f"{base}/ui/#/models/{model_id}/planner")
            page.wait_for_selector("#planner-status:has-text('Up to date')")
            channels = page.eval_on_selector_all(
                "input[data-channel]", "els => els.map(e => e.dataset.channel)"
            )
            page.fill("#scen-name", "current mix")
            page.click("#save-scenario")
            first = page.input_value(f"#spend-{channels[0]}")
            page.fill(f"#spend-{channels[0]}", str(round(float(first) * 1.3)))
            page.fill("#scen-name", "more " + channels[0])
            page.wait_for_timeout(600)
            page.wait_for_selector("#planner-status:has-text('Up to date')")
            page.click("#save-scenario")
            page.click("#compare-scenarios")
            page.wait_for_selector("[data-compare]")
            snap("planner")
            page.goto(f"{base}/ui/#/attribution")
            page.wait_for_selector("[data-page=attribution]")
            page.set_input_files("#journeys", str(paths_file))
            page.select_option("#attr-model", model_id)
            page.click("[data-page=attribution] button[type=submit]")
            page.wait_for_selector("#attr-h")
            snap("attribution")
            page.goto(f"{base}/ui/#/models/{'0' * 32}")
            page.wait_for_selector("[data-page=not-found]")
            snap("not-found")
            page.close()
        browser.close()
    return shots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("dashboard-screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mediamix-shots-") as tmp:
        home = Path(tmp) / "home"
        env = dict(os.environ, MEDIAMIX_HOME=str(home), MEDIAMIX_TRACKING="false")
        data = Path(tmp) / "data"
        _cli(env, "synth", "--out", str(data), "--weeks", "80", "--channels", "3", "--seed", "1")
        key = _cli(env, "keys", "create", "--tenant", "acme", "--scope", "admin")
        paths_file = Path(tmp) / "paths.csv"
        paths_file.write_text(PATHS_CSV)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen(  # noqa: S603 -- our own CLI, fixed arguments
            [sys.executable, "-m", "mediamix", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            _wait(base, proc)
            headers = {"Authorization": f"Bearer {key}"}
            model_id = _fit(base, headers, data, {})
            _register(base, headers, model_id)
            bayes_id = _fit(base, headers, data, BAYES)
            shots = _shoot(base, key, model_id, bayes_id, args.out, paths_file)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)
    for path in shots:
        print(path)


if __name__ == "__main__":
    main()
