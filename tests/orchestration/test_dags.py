"""The packaged Airflow DAGs, run with the Airflow the repository installs.

Airflow's metadata database (SQLite) and the DagBag are set up once for the module;
each DAG is then run end to end with ``dag.test()`` on a temporary ``MEDIAMIX_HOME``
from a file source (no network), twice for the same interval. The report is
delivered to local sinks on loopback (aiosmtpd with STARTTLS and login, an HTTP
sink for the Slack webhook), with their secrets in ``AIRFLOW_CONN_<ID>`` URIs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml

from _sinks import HOOK_TOKEN, PASSWORD, slack_sink, smtp_server, write_certificate

# Airflow reads its configuration when first imported: the module fixture sets the
# environment first, so nothing here may import airflow before it
pytestmark = [
    pytest.mark.warehouse,
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("airflow") is None, reason="needs the airflow extra"
    ),
]

UTC = dt.UTC
INGEST_DATE = dt.datetime(2024, 3, 1, 6, tzinfo=UTC)
TRAIN_DATE = dt.datetime(2024, 3, 4, 2, tzinfo=UTC)  # a Monday
OPTIMIZE_DATE = dt.datetime(2024, 3, 4, 8, tzinfo=UTC)


def _write_config(
    path: Path, sources: list[dict[str, Any]], delivery: dict[str, Any] | None = None
) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "sources": sources,
                "train": {"model_name": "weekly", "weeks": 104, "drift_weeks": 8},
                "tasks": {"retries": 0, "timeout_minutes": 10},
                **({"delivery": delivery} if delivery else {}),
            },
            sort_keys=False,
        )
    )
    return path


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Airflow home, metadata DB, DagBag, a mediamix home and its configuration."""
    from mediamix.data.synthetic import SynthConfig
    from mediamix.orchestration import dags_path
    from mediamix.service.synth import write_synth

    root = tmp_path_factory.mktemp("airflow")
    certificate = write_certificate(root)
    _spec, _ = write_synth(
        root / "data", SynthConfig(seed=3, weeks=60, channels=3, start="2023-01-02")
    )
    brand = {
        "name": "brand",
        "account": "brand",
        "lookback_days": 800,
        "chain": [
            {"kind": "file", "path": "data/synth.csv", "spec": "data/spec.yaml"},
            {"kind": "synthetic", "seed": 1, "channels": 3},
        ],
    }
    # the secrets live in Airflow connections only: the YAML names their ids
    delivery = {
        "email": {
            "conn_id": "smtp_reports",
            "sender": "reports@example.com",
            "recipients": ["cmo@example.com"],
            "ca_file": str(certificate[1]),
        },
        "slack": [{"name": "marketing", "conn_id": "slack_marketing"}],
        "link": "https://reports.example.com/weekly/report.html",
        "retries": 1,
        "backoff_seconds": 0.1,
    }
    config = _write_config(root / "pipeline.yaml", [brand], delivery)
    # the same channels and weeks in another currency: every load passes, but the dbt
    # test that allows one currency per channel and week fails
    euro = {
        "name": "euro",
        "account": "euro",
        "lookback_days": 800,
        "chain": [
            {"kind": "file", "path": "data/synth.csv", "spec": "data/spec.yaml", "currency": "EUR"}
        ],
    }
    bad = _write_config(root / "bad.yaml", [brand, euro], delivery)
    variables = {
        "AIRFLOW_HOME": str(root / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_path()),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{root / 'airflow' / 'airflow.db'}",
        "AIRFLOW__API_AUTH__JWT_SECRET": "test-only-jwt-secret",  # pragma: allowlist secret
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "MEDIAMIX_HOME": str(root / "home"),
        "MEDIAMIX_PIPELINE_CONFIG": str(config),
    }
    with (
        smtp_server(certificate) as (mailbox, port),
        slack_sink() as (sink, hook),
        pytest.MonkeyPatch.context() as mp,
    ):
        variables["AIRFLOW_CONN_SMTP_REPORTS"] = (
            f"smtp://reports:{quote(PASSWORD, safe='')}@127.0.0.1:{port}"
        )
        variables["AIRFLOW_CONN_SLACK_MARKETING"] = f"slackwebhook://:{quote(hook, safe='')}@"
        for key, value in variables.items():
            mp.setenv(key, value)
        (root / "airflow").mkdir()
        from airflow.dag_processing.dagbag import DagBag
        from airflow.utils import db

        db.initdb()
        bag = DagBag(dag_folder=str(dags_path()), include_examples=False)
        yield {
            "root": root,
            "home": root / "home",
            "bag": bag,
            "config": config,
            "bad": bad,
            "mp": mp,
            "mailbox": mailbox,
            "sink": sink,
        }


