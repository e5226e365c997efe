"""The scheduled path's service functions without Airflow: configuration, fallback, staging."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from mediamix.errors import BusyError, InputError
from mediamix.service import schedule


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(text)
    return path


def test_config_paths_are_relative_to_the_file_and_defaults_fill_in(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        "sources:\n"
        "  - name: brand\n"
        "    chain:\n"
        "      - {kind: file, path: data/w.csv, spec: data/spec.yaml}\n"
        "      - {kind: synthetic}\n"
        "optimize: {constraints: c.yaml}\n"
        "schedules: {ingest: '30 5 * * *'}\n",
    )
    config = schedule.read_schedule_config(path)
    first = config.sources[0].chain[0]
    assert isinstance(first, schedule.FileSourceConfig)
    assert first.path == (tmp_path / "data" / "w.csv").resolve()
    assert config.optimize.constraints == (tmp_path / "c.yaml").resolve()
    assert config.schedules.ingest == "30 5 * * *"
    assert config.schedules.train == "0 2 * * 1"
    assert config.tasks.retries == 2


def test_config_errors_name_file_line_and_key(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        "sources:\n"
        "  - name: brand\n"
        "    chain:\n"
        "      - {kind: synthetic, channels: 0}\n"
        "train: {engine: xgboost, api_token: abc}\n",
    )
    with pytest.raises(InputError) as info:
        schedule.read_schedule_config(path)
    problems = {p.column: p for p in info.value.problems}
    assert set(problems) == {"sources.0.chain.0.channels", "train.engine", "train.api_token"}
    assert problems["sources.0.chain.0.channels"].row == 4
    assert problems["train.engine"].row == 5
    assert all(p.file == str(path) for p in info.value.problems)


def test_source_names_must_be_unique(tmp_path: Path) -> None:
    chain = "    chain: [{kind: synthetic}]\n"
    path = _config(tmp_path, f"sources:\n  - name: a\n{chain}  - name: a\n{chain}")
    with pytest.raises(InputError, match="used twice"):
        schedule.read_schedule_config(path)


def test_interval_days_cover_the_interval_not_its_end() -> None:
    day = schedule.interval_days(dt.datetime(2024, 3, 1, 6), dt.datetime(2024, 3, 2, 6))
    assert day == (dt.date(2024, 3, 1), dt.date(2024, 3, 1))
    week = schedule.interval_days(dt.datetime(2024, 3, 4), dt.datetime(2024, 3, 11))
    assert week == (dt.date(2024, 3, 4), dt.date(2024, 3, 10))


@pytest.mark.warehouse
def test_a_missing_file_falls_back_and_staging_publishes_only_onto_what_it_copied(
    tmp_path: Path,
) -> None:
    pytest.importorskip("duckdb")
    from mediamix.warehouse.store import warehouse_path

    home = tmp_path / "home"
    chain = schedule.SourceChain.model_validate(
        {
            "name": "brand",
            "account": "brand",
            "chain": [
                {"kind": "file", "path": str(tmp_path / "missing.csv")},
                {"kind": "synthetic", "seed": 2, "channels": 2},
            ],
        }
    )
    staged = schedule.stage_ingest(home, "mediamix_ingest/manual__1")
    outcome = schedule.ingest_source(staged, chain, dt.date(2024, 1, 1), dt.date(2024, 3, 31))
    assert outcome["served_by"] == "synthetic"
    assert outcome["skipped"] == [["file", f"no file at {tmp_path / 'missing.csv'}"]]
    assert outcome["status"] == "loaded"
    assert not warehouse_path(home).exists()  # nothing live until publish

    # another run published first: this staged copy is refused, the live file kept
    other = schedule.stage_ingest(home, "other")
    schedule.ingest_source(other, chain, dt.date(2024, 1, 1), dt.date(2024, 1, 31))
    live = schedule.publish_ingest(home, other)
    assert live["tables"]["raw_ad_reporting"] > 0
    before = hashlib.sha256(warehouse_path(home).read_bytes()).hexdigest()
    with pytest.raises(BusyError, match="changed since it was staged"):
        schedule.publish_ingest(home, staged)
    assert hashlib.sha256(warehouse_path(home).read_bytes()).hexdigest() == before


def test_the_delivery_comes_inline_or_from_a_file_and_recipients_join_it(tmp_path: Path) -> None:
    from mediamix.service.schedule import read_schedule_config

    (tmp_path / "delivery.yaml").write_text(
        "email:\n  conn_id: smtp_reports\n  sender: r@example.com\n"
        "  recipients: [cmo@example.com]\n"
        "slack:\n  - {name: team, conn_id: slack_team}\n"
    )
    sources = "sources:\n  - {name: main, chain: [{kind: synthetic}]}\n"
    config = tmp_path / "pipeline.yaml"
    config.write_text(sources + "delivery_file: delivery.yaml\nrecipients: [cfo@example.com]\n")
    delivery = read_schedule_config(config).delivery
    assert delivery is not None
    assert delivery.email is not None
    assert delivery.email.recipients == ["cmo@example.com", "cfo@example.com"]
    assert [t.conn_id for t in delivery.slack] == ["slack_team"]

    config.write_text(sources + "recipients: [cfo@example.com]\n")
    with pytest.raises(InputError) as err:
        read_schedule_config(config)
    problem = err.value.problems[0]
    assert (problem.file, problem.row, problem.column) == (str(config), 3, "recipients")

    config.write_text(sources + "delivery:\n  slack: [{name: team, webhook_env: HOOK}]\n")
    inline = read_schedule_config(config).delivery
    assert inline is not None
    assert [t.webhook_env for t in inline.slack] == ["HOOK"]
    config.write_text(sources + "delivery:\n  slack: [{name: team}]\n")
    with pytest.raises(InputError) as err:
        read_schedule_config(config)
    assert err.value.problems[0].column is not None
    assert err.value.problems[0].column.startswith("delivery.slack.0")
