"""The S3 store against a moto server: atomic versions, SSE on every put, verified reads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from _aws_helpers import make_bucket

from mediamix.aws.clients import AwsConfig
from mediamix.aws.s3store import S3Store
from mediamix.errors import InputError


@pytest.fixture(scope="module")
def store(aws: AwsConfig) -> S3Store:
    return S3Store(f"s3://{make_bucket(aws, 'mediamix-store')}/prod", aws)


def _all_keys(store: S3Store) -> list[str]:
    return store._keys(store.root.prefix)


def test_publish_then_fetch_round_trip(store: S3Store, fitted: Path, tmp_path: Path) -> None:
    version = store.publish("models", "brand-a", fitted)
    assert store.versions("models", "brand-a")[-1] == version
    assert "brand-a" in store.names("models")
    out = store.fetch("models", "brand-a", tmp_path / "copy")
    for path in fitted.rglob("*"):
        if path.is_file():
            assert (out / path.relative_to(fitted)).read_bytes() == path.read_bytes()
    from mediamix.service.fit import load_model

    assert load_model(out).channel_names == ("tv", "search")


def test_every_put_requests_sse_s3(store: S3Store, fitted: Path) -> None:
    store.publish("reports", "weekly", fitted)
    keys = [k for k in _all_keys(store) if "/reports/weekly/" in k]
    assert len(keys) >= 5  # four files and the manifest
    for key in keys:
        head = store.client.head_object(Bucket=store.root.bucket, Key=key)
        assert head["ServerSideEncryption"] == "AES256", key


def test_kms_key_by_setting(aws: AwsConfig, fitted: Path) -> None:
    key_id = aws.client("kms").create_key(Description="mediamix test")["KeyMetadata"]["KeyId"]
    config = AwsConfig(region=aws.region, endpoint_url=aws.endpoint_url, kms_key_id=key_id)
    store = S3Store(f"s3://{make_bucket(aws, 'mediamix-kms')}/p", config)
    store.publish("landing", "weekly", fitted)
    keys = _all_keys(store)
    assert keys
    for key in keys:
        head = store.client.head_object(Bucket=store.root.bucket, Key=key)
        assert head["ServerSideEncryption"] == "aws:kms", key
        assert key_id in head["SSEKMSKeyId"], key


def _fail_on_put(store: S3Store, after: int) -> None:
    """Make the client raise on its ``after``-th object upload (a dying uploader)."""
    seen = {"n": 0}

    def hook(**_: Any) -> None:
        seen["n"] += 1
        if seen["n"] > after:
            raise ConnectionError("network lost mid-upload")

    store.client.meta.events.register("before-call.s3.PutObject", hook, unique_id="fail-put")


def test_interrupted_upload_leaves_no_visible_version(
    aws: AwsConfig, fitted: Path, tmp_path: Path
) -> None:
    store = S3Store(f"s3://{make_bucket(aws, 'mediamix-cut')}/p", aws)
    first = store.publish("models", "m", fitted)
    _fail_on_put(store, after=2)  # two of four files land, then the upload dies
    with pytest.raises(ConnectionError):
        store.publish("models", "m", fitted)
    store.client.meta.events.unregister("before-call.s3.PutObject", unique_id="fail-put")
    assert store.versions("models", "m") == [first]
    assert len(store.orphans("models", "m")) == 2  # uploaded, but named by no manifest
    out = store.fetch("models", "m", tmp_path / "latest")
    assert (out / "model" / "manifest.json").is_file()


def test_first_upload_interrupted_leaves_nothing_to_read(aws: AwsConfig, fitted: Path) -> None:
    store = S3Store(f"s3://{make_bucket(aws, 'mediamix-cut2')}/p", aws)
    _fail_on_put(store, after=4)  # every file lands, the manifest does not
    with pytest.raises(ConnectionError):
        store.publish("models", "m", fitted)
    assert store.versions("models", "m") == []
    assert store.names("models") == []
    with pytest.raises(InputError, match="no published version"):
        store.latest("models", "m")


def test_tampered_object_is_refused(store: S3Store, fitted: Path, tmp_path: Path) -> None:
    version = store.publish("models", "tamper", fitted)
    manifest = store.manifest("models", "tamper", version)
    key = manifest["files"]["model/arrays.npz"]["key"]
    store.client.put_object(Bucket=store.root.bucket, Key=key, Body=b"PK\x03\x04 not the model")
    with pytest.raises(InputError) as caught:
        store.fetch("models", "tamper", tmp_path / "out")
    assert key in str(caught.value)
    assert not (tmp_path / "out").exists()  # nothing written


def test_tampered_model_with_rewritten_manifest_fails_artifact_checks(
    store: S3Store, fitted: Path, tmp_path: Path
) -> None:
    """Whoever rewrites the version manifest too still meets the safe-artifact checks."""
    bad = tmp_path / "bad"
    shutil.copytree(fitted, bad)
    meta = json.loads((bad / "model" / "model.json").read_text())
    meta["intercept_note"] = "changed after saving"
    (bad / "model" / "model.json").write_text(json.dumps(meta))
    store.publish("models", "rewritten", bad)  # consistent version hashes, stale artifact hash
    with pytest.raises(InputError, match=r"checksum mismatch for model\.json"):
        store.fetch("models", "rewritten", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_manifest_pointing_outside_its_version_is_refused(
    store: S3Store, fitted: Path, tmp_path: Path
) -> None:
    version = store.publish("landing", "evil", fitted)
    base = store.root.key("landing", "evil")
    key = f"{base}/versions/{version}.json"
    doc = store.manifest("landing", "evil", version)
    doc["files"] = {"../../escape.txt": next(iter(doc["files"].values()))}
    store.client.put_object(Bucket=store.root.bucket, Key=key, Body=json.dumps(doc).encode())
    with pytest.raises(InputError, match="leaves the version folder"):
        store.fetch("landing", "evil", tmp_path / "out")
    doc["files"] = {"a.txt": {"key": "other/secret", "sha256": "0" * 64, "size": 1}}
    store.client.put_object(Bucket=store.root.bucket, Key=key, Body=json.dumps(doc).encode())
    with pytest.raises(InputError, match="points outside"):
        store.fetch("landing", "evil", tmp_path / "out")


def test_bad_names_and_uris_are_input_errors(
    store: S3Store, aws: AwsConfig, tmp_path: Path
) -> None:
    with pytest.raises(InputError, match="unknown store"):
        store.versions("secrets", "x")
    with pytest.raises(InputError, match="name"):
        store.versions("models", "../x")
    with pytest.raises(InputError, match="not an S3 URI"):
        S3Store("file:///tmp", aws)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="empty"):
        store.publish("models", "x", tmp_path / "empty")
