"""The dashboard in a real browser: Debian's Chromium driven by Playwright against a
``mediamix serve`` started here on loopback (one server, one browser, one fitted
model for the module).

Every figure the page shows is checked against the API's own answer for the same
request; the scope and tenant rules are checked as a user meets them.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="needs the api extra")
playwright = pytest.importorskip("playwright.sync_api", reason="needs playwright (dev extra)")

import httpx  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.fail(
        "Debian's chromium is missing: `make system` installs it (scripts/system-packages.txt)",
        pytrace=False,
    )

pytestmark = pytest.mark.slow


class Stack:
    """The served API, its keys and the fitted model."""

    def __init__(self, base: str, keys: dict[str, str], model_id: str, bayes_job: str) -> None:
        self.base, self.keys, self.model_id = base, keys, model_id
        self.bayes_job = bayes_job  # a small Bayesian fit, running beside the other tests

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def post(self, path: str, body: dict[str, Any]) -> Any:
        r = httpx.post(f"{self.base}{path}", headers=self.headers("admin"), json=body, timeout=120)
        assert r.status_code == 200, r.text
        return r.json()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    from mediamix.data.synthetic import SynthConfig
    from mediamix.service.synth import write_synth
    from mediamix.state.keys import create_key
    from mediamix.state.store import StateStore

    root = tmp_path_factory.mktemp("dash")
    data = root / "data"
    write_synth(data, SynthConfig(seed=3, weeks=60, channels=2))
    home = root / "home"
    store = StateStore(home / "api")
    keys = {
        "admin": create_key(store.engine, "acme", ["admin"]),
        "no_report": create_key(store.engine, "acme", ["model:read", "optimize:run"]),
        "other": create_key(store.engine, "globex", ["admin"]),
    }
    store.engine.dispose()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, MEDIAMIX_HOME=str(home), MEDIAMIX_TRACKING="false")
    log = tempfile.NamedTemporaryFile(prefix="mediamix-dash-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(
        # two job workers: the Bayesian fit runs while the ridge model's pages are tested
        [sys.executable, "-m", "mediamix", "serve", "--port", str(port), "--job-workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, Path(log.name).read_text()[-2000:]
            try:
                if httpx.get(f"{base}/livez", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "mediamix serve did not start"
            time.sleep(0.2)
        h = {"Authorization": f"Bearer {keys['admin']}"}
        files = {
            "data": ("synth.csv", (data / "synth.csv").read_bytes()),
            "spec": ("spec.yaml", (data / "spec.yaml").read_bytes()),
        }
        ds = httpx.post(f"{base}/v1/datasets", headers=h, files=files, timeout=120)
        assert ds.status_code == 201, ds.text
        job = httpx.post(
            f"{base}/v1/models", headers=h, json={"dataset_id": ds.json()["id"]}, timeout=60
        ).json()
        # NUTS, one short chain: seconds of sampling, enough draws for bands and R-hat
        bayes = {"engine": "bayes", "method": "nuts", "chains": 1, "warmup": 100, "draws": 100}
        bayes_job = httpx.post(
            f"{base}/v1/models",
            headers=h,
            json={"dataset_id": ds.json()["id"], **bayes},
            timeout=60,
        ).json()["job_id"]
        deadline = time.monotonic() + 300
        while True:
            state = httpx.get(f"{base}/v1/jobs/{job['job_id']}", headers=h, timeout=30).json()
            if state["state"] == "succeeded":
                break
            assert state["state"] in {"queued", "running"}, state
            assert time.monotonic() < deadline, state
            time.sleep(0.3)
        yield Stack(base, keys, str(state["result"]["model_id"]), bayes_job)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        Path(log.name).unlink(missing_ok=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(120_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, errors  # no script error on any page


def _login(page: Any, stack: Stack, who: str) -> None:
    page.goto(f"{stack.base}/")
    page.wait_for_selector("[data-page=login]")
    page.get_by_label("API key").fill(stack.keys[who])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("[data-page=models]")


def _set_budget(page: Any, channel: str, value: int) -> None:
    page.get_by_label(channel, exact=True).fill(str(value))


def _wait_for_plan(page: Any, plan: dict[str, int]) -> None:
    page.wait_for_function(
        """plan => {
            const el = document.getElementById("predicted-response");
            if (!el.dataset.plan) return false;
            const shown = JSON.parse(el.dataset.plan);
            return Object.entries(plan).every(([k, v]) => shown[k] === v);
        }""",
        arg=plan,
    )


def _number(text: str) -> float:
    return float(text.replace(",", "").replace("%", "").replace("+", ""))


def _download(page: Any, label: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("button", name=label).click()
    return Path(info.value.path()).read_bytes()


def test_plan_two_budgets_optimize_compare_and_export(
    page: Any, stack: Stack, tmp_path: Path
) -> None:
    model = stack.model_id
    _login(page, stack, "admin")
    page.get_by_role("link", name=model[:12]).click()
    page.wait_for_selector("[data-page=model]")
    page.wait_for_selector(".curves svg")
    assert page.locator("[data-report]").count() == 1
    page.get_by_role("link", name="Open the scenario planner").click()
    page.wait_for_selector("#planner-status:has-text('Up to date')")
    channels = page.eval_on_selector_all(
        "input[data-channel]", "els => els.map(e => e.dataset.channel)"
    )
    assert len(channels) == 2
    current = {c: float(page.input_value(f"#spend-{c}")) for c in channels}

    # change two channels' budgets: the shown prediction is the API's for that plan
    plan = {
        channels[0]: round(current[channels[0]] * 1.4),
        channels[1]: round(current[channels[1]] * 0.6),
    }
    for channel, value in plan.items():
        _set_budget(page, channel, value)
    _wait_for_plan(page, plan)
    shown = page.inner_text("#predicted-response")
    scen = stack.post(f"/v1/models/{model}/scenarios", {"scenarios": {"p": plan}})["p"]
    locked = {c: {"min": v, "max": v} for c, v in plan.items()}
    optimized_locked = stack.post(
        f"/v1/models/{model}/optimize",
        {"budget": sum(plan.values()), "constraints": {"channels": locked}, "risk_level": None},
    )
    assert _number(shown) == round(scen["total_response"])
    assert _number(shown) == round(optimized_locked["total_response"])
    assert page.inner_text("#predicted-roi") == f"{scen['roi']:.2f}"
    low, high = scen["response_interval"]
    assert page.inner_text("#predicted-interval") == f"{low:,.0f} – {high:,.0f}"
    assert page.inner_text("#predicted-change") == f"{100 * scen['change_vs_current']:+.1f}%"

    # keep it, with a bound for the optimizer that the YAML export must carry
    page.get_by_label(f"{channels[0]} minimum for the optimizer").fill("1000")
    page.get_by_label("Scenario name").fill("two changes")
    page.get_by_role("button", name="Save scenario").click()

    # the optimizer fills in the API's plan for the same budget and bounds
    budget = float(page.input_value("#opt-budget"))
    page.get_by_role("button", name="Run the optimizer").click()
    page.wait_for_selector("#opt-notes:has-text('Plan status')")
    expected = stack.post(
        f"/v1/models/{model}/optimize",
        {"budget": budget, "constraints": {"channels": {channels[0]: {"min": 1000}}}},
    )
    for c in channels:
        assert abs(float(page.input_value(f"#spend-{c}")) - expected["channels"][c]["spend"]) <= 1
    # the executive report on that plan, rendered by the API: the bytes it gives for the plan
    report = _download(page, "Report on this plan (HTML)")
    direct = httpx.post(
        f"{stack.base}/v1/models/{model}/report",
        headers=stack.headers("admin"),
        json={"plan": expected},
        timeout=300,
    )
    assert direct.status_code == 200, direct.text
    assert report == direct.content
    assert b"Budget shift: current vs recommended" in report
    page.get_by_role("button", name="Save scenario").click()  # named "optimized plan"

    page.get_by_role("button", name="Compare the ticked scenarios").click()
    page.wait_for_selector("[data-compare]")
    header = page.locator("[data-compare] thead th").all_inner_texts()
    assert header[1:] == ["current", "two changes", "optimized plan"]
    row = page.locator("[data-compare] tbody tr", has_text="Expected response")
    assert _number(row.locator("td").nth(1).inner_text()) == round(scen["total_response"])

    data = _download(page, "Export two changes as CSV")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    total = next(r for r in rows if r["scenario"] == "two changes" and r["channel"] == "total")
    assert float(total["response"]) == pytest.approx(scen["total_response"], rel=1e-12)
    assert {r["channel"]: float(r["spend"]) for r in rows if r["scenario"] == "two changes"} == {
        **{c: float(v) for c, v in plan.items()},
        "total": float(sum(plan.values())),
    }
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(_download(page, "Export two changes as XLSX")))
    cells = list(book.active.iter_rows(values_only=True))
    assert cells[0][:4] == ("scenario", "channel", "spend", "response")
    assert any(r[0] == "two changes" and r[1] == "total" for r in cells)

    from mediamix.optimization.constraints import read_constraints

    yaml_file = tmp_path / "constraints.yaml"
    yaml_file.write_bytes(_download(page, "Export two changes as YAML"))
    assert read_constraints(yaml_file).channels[channels[0]].min == 1000


def test_a_fit_started_in_the_page_is_followed_to_its_model(page: Any, stack: Stack) -> None:
    _login(page, stack, "admin")
    page.get_by_role("button", name="Fit", exact=True).click()  # the form on the models page
    page.wait_for_selector("[data-page=jobs] table")
    # the new job appears unfinished, and the page follows it without a reload
    page.wait_for_selector("tbody tr:first-child .badge:is(.queued, .running)", timeout=30_000)
    page.wait_for_selector("tbody tr:first-child .badge.succeeded", timeout=300_000)
    first = page.locator("tbody tr").first
    assert first.locator("progress").get_attribute("value") == "1"
    # the module's ridge fit and this one (the Bayesian fit may still be running)
    assert page.locator("tbody tr .badge.succeeded").count() >= 2
    first.get_by_role("link", name="Open model").click()
    page.wait_for_selector("[data-page=model]")
    jobs = httpx.get(f"{stack.base}/v1/jobs", headers=stack.headers("admin")).json()
    assert jobs[0]["result"]["model_id"][:12] in page.inner_text("h1")


def test_key_without_report_scope_sees_no_report(page: Any, stack: Stack) -> None:
    _login(page, stack, "no_report")
    page.goto(f"{stack.base}/ui/#/models/{stack.model_id}")
    page.wait_for_selector("[data-page=model]")
    assert page.locator("[data-report]").count() == 0
    assert page.get_by_role("button", name="Report (HTML)").count() == 0
    r = httpx.get(
        f"{stack.base}/v1/models/{stack.model_id}/report", headers=stack.headers("no_report")
    )
    assert r.status_code == 403
    # the planner plans, but offers no report on the plan either
    page.get_by_role("link", name="Open the scenario planner").click()
    page.wait_for_selector("#planner-status:has-text('Up to date')")
    page.get_by_role("button", name="Run the optimizer").click()
    page.wait_for_selector("#opt-notes:has-text('Plan status')")
    assert page.locator("[data-plan-report]").count() == 0


def test_another_tenants_model_is_not_found(page: Any, stack: Stack) -> None:
    _login(page, stack, "other")
    assert stack.model_id[:12] not in page.inner_text("main")
    for suffix in ("", "/planner"):
        page.goto(f"{stack.base}/ui/#/models/{stack.model_id}{suffix}")
        page.wait_for_selector("[data-page=not-found]")
        assert page.inner_text("h1") == "Not found"
    assert page.evaluate("() => sessionStorage.getItem('mediamix.key')") == stack.keys["other"]
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_selector("[data-page=login]")
    assert page.evaluate("() => sessionStorage.getItem('mediamix.key')") is None


def test_champion_and_challenger_from_the_registry(page: Any, stack: Stack) -> None:
    h = stack.headers("admin")
    base = f"{stack.base}/v1/registry/brand/versions"
    for _ in range(2):
        r = httpx.post(base, headers=h, json={"model_id": stack.model_id}, timeout=120)
        assert r.status_code == 201, r.text
    force = {"alias": "champion", "force": True, "reason": "first champion"}
    for version, body in (("1", force), ("2", {"alias": "challenger"})):
        r = httpx.post(f"{base}/{version}/promote", headers=h, json=body, timeout=120)
        assert r.status_code == 200, r.text
    summary = httpx.get(f"{stack.base}/v1/models/{stack.model_id}/summary", headers=h).json()
    _login(page, stack, "admin")
    page.goto(f"{stack.base}/ui/#/models/{stack.model_id}")
    page.wait_for_selector("[data-registry=brand] table")
    header = page.locator("[data-registry=brand] thead th").all_inner_texts()
    assert header[1] == "champion (v1)"
    assert header[3] == "challenger (v2)"
    channel = next(iter(summary["channels"]))
    row = page.locator("[data-registry=brand] tbody tr", has_text=f"{channel} ROI")
    assert row.locator("td").nth(0).inner_text() == f"{summary['channels'][channel]['roi']:.2f}"


def _wait_job(stack: Stack, job_id: str) -> str:
    deadline = time.monotonic() + 900
    while True:
        job = httpx.get(f"{stack.base}/v1/jobs/{job_id}", headers=stack.headers("admin")).json()
        if job["state"] == "succeeded":
            return str(job["result"]["model_id"])
        assert job["state"] in {"queued", "running"}, job
        assert time.monotonic() < deadline, job
        time.sleep(0.5)


def test_bayesian_model_page_and_planner(page: Any, stack: Stack) -> None:
    model = _wait_job(stack, stack.bayes_job)
    h = stack.headers("admin")
    diag = httpx.get(f"{stack.base}/v1/models/{model}/diagnostics", headers=h).json()
    assert diag["engine"] == "bayes"
    curves = httpx.get(
        f"{stack.base}/v1/models/{model}/planning-curves?points=21", headers=h, timeout=120
    ).json()
    _login(page, stack, "admin")
    page.goto(f"{stack.base}/ui/#/models/{model}")
    page.wait_for_selector("[data-page=model]")
    assert "bayes engine" in page.inner_text(".sub")

    # diagnostics: the sampler's checks, as the API reports them
    card = page.locator("section", has=page.locator("#diag-h"))
    facts = dict(
        tuple(r.locator("th, td").all_inner_texts()[:2]) for r in card.locator("tbody tr").all()
    )
    assert facts["sampler"] == "nuts"
    assert facts["divergences"] == str(diag["sampler"]["divergences"])
    assert _number(facts["max R-hat"]) == pytest.approx(diag["sampler"]["max_rhat"], abs=0.005)

    # curves with their 90% band: every channel drawn, the band as the API computes it
    page.wait_for_selector(".curves svg")
    assert page.locator(".curves svg").count() == 2
    # the numbers sit in a closed <details> under each chart: their text, not what shows
    bands = page.locator(".curves table tbody tr td:nth-child(3)").all_text_contents()
    assert len(bands) == len(curves)
    widths = []
    for shown, row in zip(bands, curves, strict=True):
        low, high = (_number(x) for x in shown.split(" – "))
        # shown to the unit (half-way cases may round either way)
        assert abs(low - row["lower"]) <= 0.5
        assert abs(high - row["upper"]) <= 0.5
        widths.append(high - low)
    assert max(widths) > 0  # the draws disagree: a band, not a line

    # the planner on the posterior: two budgets, the API's answer to the shown precision
    page.get_by_role("link", name="Open the scenario planner").click()
    page.wait_for_selector("#planner-status:has-text('Up to date')")
    channels = page.eval_on_selector_all(
        "input[data-channel]", "els => els.map(e => e.dataset.channel)"
    )
    current = {c: float(page.input_value(f"#spend-{c}")) for c in channels}
    plan = {
        channels[0]: round(current[channels[0]] * 0.7),
        channels[1]: round(current[channels[1]] * 1.3),
    }
    for channel, value in plan.items():
        _set_budget(page, channel, value)
    _wait_for_plan(page, plan)
    scen = stack.post(f"/v1/models/{model}/scenarios", {"scenarios": {"p": plan}})["p"]
    assert _number(page.inner_text("#predicted-response")) == round(scen["total_response"])
    assert page.inner_text("#predicted-roi") == f"{scen['roi']:.2f}"
    low, high = scen["response_interval"]
    assert low < high
    assert page.inner_text("#predicted-interval") == f"{low:,.0f} – {high:,.0f}"