def _run(env: dict[str, Any], dag_id: str, when: dt.datetime) -> Any:
    return env["bag"].dags[dag_id].test(logical_date=when)


def _tables(home: Path) -> dict[str, str]:
    from mediamix.warehouse.store import Warehouse

    with Warehouse.reader(home) as wh:
        return wh.checksums()


def _file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _status(home: Path, dag_id: str) -> list[dict[str, Any]]:
    from mediamix.service.runs import pipeline_status

    return pipeline_status(home, pipeline=dag_id)


def _callbacks(value: Any) -> list[Any]:
    # a mapped task keeps the callback as given; a plain task wraps it in a list
    return list(value) if isinstance(value, list | tuple) else [value]


def test_dagbag_imports_the_three_dags_without_errors(env: dict[str, Any]) -> None:
    bag = env["bag"]
    assert bag.import_errors == {}
    assert {"mediamix_ingest", "mediamix_train", "mediamix_optimize"} <= set(bag.dag_ids)
    from mediamix.orchestration.runtime import on_task_failure, on_task_retry

    # every task of the three DAGs: retries with exponential backoff, a time limit and
    # the callbacks that log and notify (the policy comes from the YAML's tasks section)
    for dag_id in ("mediamix_ingest", "mediamix_train", "mediamix_optimize"):
        assert bag.dags[dag_id].tasks, dag_id
        for t in bag.dags[dag_id].tasks:
            assert t.execution_timeout == dt.timedelta(minutes=10), (dag_id, t.task_id)
            assert t.retries == 0, (dag_id, t.task_id)  # the test YAML's choice
            assert t.retry_exponential_backoff, (dag_id, t.task_id)
            assert t.retry_delay == dt.timedelta(seconds=60), (dag_id, t.task_id)
            assert t.max_retry_delay == dt.timedelta(seconds=1800), (dag_id, t.task_id)
            assert _callbacks(t.on_failure_callback) == [on_task_failure], (dag_id, t.task_id)
            assert _callbacks(t.on_retry_callback) == [on_task_retry], (dag_id, t.task_id)
    assert bag.dags["mediamix_train"].timetable.expression == "0 2 * * 1"
    assert bag.dags["mediamix_ingest"].timetable.expression == "0 6 * * *"


def test_ingest_twice_for_one_interval_gives_identical_tables(env: dict[str, Any]) -> None:
    from mediamix.warehouse.store import warehouse_path

    home = env["home"]
    first = _run(env, "mediamix_ingest", INGEST_DATE)
    assert first.state == "success"
    tables = _tables(home)
    assert {"raw_ad_reporting", "mmm_weekly_input"} <= set(tables)
    raw = sorted(p.relative_to(home) for p in (home / "raw").rglob("*.parquet"))
    assert _run(env, "mediamix_ingest", INGEST_DATE).state == "success"
    assert _tables(home) == tables
    assert sorted(p.relative_to(home) for p in (home / "raw").rglob("*.parquet")) == raw
    assert warehouse_path(home).is_file()
    assert not any((home / "staging").iterdir())  # every published staging home is gone

    runs = _status(home, "mediamix_ingest")
    assert len(runs) == 2
    assert all(r["state"] == "succeeded" for r in runs)
    steps = {s["step"]: s for s in runs[-1]["steps"]}
    assert list(steps) == ["stage", "fetch brand", "transform", "publish"]
    assert steps["fetch brand"]["detail"]["served_by"] == "file"
    assert steps["fetch brand"]["detail"]["status"] == "loaded"
    assert steps["fetch brand"]["rows"] == 60 * 3
    assert runs[0]["steps"][1]["detail"]["status"] == "unchanged"  # the re-run's load


