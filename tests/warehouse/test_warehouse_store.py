"""The warehouse store: landing, upsert, validation, the writer lock, crash safety.

No dbt here: these tests are fast.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from _wh_data import long_frame
from mediamix.errors import BusyError, InputError
from mediamix.warehouse.store import Warehouse, hold_lock

pytestmark = pytest.mark.warehouse

HERE = Path(__file__).parent


def _state(home: Path) -> tuple[dict[str, str], list[str]]:
    """Checksums of every table and the list of landed raw files."""
    with Warehouse.reader(home) as wh:
        sums = wh.checksums()
    raw = sorted(str(p.relative_to(home)) for p in (home / "raw").rglob("*") if p.is_file())
    return sums, raw


def test_load_lands_raw_file_and_log(home: Path) -> None:
    frame = long_frame()
    with Warehouse.writer(home) as wh:
        load = wh.load_batch("meta", "act_1", frame)
        rows = wh.query("select count(*) as n, sum(spend) as s from raw_ad_reporting")
        log = wh.query("select * from load_log")
    assert load.status == "loaded"
    assert (str(load.period_start), str(load.period_end)) == ("2023-01-02", "2023-01-22")
    assert int(rows["n"][0]) == len(frame)
    assert float(rows["s"][0]) == pytest.approx(frame["spend"].sum(), rel=1e-12)
    assert len(log) == 1
    assert log["sha256"][0] == load.sha256
    assert log["media_rows"][0] == len(frame)
    # the immutable raw file: named by content, with the load metadata inside
    assert load.raw_path.is_file()
    assert load.raw_path.name == f"2023-01-02_2023-01-22_{load.sha256[:12]}.parquet"
    meta = pq.read_schema(load.raw_path).metadata
    assert meta[b"mediamix.source"] == b"meta"
    assert meta[b"mediamix.media_rows"] == str(len(frame)).encode()
    assert meta[b"mediamix.content_sha256"] == load.sha256.encode()
    assert pq.read_table(load.raw_path).num_rows == len(frame)


def test_same_content_is_a_noop_and_new_content_replaces(home: Path) -> None:
    frame = long_frame()
    with Warehouse.writer(home) as wh:
        first = wh.load_batch("meta", "act_1", frame)
        again = wh.load_batch("meta", "act_1", frame.sample(frac=1.0, random_state=3))
        assert again.status == "unchanged"  # row order does not change the content
        assert again.sha256 == first.sha256
        changed = frame.copy()
        changed.loc[0, "spend"] = 999.0
        replaced = wh.load_batch("meta", "act_1", changed)
        assert replaced.status == "loaded"
        assert replaced.replaced_rows == len(frame)
        total = wh.query("select count(*) as n, sum(spend) as s from raw_ad_reporting")
        n_logs = len(wh.query("select * from load_log"))
    assert int(total["n"][0]) == len(frame)  # replaced, not appended
    assert float(total["s"][0]) == pytest.approx(changed["spend"].sum(), rel=1e-12)
    assert n_logs == 2


def test_reload_of_a_sub_period_replaces_only_that_period(home: Path) -> None:
    frame = long_frame(days=21)
    week2 = frame[frame["date_day"].between("2023-01-09", "2023-01-15")].copy()
    week2["spend"] = 1.0
    with Warehouse.writer(home) as wh:
        wh.load_batch("meta", "act_1", frame)
        wh.load_batch("meta", "act_1", week2, "2023-01-09", "2023-01-15")
        out = wh.query("select date_day, spend from raw_ad_reporting")
    assert len(out) == len(frame)
    inside = out["date_day"].between(pd.Timestamp("2023-01-09"), pd.Timestamp("2023-01-15"))
    assert (out.loc[inside, "spend"] == 1.0).all()
    outside = frame[~frame["date_day"].between("2023-01-09", "2023-01-15")]
    assert out.loc[~inside, "spend"].sum() == pytest.approx(outside["spend"].sum(), rel=1e-12)


def test_bad_rows_are_all_named_and_nothing_changes(home: Path) -> None:
    good = long_frame()
    with Warehouse.writer(home) as wh:
        wh.load_batch("meta", "act_1", good)
    before = _state(home)
    bad = good.astype(str)
    bad.loc[2, "spend"] = "-5"
    bad.loc[4, "date_day"] = "04/01/2023"
    bad.loc[6, "currency_code"] = "dollars"
    bad.loc[7, "clicks"] = "many"
    with Warehouse.writer(home) as wh, pytest.raises(InputError) as caught:
        wh.load_batch("meta", "act_1", bad, origin="bad.csv")
    found = {(p.row, p.column) for p in caught.value.problems}
    assert found == {(3, "spend"), (5, "date_day"), (7, "currency_code"), (8, "clicks")}
    assert all(p.file == "bad.csv" for p in caught.value.problems)
    assert _state(home) == before


def test_rows_outside_the_period_and_duplicates_are_errors(home: Path) -> None:
    frame = long_frame(days=7)
    with Warehouse.writer(home) as wh:
        with pytest.raises(InputError) as outside:
            wh.load_batch("meta", "act_1", frame, "2023-01-02", "2023-01-05")
        assert outside.value.problems[0].column == "date_day"
        assert outside.value.problems[0].row == 9  # 2023-01-06, first campaign
        doubled = pd.concat([frame, frame.iloc[[3]]], ignore_index=True)
        with pytest.raises(InputError, match="one row per date_day"):
            wh.load_batch("meta", "act_1", doubled)
        assert wh.query("select count(*) as n from load_log")["n"][0] == 0


def test_second_writer_gets_busy(home: Path) -> None:
    with (
        Warehouse.writer(home),
        pytest.raises(BusyError, match=r"warehouse is busy: .*retry later"),
        Warehouse.writer(home),
    ):
        pass  # pragma: no cover
    with Warehouse.writer(home):  # released: opens again
        pass


def test_writer_in_another_process_makes_cli_exit_1(home: Path, cli, wide_files) -> None:
    home.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from mediamix.warehouse.store import hold_lock\n"
            "with hold_lock(sys.argv[1]):\n"
            "    print('held', flush=True)\n"
            "    time.sleep(60)\n",
            str(home),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        data, spec = wide_files
        run = cli(["ingest", "csv", data, "--spec", spec])
        assert run.code == 1
        assert "warehouse is busy" in run.err
        assert f"pid {holder.pid}" in run.err
        assert "retry later" in run.err
    finally:
        holder.kill()
        holder.wait()
    with hold_lock(home):  # the lock died with the process
        pass


def test_kill_9_mid_load_leaves_no_partial_batch(home: Path, tmp_path: Path) -> None:
    first = long_frame()
    with Warehouse.writer(home) as wh:
        wh.load_batch("meta", "act_1", first)
    before = _state(home)[0]
    marker = tmp_path / "in-transaction"
    proc = subprocess.Popen([sys.executable, str(HERE / "_crash_load.py"), str(home), str(marker)])
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, "the loading process ended before the commit point"
            assert time.monotonic() < deadline, "the loading process never reached the commit"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # the warehouse opens (for writing too: the lock died with the process)
    with Warehouse.writer(home) as wh:
        crashed = wh.query(
            "select count(*) as n from raw_ad_reporting where source_account = 'crash'"
        )
        logs = wh.query("select source_account from load_log")
        assert int(crashed["n"][0]) == 0
        assert list(logs["source_account"]) == ["act_1"]
        assert wh.checksums() == before
        # and a later load still works
        assert wh.load_batch("meta", "act_2", first).status == "loaded"


def test_reader_while_another_process_writes_gets_busy(home: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from mediamix.warehouse.store import Warehouse\n"
            "with Warehouse.writer(sys.argv[1]):\n"
            "    print('open', flush=True)\n"
            "    time.sleep(60)\n",
            str(home),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(BusyError, match="retry later"), Warehouse.reader(home):
            pass  # pragma: no cover
    finally:
        holder.kill()
        holder.wait()
    with Warehouse.reader(home) as wh:
        assert "load_log" in wh.tables()


def test_dbt_project_files_are_shipped_as_package_data() -> None:
    import tomllib

    from mediamix.warehouse.transform import PROJECT_DIR

    pyproject = tomllib.loads((HERE.parents[1] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["mediamix"]
    shipped = {p.removeprefix("**/*") for p in patterns if p.startswith("**/*")}
    files = [p for p in PROJECT_DIR.rglob("*") if p.is_file()]
    assert (PROJECT_DIR / "dbt_project.yml") in files
    assert all(p.suffix in shipped for p in files), [
        p.name for p in files if p.suffix not in shipped
    ]
