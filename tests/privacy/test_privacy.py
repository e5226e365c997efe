"""Event logs in the warehouse; erasing (art. 17) and exporting (art. 15) users."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mediamix.errors import InputError
from mediamix.service.attribute import WarehouseEvents, attribute
from mediamix.service.privacy import export_users, forget_users, ingest_events, pseudonym
from mediamix.state.audit import service_audit_log, verify
from mediamix.warehouse.store import Warehouse

pytestmark = pytest.mark.warehouse

N_USERS = 50_000


def _event_log(path: Path, n_users: int, seed: int = 0) -> pd.DataFrame:
    """About four touches per user over two months, a quarter of users converting."""
    rng = np.random.default_rng(seed)
    touches = rng.integers(1, 8, n_users)
    users = np.repeat([f"user-{i:06d}" for i in range(n_users)], touches)
    start = np.datetime64("2025-01-01T00:00:00")
    times = start + rng.integers(0, 60 * 24 * 3600, users.size).astype("timedelta64[s]")
    channels = np.array(["tv", "search", "social", "email"])[rng.integers(0, 4, users.size)]
    last = np.r_[users[1:] != users[:-1], True]
    converts = (last & (rng.random(users.size) < 0.25)).astype(int)
    frame = pd.DataFrame(
        {
            "user_id": users,
            "timestamp": pd.Series(times).dt.strftime("%Y-%m-%dT%H:%M:%S"),
            "channel": channels,
            "conversion": converts,
            "conversion_value": np.round(converts * rng.uniform(10, 200, users.size), 2),
        }
    )
    frame.to_csv(path, index=False)
    return frame


def _rows_holding(home: Path, ids: set[str]) -> int:
    """Rows of any text column of any table that hold one of ``ids``."""
    found = 0
    with Warehouse.reader(home) as wh:
        columns = wh.query(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'main' and data_type = 'VARCHAR'"
        )
        wh.con.register("ids", pd.DataFrame({"v": sorted(ids)}))
        for table, column in columns.itertuples(index=False):
            found += int(
                wh.con.execute(
                    f'select count(*) from "{table}" where "{column}" in (select v from ids)'
                ).fetchone()[0]
            )
    return found


def test_forget_removes_every_row_and_aggregates_equal_a_rebuild(tmp_path: Path) -> None:
    home = tmp_path / "home"
    log = _event_log(tmp_path / "events.csv", N_USERS)
    load = ingest_events(home, tmp_path / "events.csv")
    assert load.rows == len(log)
    assert load.users == N_USERS

    # attribution on the warehouse's events builds the same journeys as on the file
    before = attribute(WarehouseEvents(home), "all")
    pd.testing.assert_frame_equal(before, attribute(tmp_path / "events.csv", "all"))
    with Warehouse.reader(home) as wh:
        tables_before = set(wh.tables())

    forgotten = [f"user-{i:06d}" for i in range(0, N_USERS, N_USERS // 100)]
    assert len(forgotten) == 100
    assert _rows_holding(home, set(forgotten)) > 0
    deleted = forget_users(home, forgotten)
    expected = int(log["user_id"].isin(forgotten).sum())
    assert deleted == {"raw_events": expected}
    assert _rows_holding(home, set(forgotten)) == 0

    # the aggregates equal a warehouse built from scratch without those users
    kept = log[~log["user_id"].isin(forgotten)]
    kept.to_csv(tmp_path / "kept.csv", index=False)
    ingest_events(tmp_path / "fresh", tmp_path / "kept.csv")
    query = "select * from event_channel_daily order by all"
    with Warehouse.reader(home) as wh:
        after = wh.query(query)
    with Warehouse.reader(tmp_path / "fresh") as wh:
        rebuilt = wh.query(query)
    pd.testing.assert_frame_equal(after, rebuilt)

    # attribution re-run after the erasure equals attribution on the fresh warehouse,
    # and it changed: the forgotten users' conversions are gone
    attributed = attribute(WarehouseEvents(home), "all")
    pd.testing.assert_frame_equal(attributed, attribute(WarehouseEvents(tmp_path / "fresh"), "all"))
    gone = int(log.loc[log["user_id"].isin(forgotten), "conversion"].sum())
    assert gone > 0
    assert before["last_touch_conversions"].sum() - attributed[
        "last_touch_conversions"
    ].sum() == pytest.approx(gone)
    with Warehouse.reader(home) as wh:  # attribution stored no journeys or other tables
        assert set(wh.tables()) == tables_before

    # a second erasure is a no-op; both are audited with counts, never ids
    assert forget_users(home, forgotten) == {"raw_events": 0}
    pd.testing.assert_frame_equal(attribute(WarehouseEvents(home), "all"), attributed)
    audit = service_audit_log(home)
    assert verify(audit.path).ok
    text = audit.path.read_text()
    assert text.count('"privacy.forget"') == 2
    assert "user-0" not in text


def test_export_pseudonyms_and_bad_input(tmp_path: Path) -> None:
    home = tmp_path / "home"
    log = _event_log(tmp_path / "events.csv", 200, seed=1)
    key = "a-secret-from-the-environment"
    ingest_events(home, tmp_path / "events.csv", pseudonymize_key=key)
    assert _rows_holding(home, set(log["user_id"])) == 0  # raw ids never stored

    counts = export_users(home, ["user-000007"], tmp_path / "out.json", pseudonymize_key=key)
    doc = json.loads((tmp_path / "out.json").read_text())
    assert counts == {"raw_events": int((log["user_id"] == "user-000007").sum())}
    assert {r["user_id"] for r in doc["raw_events"]} == {pseudonym("user-000007", key)}
    assert forget_users(home, ["user-000007"], pseudonymize_key=key)["raw_events"] > 0
    assert export_users(home, ["user-000007"], tmp_path / "none.json", pseudonymize_key=key) == {}

    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,timestamp,channel,conversion\nu1,yesterday,tv,0\n")
    with pytest.raises(InputError) as err:
        ingest_events(tmp_path / "other", bad)
    assert any(p.column == "timestamp" and p.row is not None for p in err.value.problems)
    assert not (tmp_path / "other").exists()
    with pytest.raises(InputError):
        forget_users(home, [" "])


def test_cli_ingest_forget_export_and_exit_2(tmp_path: Path, run_cli, monkeypatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("MEDIAMIX_HOME", str(home))
    monkeypatch.setenv("MEDIAMIX_PSEUDONYMIZE_KEY", "k")
    _event_log(tmp_path / "events.csv", 50, seed=2)
    run = run_cli(["ingest", "events", tmp_path / "events.csv"])
    assert run.code == 0, run.err
    assert "ids pseudonymized" in run.out
    run = run_cli(["privacy", "export", "--user-id", "user-000003", "--out", tmp_path / "me.json"])
    assert run.code == 0, run.err
    assert json.loads((tmp_path / "me.json").read_text())["raw_events"]
    run = run_cli(["privacy", "forget", "--user-id", "user-000003", "--user-id", "user-000004"])
    assert run.code == 0, run.err
    assert "deleted" in run.out
    run = run_cli(
        ["attribute", "--from-warehouse", "--method", "last_touch", "--out", tmp_path / "a.csv"]
    )
    assert run.code == 0, run.err
    kept = pd.read_csv(tmp_path / "events.csv")
    kept = kept[~kept["user_id"].isin(["user-000003", "user-000004"])]
    assert pd.read_csv(tmp_path / "a.csv")["conversions"].sum() == kept["conversion"].sum()
    run = run_cli(["attribute", tmp_path / "events.csv", "--from-warehouse"])
    assert run.code == 2
    assert "not both" in run.err
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,channel\nu1,tv\n")
    run = run_cli(["ingest", "events", bad])
    assert run.code == 2
    assert "timestamp" in run.err


_FORGET = """
import sys
from mediamix.service.privacy import forget_users
print("start", flush=True)
forget_users(sys.argv[1], [f"user-{i:06d}" for i in range(0, 200_000, 3)])
print("done", flush=True)
"""


@pytest.mark.slow
def test_killed_forget_deletes_everything_or_nothing(tmp_path: Path) -> None:
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import time

    prepared = tmp_path / "prepared"
    log = _event_log(tmp_path / "events.csv", 200_000, seed=3)
    ingest_events(prepared, tmp_path / "events.csv")
    forgotten = {f"user-{i:06d}" for i in range(0, 200_000, 3)}
    total, asked = len(log), int(log["user_id"].isin(forgotten).sum())
    rng = np.random.default_rng(4)
    outcomes = []
    for attempt in range(4):
        home = tmp_path / f"home{attempt}"
        shutil.copytree(prepared, home)
        proc = subprocess.Popen(
            [sys.executable, "-c", _FORGET, str(home)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "start"
        time.sleep(float(rng.uniform(0.0, 0.6)))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        with Warehouse.reader(home) as wh:
            left = int(wh.query("select count(*) as n from raw_events")["n"][0])
            aggregate = wh.query("select sum(touches) as n from event_channel_daily")["n"][0]
        assert left in (total, total - asked), (attempt, left)  # all or nothing
        assert int(aggregate) == left  # the aggregate matches what is left
        outcomes.append(left == total - asked)
    # the kill points are random: report which way each run went, never a partial one
    assert len(outcomes) == 4, outcomes
