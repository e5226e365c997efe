"""MEDIAMIX_STORAGE_URI: fit, report and ingest publish to S3; commands read s3:// models.

Everything runs against the moto server on loopback (conftest). One CLI fit per
module is the stored model the other tests read.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from _aws_helpers import make_bucket

from mediamix.aws.clients import AwsConfig
from mediamix.aws.s3store import S3Store
from mediamix.aws.storage import StorageConfig
from mediamix.errors import InputError

BUCKET = "mediamix-setting"
ROOT = f"s3://{BUCKET}/team"


def _cli(args: Sequence[object]) -> tuple[int, str]:
    """Run ``mediamix ARGS`` in-process (module fixtures cannot use capsys)."""
    from mediamix.cli import app as cli_app

    buffer = io.StringIO()
    cli_app.out_console.file = buffer  # type: ignore[assignment]
    code = 0
    try:
        with contextlib.redirect_stdout(buffer), pytest.raises(SystemExit) as exc:
            cli_app.main([str(a) for a in args])
        code = exc.value.code if isinstance(exc.value.code, int) else 1
    finally:
        cli_app.out_console.file = None  # type: ignore[assignment]
    return code, buffer.getvalue()


@pytest.fixture(scope="module")
def setting(
    moto_endpoint: str, aws: AwsConfig, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """The store setting in the environment, a home, synthetic data and one CLI fit."""
    make_bucket(aws, BUCKET)
    root = tmp_path_factory.mktemp("setting")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MEDIAMIX_STORAGE_URI", ROOT)
        env.setenv("MEDIAMIX_HOME", str(root / "home"))
        env.setenv("MEDIAMIX_TRACKING", "false")
        code, _ = _cli(["synth", "--out", root / "data", "--seed", "7", "--weeks", "60",
                        "--channels", "2"])  # fmt: skip
        assert code == 0
        code, out = _cli(["fit", root / "data" / "spec.yaml", "--out", root / "brand-a"])
        assert code == 0, out
        yield {"root": root, "fit": root / "brand-a", "fit_out": out, "aws": aws}


def _store(aws: AwsConfig) -> S3Store:
    return S3Store(ROOT, aws)


def _keys(store: S3Store, *parts: str) -> list[str]:
    return store._keys(store.root.key(*parts) + "/")


def test_fit_publishes_one_version_with_sse_on_every_object(setting: dict[str, Any]) -> None:
    store = _store(setting["aws"])
    versions = store.versions("models", "brand-a")
    assert len(versions) == 1
    assert f"published {ROOT}/models/brand-a/{versions[0]}" in setting["fit_out"]
    doc = store.manifest("models", "brand-a", versions[0])
    local = sorted(p.relative_to(setting["fit"]).as_posix() for p in setting["fit"].rglob("*")
                   if p.is_file())  # fmt: skip
    assert sorted(doc["files"]) == local  # the local working copy is what was published
    keys = _keys(store, "models", "brand-a")
    assert len(keys) == len(local) + 1  # the files and the manifest, no orphans
    for key in keys:
        head = store.client.head_object(Bucket=BUCKET, Key=key)
        assert head["ServerSideEncryption"] == "AES256", key


def _fail_puts_after(monkeypatch: pytest.MonkeyPatch, after: int) -> None:
    """Every S3 client made from now on dies on its ``after``-th put (a lost network)."""
    seen = {"n": 0}
    original = AwsConfig.client

    def hook(**_: Any) -> None:
        seen["n"] += 1
        if seen["n"] > after:
            raise ConnectionError("network lost mid-upload")

    def client(self: AwsConfig, service: str) -> Any:
        made = original(self, service)
        if service == "s3":
            made.meta.events.register("before-call.s3.PutObject", hook)
        return made

    monkeypatch.setattr(AwsConfig, "client", client)


def test_interrupted_fit_publishes_nothing_and_writes_nothing(
    setting: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mediamix.service.fit import fit
    from mediamix.service.storage import Publication

    storage = StorageConfig(uri=ROOT, aws=setting["aws"])
    _fail_puts_after(monkeypatch, 2)  # two files land, then the upload dies
    with pytest.raises(ConnectionError):
        fit(
            setting["root"] / "data" / "spec.yaml",
            tmp_path / "cut",
            {"ridge": {"candidates": 40, "bootstrap": 0}},
            publish=Publication(storage),
        )
    store = _store(setting["aws"])
    assert store.versions("models", "cut") == []
    assert len(store.orphans("models", "cut")) == 2  # uploaded, named by no manifest
    assert not (tmp_path / "cut").exists()  # the local folder is not written either


def test_failed_fit_publishes_nothing(setting: dict[str, Any], tmp_path: Path) -> None:
    from mediamix.service.fit import fit
    from mediamix.service.storage import Publication

    spec = tmp_path / "spec.yaml"
    doc = (setting["root"] / "data" / "spec.yaml").read_text()
    spec.write_text(doc.replace("synth.csv", str(setting["root"] / "data" / "missing.csv")))
    with pytest.raises(InputError):
        fit(spec, tmp_path / "never", publish=Publication(StorageConfig(ROOT, setting["aws"])))
    assert _store(setting["aws"]).names("models") == ["brand-a"]


def test_bad_store_name_is_refused_before_fitting(
    setting: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = _cli(["fit", setting["root"] / "data" / "spec.yaml", "--out", tmp_path / "x",
                    "--name", "no spaces"])  # fmt: skip
    assert code == 2
    assert "--name" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_optimize_on_the_stored_model_gives_the_local_plan(
    setting: dict[str, Any], tmp_path: Path
) -> None:
    budget = ["--budget", "50000"]
    local, remote = tmp_path / "local.json", tmp_path / "remote.json"
    assert _cli(["optimize", "--model", setting["fit"], *budget, "--out", local])[0] == 0
    ref = f"{ROOT}/models/brand-a"
    assert _cli(["optimize", "--model", ref, *budget, "--out", remote])[0] == 0
    assert json.loads(remote.read_text()) == json.loads(local.read_text())


def test_tampered_object_is_refused_with_exit_2(
    setting: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    aws = setting["aws"]
    store = _store(aws)
    version = store.publish("models", "tampered", setting["fit"])
    key = store.manifest("models", "tampered", version)["files"]["model/model.json"]["key"]
    body = store.client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    store.client.put_object(Bucket=BUCKET, Key=key, Body=body.replace(b"tv", b"TV", 1))
    plan = tmp_path / "plan.json"
    code, _ = _cli(["optimize", "--model", f"{ROOT}/models/tampered", "--budget", "1000",
                    "--out", plan])  # fmt: skip
    assert code == 2
    assert f"s3://{BUCKET}/{key}" in capsys.readouterr().err  # names the object
    assert not plan.exists()
    cache = setting["root"] / "home" / "cache" / "s3"
    assert not list(cache.rglob("tampered/*"))  # nothing left in the cache


def test_altered_cached_copy_is_fetched_again(setting: dict[str, Any], tmp_path: Path) -> None:
    from mediamix.service.storage import fetch_model

    storage = StorageConfig(ROOT, setting["aws"], cache=tmp_path / "cache")
    version = _store(setting["aws"]).latest("models", "brand-a")
    first = fetch_model(f"store:brand-a/{version}", storage)
    assert first.name == version
    summary = first / "summary.json"
    original = summary.read_bytes()
    summary.write_text("{}")
    again = fetch_model("store:brand-a", storage)
    assert again == first
    assert summary.read_bytes() == original


def test_report_on_a_stored_model_lands_on_s3(setting: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "board"
    code, text = _cli(["report", "store:brand-a", "--out", out])
    assert code == 0, text
    store = _store(setting["aws"])
    versions = store.versions("reports", "board")
    assert len(versions) == 1
    assert f"published {ROOT}/reports/board/{versions[0]}" in text
    fetched = store.fetch("reports", "board", tmp_path / "copy")
    assert (fetched / "report.html").read_bytes() == (out / "report.html").read_bytes()
    assert {"report.html", "report.json"} <= set(store.manifest("reports", "board", versions[0])
                                                 ["files"])  # fmt: skip
    for key in _keys(store, "reports", "board"):
        assert store.client.head_object(Bucket=BUCKET, Key=key)["ServerSideEncryption"]


def test_ingest_publishes_the_raw_landing_file_once(setting: dict[str, Any]) -> None:
    args = ["ingest", "synthetic", "--seed", "3", "--weeks", "30", "--channels", "2"]
    assert _cli(args)[0] == 0
    store = _store(setting["aws"])
    assert store.names("landing") == ["raw.synthetic.seed-3"]
    (version,) = store.versions("landing", "raw.synthetic.seed-3")
    (rel,) = store.manifest("landing", "raw.synthetic.seed-3", version)["files"]
    home = setting["root"] / "home"
    local = home / rel
    assert rel.startswith("raw/synthetic/seed-3/")
    assert local.is_file()
    assert local.name.startswith(version)  # the version is the file's fingerprint
    assert _cli(args)[0] == 0  # the same content again: nothing new to publish
    assert store.versions("landing", "raw.synthetic.seed-3") == [version]
    assert len(_keys(store, "landing", "raw.synthetic.seed-3")) == 2


def test_unknown_stored_model_is_a_clear_error(
    setting: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = _cli(["decompose", "store:nobody", "--out", tmp_path / "never.csv"])
    assert code == 2
    assert "no published version" in capsys.readouterr().err
    assert not (tmp_path / "never.csv").exists()


def test_only_raw_landing_files_of_the_home_are_published(tmp_path: Path) -> None:
    from mediamix.service.storage import publish_landing

    stray = tmp_path / "elsewhere" / "2024-01-01_2024-01-07_0123456789ab.parquet"
    stray.parent.mkdir()
    stray.write_bytes(b"x")
    storage = StorageConfig(uri=ROOT)
    with pytest.raises(InputError, match="not a raw landing file of this home"):
        publish_landing(storage, tmp_path / "home", stray)


def test_python_api_loads_a_stored_model(
    setting: dict[str, Any], moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mediamix

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)  # boto3's own setting
    home = setting["root"] / "py-home"
    result = mediamix.load_model(f"{ROOT}/models/brand-a", home=home)
    assert result.channel_names == mediamix.load_model(setting["fit"]).channel_names
    assert list((home / "cache" / "s3").rglob("manifest.json"))
