"""A corpus of malicious model folders: every one refused, nothing ever executed.

Each attack rewrites the manifest so its checksums match (an attacker who can
replace a file can rewrite the manifest too), except the wrong-hash case. The
payloads would create a canary file if anything unpickled them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import pickle
import shutil
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from mediamix.errors import InputError
from mediamix.service.fit import load_model


class _Payload:
    """Creates the canary when unpickled."""

    def __init__(self, canary: Path) -> None:
        self.canary = canary

    def __reduce__(self):
        return (open, (str(self.canary), "w"))


def _rehash(folder: Path) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in manifest["files"]:
        manifest["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _pickle(folder: Path, canary: Path) -> None:
    (folder / "arrays.npz").write_bytes(pickle.dumps(_Payload(canary)))
    _rehash(folder)


def _gzip_pickle(folder: Path, canary: Path) -> None:
    (folder / "arrays.npz").write_bytes(gzip.compress(pickle.dumps(_Payload(canary))))
    _rehash(folder)


def _object_array(folder: Path, canary: Path) -> None:
    with np.load(folder / "arrays.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["evil"] = np.array([_Payload(canary), 1], dtype=object)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    (folder / "arrays.npz").write_bytes(buffer.getvalue())
    _rehash(folder)


def _wrong_hash(folder: Path, canary: Path) -> None:
    meta = json.loads((folder / "model.json").read_text())
    meta["intercept"] = 1e12
    (folder / "model.json").write_text(json.dumps(meta))


def _zip_entries(folder: Path, extra: Callable[[zipfile.ZipFile], None]) -> None:
    source = folder / "arrays.npz"
    buffer = io.BytesIO()
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(buffer, "w") as new:
        for info in old.infolist():
            new.writestr(info.filename, old.read(info))
        extra(new)
    source.write_bytes(buffer.getvalue())
    _rehash(folder)


def _zip_slip(folder: Path, canary: Path) -> None:
    def add(z: zipfile.ZipFile) -> None:
        npy = io.BytesIO()
        np.save(npy, np.zeros(3))
        z.writestr(f"../../../../{canary.name}.npy", npy.getvalue())

    _zip_entries(folder, add)


def _zip_symlink(folder: Path, canary: Path) -> None:
    def add(z: zipfile.ZipFile) -> None:
        info = zipfile.ZipInfo("link.npy")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(info, str(canary))

    _zip_entries(folder, add)


def _symlinked_file(folder: Path, canary: Path) -> None:
    target = folder.parent / "elsewhere.json"
    shutil.copy(folder / "model.json", target)
    (folder / "model.json").unlink()
    os.symlink(target, folder / "model.json")


def _huge_declared_size(folder: Path, canary: Path) -> None:
    # an .npy header declaring 2.4 GB of float64 with almost no data behind it
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (300_000_000,)}
    )
    npy = header.getvalue() + b"\x00" * 64

    def add(z: zipfile.ZipFile) -> None:
        z.writestr("huge.npy", npy)

    _zip_entries(folder, add)


def _nested_json(folder: Path, canary: Path) -> None:
    (folder / "model.json").write_text("[" * 200_000 + "]" * 200_000)
    _rehash(folder)


def _nested_manifest(folder: Path, canary: Path) -> None:
    (folder / "manifest.json").write_text('{"a":' * 100_000 + "1" + "}" * 100_000)


def _extra_pickle_file(folder: Path, canary: Path) -> None:
    (folder / "model.pkl").write_bytes(pickle.dumps(_Payload(canary)))


# why each one must be refused: the check that catches it, not some later accident
REASONS = {
    "pickle": "is a Python pickle",
    "gzip_pickle": "is gzip data",
    "npz_object_array": "object dtype",
    "wrong_hash": "checksum mismatch",
    "zip_slip": "is a path",
    "zip_symlink_entry": "symbolic link",
    "symlinked_file": "symbolic link",
    "huge_declared_size": "declares 2400000000 bytes",
    "deeply_nested_json": "nested deeper",
    "deeply_nested_manifest": "nested deeper",
    "extra_pickle_file": "unexpected file 'model.pkl'",
}

ATTACKS = {
    "pickle": _pickle,
    "gzip_pickle": _gzip_pickle,
    "npz_object_array": _object_array,
    "wrong_hash": _wrong_hash,
    "zip_slip": _zip_slip,
    "zip_symlink_entry": _zip_symlink,
    "symlinked_file": _symlinked_file,
    "huge_declared_size": _huge_declared_size,
    "deeply_nested_json": _nested_json,
    "deeply_nested_manifest": _nested_manifest,
    "extra_pickle_file": _extra_pickle_file,
}


@pytest.fixture
def model_copy(tracked_fit, tmp_path: Path) -> Path:
    folder = tmp_path / "fit" / "model"
    shutil.copytree(tracked_fit.out / "model", folder)
    return folder


def test_untouched_copy_loads(model_copy):
    assert load_model(model_copy).channel_names


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_is_refused_and_nothing_runs(attack, model_copy, tmp_path, run_cli):
    canary = tmp_path / "canary"
    ATTACKS[attack](model_copy, canary)
    with pytest.raises(InputError) as refused:
        load_model(model_copy)
    message = str(refused.value)
    assert str(model_copy) in message
    assert REASONS[attack] in message
    assert not canary.exists()
    # the CLI says so with exit 2
    done = run_cli(["decompose", model_copy, "--out", tmp_path / "d.csv"])
    assert done.code == 2, done.err
    assert not (tmp_path / "d.csv").exists()
    assert not canary.exists()
    assert not (tmp_path.parent / f"{canary.name}.npy").exists()
