"""An encrypted warehouse: every command works with the key, nothing opens without it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from pydantic import SecretStr

from mediamix.errors import InputError
from mediamix.warehouse.crypto import (
    SEALED_SUFFIX,
    WarehouseKey,
    connect_database,
    open_sealed,
    use_key_source,
)
from mediamix.warehouse.store import Warehouse, warehouse_path

pytestmark = pytest.mark.warehouse

KEY = "correct horse battery staple"  # pragma: allowlist secret -- a fake key of the tests


def _httpfs_loadable() -> bool:
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("load httpfs")
    except duckdb.Error:
        return False
    finally:
        con.close()
    return True


@pytest.fixture(autouse=True)
def _no_key_source_left_behind():
    yield
    use_key_source(None)


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch, home: Path) -> Path:
    monkeypatch.setenv("MEDIAMIX_WAREHOUSE_KEY", KEY)
    if not _httpfs_loadable():
        # DuckDB writes encrypted files only with httpfs's OpenSSL module; without the
        # extension on this machine the tests accept the built-in module explicitly
        monkeypatch.setenv("MEDIAMIX_WAREHOUSE_BUILTIN_CRYPTO", "true")
    return home


def _events(path: Path) -> None:
    rows = []
    for user in range(40):
        for step, channel in enumerate(["search", "social", "email"][: 1 + user % 3]):
            rows.append(
                {
                    "user_id": f"person-{user:03d}",
                    "timestamp": f"2025-02-{1 + step:02d}T10:00:00",
                    "channel": channel,
                    "conversion": int(step == user % 3 and user % 2 == 0),
                }
            )
    pd.DataFrame(rows).to_csv(path, index=False)


def test_every_command_works_with_the_key_and_nothing_without(
    keyed: Path, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = keyed
    run = cli(["ingest", "synthetic", "--seed", "3", "--weeks", "60", "--channels", "2"])
    assert run.code == 0, run.err
    _events(tmp_path / "events.csv")
    run = cli(["ingest", "events", tmp_path / "events.csv"])
    assert run.code == 0, run.err
    run = cli(["transform", "--export", tmp_path / "export"])
    assert run.code == 0, run.err

    # fit from the mart: the exported spec, reading the warehouse directly
    spec = yaml.safe_load((tmp_path / "export" / "spec.yaml").read_text())
    spec["data"] = "warehouse"
    (tmp_path / "export" / "warehouse.yaml").write_text(yaml.safe_dump(spec))
    run = cli(["fit", tmp_path / "export" / "warehouse.yaml", "--out", tmp_path / "fit"])
    assert run.code == 0, run.err
    assert json.loads((tmp_path / "fit" / "summary.json").read_text())["n_periods"] > 0

    run = cli(["privacy", "export", "--user-id", "person-004", "--out", tmp_path / "p.json"])
    assert run.code == 0, run.err
    exported = json.loads((tmp_path / "p.json").read_text())
    assert exported["raw_events"]
    run = cli(["privacy", "forget", "--user-id", "person-004"])
    assert run.code == 0, run.err
    # attribution on the encrypted event log: 20 converting users, one erased
    out = ["--method", "last_touch", "--out", tmp_path / "attribution.csv"]
    run = cli(["attribute", "--from-warehouse", *out])
    assert run.code == 0, run.err
    assert pd.read_csv(tmp_path / "attribution.csv")["conversions"].sum() == 19

    # at rest: neither the database nor the landing files hold the data in clear
    database = warehouse_path(home).read_bytes()
    assert b"person-0" not in database
    assert b"raw_ad_reporting" not in database
    landed = sorted((home / "raw").rglob("*"))
    landed = [p for p in landed if p.is_file()]
    assert landed
    assert all(p.name.endswith(SEALED_SUFFIX) for p in landed)
    for path in landed:
        assert not path.read_bytes().startswith(b"PAR1")
        clear = open_sealed(path.read_bytes(), WarehouseKey(SecretStr(KEY)), label=path.name)
        assert clear.startswith(b"PAR1")

    # the key itself is written nowhere (dbt's profile names a variable; logs, manifests)
    for path in home.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path

    # without the key, or with another, nothing opens: a clear error, exit 2
    monkeypatch.delenv("MEDIAMIX_WAREHOUSE_KEY")
    run = cli(["privacy", "export", "--user-id", "person-005", "--out", tmp_path / "q.json"])
    assert run.code == 2
    assert "the warehouse is encrypted: set MEDIAMIX_WAREHOUSE_KEY" in run.err
    assert not (tmp_path / "q.json").exists()
    run = cli(["attribute", "--from-warehouse"])
    assert run.code == 2
    assert "the warehouse is encrypted" in run.err
    run = cli(["ingest", "synthetic", "--seed", "4", "--weeks", "60", "--channels", "2"])
    assert run.code == 2
    assert "encrypted" in run.err
    monkeypatch.setenv("MEDIAMIX_WAREHOUSE_KEY", "not the key")
    run = cli(["transform"])
    assert run.code == 2
    assert "wrong key" in run.err
    with pytest.raises(InputError, match="wrong warehouse key"):
        open_sealed(landed[0].read_bytes(), WarehouseKey(SecretStr("x")), label=landed[0].name)


def test_a_key_for_a_clear_warehouse_is_refused(home: Path) -> None:
    with Warehouse.writer(home):
        pass
    key = WarehouseKey(SecretStr(KEY), allow_builtin_crypto=True)
    with pytest.raises(InputError, match="is not encrypted"), Warehouse.reader(home, key=key):
        pass


def test_writing_without_a_secure_crypto_module_is_refused(home: Path) -> None:
    if _httpfs_loadable():
        pytest.skip("httpfs is installed here: DuckDB writes with OpenSSL")
    with pytest.raises(InputError, match="httpfs"):
        connect_database(warehouse_path(home), key=WarehouseKey(SecretStr(KEY)))
    assert not warehouse_path(home).exists()


def test_sealed_files_are_bound_to_their_name() -> None:
    from mediamix.warehouse.crypto import seal

    key = WarehouseKey(SecretStr(KEY))
    box = seal(b"spend,1\n", key, label="a.parquet.aesgcm")
    assert seal(b"spend,1\n", key, label="a.parquet.aesgcm") != box  # a fresh nonce each time
    with pytest.raises(InputError, match="wrong warehouse key, or the file was changed"):
        open_sealed(box, key, label="b.parquet.aesgcm")
    tampered = box[:-1] + bytes([box[-1] ^ 1])
    with pytest.raises(InputError):
        open_sealed(tampered, key, label="a.parquet.aesgcm")