def test_a_failed_dbt_test_leaves_the_warehouse_byte_identical(env: dict[str, Any]) -> None:
    from mediamix.warehouse.store import warehouse_path

    home = env["home"]
    live = warehouse_path(home)
    before = _file_sha(live)
    env["mp"].setenv("MEDIAMIX_PIPELINE_CONFIG", str(env["bad"]))
    try:
        run = _run(env, "mediamix_ingest", INGEST_DATE + dt.timedelta(days=1))
    finally:
        env["mp"].setenv("MEDIAMIX_PIPELINE_CONFIG", str(env["config"]))
    assert run.state == "failed"
    assert _file_sha(live) == before
    # the failure callback sent a short notice (no PDF) by mail and to Slack
    notices = [m for m in env["mailbox"].messages if "failed" in m["Subject"]]
    assert [m["Subject"] for m in notices] == ["mediamix: mediamix_ingest.transform failed"]
    assert [p.get_content_type() for p in notices[0].walk()] == ["text/plain"]
    assert "InputError" in notices[0].get_payload()
    posts = [r["json"]["text"] for r in env["sink"].received]
    assert [t.splitlines()[0] for t in posts] == ["mediamix: mediamix_ingest.transform failed"]
    latest = _status(home, "mediamix_ingest")[0]
    assert latest["state"] == "failed"
    assert latest["error"].startswith("transform: InputError")
    steps = [s["step"] for s in latest["steps"]]
    # the two fetches run side by side, so either may finish first
    assert steps[0] == "stage"
    assert steps[-1] == "transform"
    assert sorted(steps[1:-1]) == ["fetch brand", "fetch euro"]
    # no raw file of the rejected load reached the live home
    assert not list((home / "raw").rglob("euro"))


def _versions(home: Path) -> list[dict[str, Any]]:
    from mediamix.service.registry import list_models
    from mediamix.tracking.config import TrackingConfig

    models = list_models(TrackingConfig(home=home))
    return [v for m in models if m["name"] == "weekly" for v in m["versions"]]


def test_train_twice_registers_one_version(env: dict[str, Any]) -> None:
    home = env["home"]
    assert _run(env, "mediamix_train", TRAIN_DATE).state == "success"
    versions = _versions(home)
    assert [v["version"] for v in versions] == [1]
    assert versions[0]["aliases"] == ["champion"]
    drift = home / "runs" / "mediamix_train" / "2024-03-04" / "drift" / "report" / "drift.json"
    assert "retrain" in json.loads(drift.read_text())

    assert _run(env, "mediamix_train", TRAIN_DATE).state == "success"
    assert [v["version"] for v in _versions(home)] == [1]
    latest = _status(home, "mediamix_train")[0]
    steps = {s["step"]: s for s in latest["steps"]}
    assert steps["fit"]["detail"]["skipped"] is True
    assert steps["register"]["detail"] == {
        "uri": "models:/weekly/1",
        "version": 1,
        "registered": False,
    }


def _reports(env: dict[str, Any]) -> tuple[list[Any], list[dict[str, Any]]]:
    mails = [m for m in env["mailbox"].messages if "failed" not in m["Subject"]]
    posts = [r for r in env["sink"].received if "failed" not in r["json"]["text"]]
    return mails, posts


