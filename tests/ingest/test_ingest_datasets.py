"""Kaggle and Hugging Face datasets, offline: saved local copies, local data files, fake APIs.

Hugging Face runs the real ``datasets`` library with ``HF_HUB_OFFLINE=1`` on local
files only; Kaggle runs against a fake ``KaggleApi`` object. A real download from
either hub is not tested (it needs the network and credentials).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from _wh_data import WIDE_SPEC, wide_frame
from mediamix.ingest.base import SourceUnavailableError
from mediamix.ingest.datasets_client import (
    huggingface_downloader,
    kaggle_credentials_hint,
    kaggle_downloader,
)
from mediamix.service.ingest import DatasetRef, ingest_dataset
from mediamix.warehouse.store import Warehouse

pytestmark = pytest.mark.warehouse

datasets = pytest.importorskip("datasets")


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Hugging Face offline mode, as a user sets it before starting mediamix.

    The libraries read the variables when imported (this module imports them first),
    so their constants are set too; otherwise a missing dataset is looked up on the
    network and fails only after the client's retries.
    """
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(WIDE_SPEC)
    return path


def _media_rows(home: Path) -> int:
    with Warehouse.reader(home) as wh:
        return int(wh.query("select count(*) as n from raw_ad_reporting")["n"].iloc[0])


def test_saved_dataset_copy_is_read_back_offline(home: Path, spec: Path, offline: None) -> None:
    folder = home / "datasets" / "huggingface" / "org__weekly-mmm"
    folder.mkdir(parents=True)
    datasets.Dataset.from_pandas(wide_frame()).save_to_disk(str(folder / "weekly"))

    def no_network(_: Path) -> None:
        raise AssertionError("a local copy must be used as it is")

    outcome = ingest_dataset(
        home,
        DatasetRef("huggingface", "org/weekly-mmm", file="weekly", spec=spec),
        downloader=no_network,
    )
    assert outcome.served_by == "huggingface"
    assert outcome.load.media_rows == 30 * 2 * 3  # weeks x geos x channels
    assert _media_rows(home) == 180


def test_saved_dataset_dict_uses_the_split(home: Path, spec: Path, offline: None) -> None:
    folder = home / "datasets" / "huggingface" / "org__splits"
    folder.mkdir(parents=True)
    frame = wide_frame()
    datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_pandas(frame),
            "test": datasets.Dataset.from_pandas(frame.head(4)),
        }
    ).save_to_disk(str(folder / "copy"))
    outcome = ingest_dataset(home, DatasetRef("huggingface", "org/splits", file="copy", spec=spec))
    assert outcome.load.media_rows == 180


def test_huggingface_download_through_load_dataset_then_cached(
    home: Path, spec: Path, offline: None, tmp_path: Path
) -> None:
    source_csv = tmp_path / "upstream.csv"
    wide_frame().to_csv(source_csv, index=False)
    cache_dir = home / "datasets" / "huggingface" / ".cache"
    download = huggingface_downloader(
        "csv", "wide.csv", cache_dir=cache_dir, data_files=str(source_csv)
    )
    first = ingest_dataset(
        home,
        DatasetRef("huggingface", "local/upstream", file="wide.csv", spec=spec),
        downloader=download,
    )
    assert first.served_by == "huggingface"
    assert (home / "datasets" / "huggingface" / "local__upstream" / "wide.csv").is_file()
    assert cache_dir.is_dir()  # the datasets cache lives under MEDIAMIX_HOME

    def no_network(_: Path) -> None:
        raise AssertionError("the cached copy must serve")

    again = ingest_dataset(
        home,
        DatasetRef("huggingface", "local/upstream", file="wide.csv", spec=spec),
        downloader=no_network,
    )
    assert again.load.status == "unchanged"


def test_huggingface_unavailable_offline_is_a_skip(home: Path, spec: Path, offline: None) -> None:
    download = huggingface_downloader(
        "someone/not-cached", "wide.csv", cache_dir=home / "datasets" / ".cache"
    )
    outcome = ingest_dataset(
        home,
        DatasetRef("huggingface", "someone/not-cached", file="wide.csv", spec=spec),
        downloader=download,
        fallback_synthetic=True,
    )
    assert outcome.served_by == "synthetic"
    assert "could not be loaded" in outcome.skipped[0][1]


class FakeKaggle:
    """The part of ``KaggleApi`` the downloader uses."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail
        self.calls: list[tuple[str, str, bool]] = []

    def dataset_download_files(
        self, dataset: str, path: str, unzip: bool = False, quiet: bool = True
    ) -> None:
        self.calls.append((dataset, path, unzip))
        if self.fail is not None:
            raise self.fail
        wide_frame().to_csv(Path(path) / "wide.csv", index=False)


def test_kaggle_download_with_a_fake_api(home: Path, spec: Path) -> None:
    api = FakeKaggle()
    outcome = ingest_dataset(
        home,
        DatasetRef("kaggle", "someone/weekly-mmm", file="wide.csv", spec=spec),
        downloader=kaggle_downloader("someone/weekly-mmm", api=api),
    )
    assert outcome.served_by == "kaggle"
    folder = home / "datasets" / "kaggle" / "someone__weekly-mmm"
    assert api.calls == [("someone/weekly-mmm", str(folder), True)]
    # offline afterwards: the copy serves without the API
    again = ingest_dataset(
        home, DatasetRef("kaggle", "someone/weekly-mmm", file="wide.csv", spec=spec)
    )
    assert again.load.status == "unchanged"


def test_kaggle_api_failure_is_a_skip_with_the_key_redacted(home: Path, spec: Path) -> None:
    api = FakeKaggle(fail=RuntimeError("403 Forbidden for api_key=KGAT-secret"))
    outcome = ingest_dataset(
        home,
        DatasetRef("kaggle", "someone/private", file="wide.csv", spec=spec),
        downloader=kaggle_downloader("someone/private", api=api),
        fallback_synthetic=True,
    )
    assert outcome.served_by == "synthetic"
    why = outcome.skipped[0][1]
    assert "403 Forbidden" in why
    assert "KGAT-secret" not in why


def test_kaggle_without_credentials_never_imports_or_prints(
    home: Path, spec: Path, cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("KAGGLE_API_TOKEN", "KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    imported_before = "kaggle" in sys.modules
    hint = kaggle_credentials_hint()
    assert hint is not None
    assert "KAGGLE_API_TOKEN" in hint
    with pytest.raises(SourceUnavailableError, match="KAGGLE_API_TOKEN"):
        kaggle_downloader("someone/weekly-mmm")(tmp_path)
    run = cli(
        [
            "ingest",
            "kaggle",
            "someone/weekly-mmm",
            "--file",
            "wide.csv",
            "--spec",
            spec,
            "--download",
        ]
    )
    assert run.code == 1
    assert "Kaggle is not configured" in run.err
    assert "Authentication required" not in run.out + run.err
    if not imported_before:
        assert "kaggle" not in sys.modules
    monkeypatch.setenv("KAGGLE_API_TOKEN", "KGAT-x")
    assert kaggle_credentials_hint() is None
