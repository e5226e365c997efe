"""``mediamix pipeline run`` three times for one period gives identical tables and files."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from _sinks import PASSWORD, Mailbox, Sink, slack_sink, smtp_server, write_certificate
from mediamix.data.synthetic import SynthConfig
from mediamix.service.distribute import DeliveryConfig
from mediamix.service.pipeline import PipelineDelivery, PipelineRequest, run_pipeline
from mediamix.warehouse.store import Warehouse

pytestmark = pytest.mark.warehouse

# report.html is left out: its matplotlib SVGs carry a creation date and random
# clip-path ids (reporting's business, not the pipeline's); everything else must match
COMPARED = (
    "data/mmm_weekly_input.csv",
    "data/spec.yaml",
    "fit/summary.json",
    "fit/decomposition.csv",
    "fit/model/manifest.json",
    "fit/model/model.json",
    "fit/model/arrays.npz",
    "plan.json",
    "pipeline.json",
)


def _snapshot(home: Path, run_dir: Path) -> tuple[dict[str, str], dict[str, str]]:
    with Warehouse.reader(home) as wh:
        tables = wh.checksums()
    files = {name: hashlib.sha256((run_dir / name).read_bytes()).hexdigest() for name in COMPARED}
    return tables, files


@contextmanager
def _delivery(tmp_path: Path) -> Iterator[tuple[PipelineDelivery, Mailbox, type[Sink]]]:
    """Delivery to local sinks, the secrets in environment variables."""
    cert = write_certificate(tmp_path)
    with smtp_server(cert) as (box, port), slack_sink() as (sink, url):
        config = DeliveryConfig.model_validate(
            {
                "email": {
                    "host": "127.0.0.1",
                    "port": port,
                    "sender": "reports@example.com",
                    "recipients": ["cmo@example.com"],
                    "username": "reports",
                    "password_env": "SMTP_PASSWORD",  # pragma: allowlist secret (a name)
                    "ca_file": str(cert[1]),
                },
                "slack": [{"name": "team", "webhook_env": "SLACK_HOOK"}],
                "retries": 0,
            }
        )
        environ = {"SMTP_PASSWORD": PASSWORD, "SLACK_HOOK": url}
        state = f"sqlite:///{tmp_path / 'state.db'}"
        yield PipelineDelivery(config=config, state_url=state, environ=environ), box, sink


def test_pipeline_run_three_times_is_identical(home: Path, cli, tmp_path: Path) -> None:
    args = ["pipeline", "run", "--seed", "5", "--weeks", "60", "--channels", "3"]
    run = cli(args)
    assert run.code == 0, run.err
    run_dir = home / "runs" / "2021-01-04_2022-02-21"
    assert (run_dir / "report.html").is_file()
    assert "plan optimal" in run.out or "plan" in run.out
    first = _snapshot(home, run_dir)
    assert {"mmm_weekly_input", "media_performance", "load_log"} <= set(first[0])

    request = PipelineRequest(
        source="synthetic", synth=SynthConfig(seed=5, weeks=60, channels=3), seed=5
    )
    # with delivery configured the report goes out once: the second run skips it
    with _delivery(tmp_path) as (delivery, box, sink):
        delivered = []
        for _ in range(2):
            outcome = run_pipeline(home, request, delivery=delivery)
            assert outcome.run_dir == run_dir
            assert outcome.load_status == "unchanged"
            assert _snapshot(home, run_dir) == first
            delivered.append(outcome.delivered)
    assert delivered[0] is not None
    assert delivered[0]["to"] == ["cmo@example.com", "slack:team"]
    assert delivered[1] is not None
    assert delivered[1]["to"] == []
    assert delivered[1]["skipped"] == ["cmo@example.com", "slack:team"]
    assert len(box.messages) == 1
    assert len(sink.received) == 1
    pdf = {p.get_content_type(): p for p in box.messages[0].walk()}["application/pdf"]
    assert pdf.get_payload(decode=True) == (run_dir / "report" / "report.pdf").read_bytes()
    with Warehouse.reader(home) as wh:
        assert wh.query("select count(*) as n from load_log")["n"][0] == 1

    # tracked, the fit is an MLflow run; tables and files stay the same, except that
    # summary.json names the run
    pytest.importorskip("mlflow")
    import json

    from mlflow.tracking import MlflowClient

    from mediamix.tracking.config import TrackingConfig

    tracking = TrackingConfig(home=home)
    run_pipeline(home, request, tracking=tracking)
    tables, files = _snapshot(home, run_dir)
    assert tables == first[0]
    changed = {name for name in COMPARED if files[name] != first[1][name]}
    assert changed == {"fit/summary.json"}
    ref = json.loads((run_dir / "fit" / "summary.json").read_text())["tracking"]
    run = MlflowClient(tracking_uri=tracking.uri).get_run(ref["run_id"])
    assert run.info.status == "FINISHED"

    # every run is in the run log with its steps, newest first (mediamix pipeline status)
    from mediamix.service.runs import pipeline_status

    runs = pipeline_status(home, pipeline="pipeline")
    assert len(runs) == 4
    assert all(r["state"] == "succeeded" for r in runs)
    steps = [s["step"] for s in runs[0]["steps"]]
    assert steps == ["ingest", "transform", "export", "validate", "fit", "optimize", "report"]
    assert runs[-1]["steps"][0]["detail"]["status"] == "loaded"
    assert runs[-1]["steps"][0]["rows"] == 60 * 3
    assert runs[0]["steps"][0]["detail"]["status"] == "unchanged"
    status = cli(["pipeline", "status", "--limit", "1"])
    assert status.code == 0, status.err
    assert status.out.startswith(runs[0]["run_id"] + "  succeeded")


def test_a_failed_pipeline_run_is_recorded_with_its_step(home: Path, cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("date_day,platform\n2024-01-01,x\n")
    run = cli(["pipeline", "run", "--data", bad])
    assert run.code == 2
    from mediamix.service.runs import pipeline_status

    (latest,) = pipeline_status(home, pipeline="pipeline")
    assert latest["state"] == "failed"
    assert [s["step"] for s in latest["steps"]] == ["ingest"]
    assert latest["error"].startswith("ingest: InputError")