def test_optimize_plans_with_the_champion_and_notifies(
    env: dict[str, Any], caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    import logging

    home = env["home"]
    with caplog.at_level(logging.DEBUG):
        assert _run(env, "mediamix_optimize", OPTIMIZE_DATE).state == "success"
    folder = home / "runs" / "mediamix_optimize" / "2024-03-04"
    plan = json.loads((folder / "plan.json").read_text())
    assert plan["status"] in {"optimal", "converged"}
    spec = yaml.safe_load((env["root"] / "data" / "spec.yaml").read_text())
    assert set(plan["channels"]) == set(spec["channels"])
    # the default budget is the champion's current total, and the plan spends it
    assert sum(c["spend"] for c in plan["channels"].values()) == pytest.approx(plan["budget"])
    report = folder / "report"
    assert (report / "report.html").read_text().lstrip().lower().startswith("<!doctype html")
    manifest = json.loads((report / "report.json").read_text())
    latest = _status(home, "mediamix_optimize")[0]
    assert latest["state"] == "succeeded"
    assert [s["step"] for s in latest["steps"]] == ["plan", "report", "notify"]
    assert latest["steps"][-1]["detail"] == {
        "sent": True,
        "to": ["cmo@example.com", "slack:marketing"],
        "skipped": [],
        "report_hash": manifest["report_hash"],
    }
    mails, posts = _reports(env)
    assert [m["To"] for m in mails] == ["cmo@example.com"]
    parts = {p.get_content_type(): p for p in mails[0].walk()}
    assert parts["application/pdf"].get_payload(decode=True) == (report / "report.pdf").read_bytes()
    assert "text/html" in parts
    assert len(posts) == 1
    assert "https://reports.example.com/weekly/report.html" in posts[0]["json"]["text"]

    # the same interval again: the same report, already delivered, so nothing is sent
    with caplog.at_level(logging.DEBUG):
        assert _run(env, "mediamix_optimize", OPTIMIZE_DATE).state == "success"
    again = _status(home, "mediamix_optimize")[0]["steps"][-1]["detail"]
    assert again["sent"] is False
    assert again["skipped"] == ["cmo@example.com", "slack:marketing"]
    assert again["report_hash"] == manifest["report_hash"]
    assert [len(x) for x in _reports(env)] == [1, 1]

    # no secret in what was logged: the test's records, the output, Airflow's files
    captured = capfd.readouterr()
    seen = "\n".join(r.getMessage() for r in caplog.records) + captured.out + captured.err
    for path in (env["root"] / "airflow").rglob("*"):
        if path.is_file():
            seen += path.read_bytes().decode("utf-8", "replace")
    assert "delivered to cmo@example.com" in seen
    assert PASSWORD not in seen
    assert HOOK_TOKEN not in seen


def test_pipeline_status_lists_the_dag_runs(env: dict[str, Any], run_cli: Any) -> None:
    result = run_cli(["pipeline", "status", "--limit", "3", "--pipeline", "mediamix_ingest"])
    assert result.code == 0, result.err
    assert "mediamix_ingest/" in result.out
    assert "failed" in result.out
    assert "transform" in result.out
    assert "error: transform: InputError" in result.out


def _data(home: Path) -> dict[str, Any]:
    """Every table's checksum; of ``load_log`` (when each load happened) its row count."""
    from mediamix.warehouse.store import Warehouse

    tables: dict[str, Any] = dict(_tables(home))
    with Warehouse.reader(home) as wh:
        tables["load_log"] = int(wh.query("select count(*) as n from load_log")["n"].iloc[0])
    return tables


def _intervals(out: str) -> list[str]:
    # the backfill's lines; Airflow's own output of dag.test() may share stdout
    return [line for line in out.splitlines() if line.startswith("2024-")]


def test_a_backfill_gives_the_tables_of_single_runs_and_runs_each_interval_once(
    env: dict[str, Any], run_cli: Any
) -> None:
    home = env["home"]
    # three single runs of consecutive days in the module's home (the first one again
    # when the ingest test ran: a re-run changes nothing)
    day = dt.timedelta(days=1)
    for n in (0, 1, 2):
        assert _run(env, "mediamix_ingest", INGEST_DATE + n * day).state == "success"
    singles = _data(home)

    # the same three days as one backfill, in a fresh home
    backfilled = env["root"] / "backfill"
    args = ["pipeline", "backfill", "mediamix_ingest", "--start", "2024-02-29"]
    args += ["--end", "2024-03-02"]
    env["mp"].setenv("MEDIAMIX_HOME", str(backfilled))
    try:
        first = run_cli(args)
        assert first.code == 0, first.err
        labels = [
            "2024-02-29T06:00..2024-03-01T06:00",
            "2024-03-01T06:00..2024-03-02T06:00",
            "2024-03-02T06:00..2024-03-03T06:00",
        ]
        assert _intervals(first.out) == [f"{label}  success" for label in labels]
        assert _data(backfilled) == singles
        runs = _status(backfilled, "mediamix_ingest")
        assert [r["interval"] for r in runs] == labels[::-1]  # in order, newest first
        assert all(r["state"] == "succeeded" for r in runs)

        # again: every interval is done, nothing runs, nothing changes
        after = _tables(backfilled)
        again = run_cli(args)
        assert again.code == 0, again.err
        assert _intervals(again.out) == [f"{label}  skipped" for label in labels]
        assert _tables(backfilled) == after
        assert len(_status(backfilled, "mediamix_ingest")) == 3
    finally:
        env["mp"].setenv("MEDIAMIX_HOME", str(home))


def test_backfill_lists_the_scheduled_intervals_of_each_dag(env: dict[str, Any]) -> None:
    from mediamix.errors import InputError
    from mediamix.orchestration.backfill import scheduled_intervals

    bag = env["bag"]
    mondays = scheduled_intervals(
        bag.dags["mediamix_train"], dt.date(2024, 3, 1), dt.date(2024, 3, 18)
    )
    assert [s for s, _ in mondays] == [dt.datetime(2024, 3, d, 2, tzinfo=UTC) for d in (4, 11, 18)]
    assert all(s == e for s, e in mondays)  # a cron trigger's run covers its moment
    days = scheduled_intervals(
        bag.dags["mediamix_ingest"], dt.date(2024, 3, 1), dt.date(2024, 3, 1)
    )
    assert days == [
        (dt.datetime(2024, 3, 1, 6, tzinfo=UTC), dt.datetime(2024, 3, 2, 6, tzinfo=UTC))
    ]
    with pytest.raises(InputError, match="before --start"):
        scheduled_intervals(bag.dags["mediamix_ingest"], dt.date(2024, 3, 2), dt.date(2024, 3, 1))
