"""Use case: the ``MEDIAMIX_HOME``-relative stores on S3 (models, raw landing, reports).

With a store configured (:class:`~mediamix.aws.storage.StorageConfig`, from
``MEDIAMIX_STORAGE_URI``), the service publishes what it writes locally as a new
version of the S3 store (:class:`~mediamix.aws.s3store.S3Store`: files under a
fresh staging prefix, then the manifest that makes the version visible, SSE on
every put):

- a fit's output folder, as a version of ``models/<name>`` (before the local folder
  is moved in place, so a fit that fails or is interrupted publishes nothing and a
  fit whose publication fails writes nothing locally either);
- a report's files, as a version of ``reports/<name>``;
- each raw landing file of an ingest, as the version of ``landing/raw.<source>.<account>``
  named by the file's own fingerprint (``<start>_<end>_<sha12>``): landing files
  are immutable and content-keyed, so publishing the same file again is a no-op.

The local folders stay the working copy and cache. Stored models are read back by
:func:`fetch_model` (references ``s3://bucket/prefix/models/NAME[/VERSION]`` or
``store:NAME[/VERSION]``): the manifest's hashes are checked as each object is
downloaded, the safe-artifact checks run before anything is parsed, and a refused
version leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediamix.aws.clients import AwsConfig
from mediamix.aws.s3store import S3Store
from mediamix.aws.storage import StorageConfig, is_stored_ref, parse_stored_ref
from mediamix.errors import InputError
from mediamix.io.artifacts import sha256_file

__all__ = [
    "Publication",
    "PublishedVersion",
    "StorageConfig",
    "check_store_name",
    "fetch_model",
    "is_stored_ref",
    "landing_name",
    "open_store",
    "publish_fit",
    "publish_landing",
    "publish_report",
    "resolve_stored",
    "restore_model",
    "store_name_for",
]

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_LANDING_VERSION = re.compile(r"^(\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}_[0-9a-f]{12})\.")


@dataclass(frozen=True)
class Publication:
    """Where an output is published: the store of the settings, and a name in it.

    ``name`` ``None``: the output's own name (:func:`store_name_for`). A store that is
    not enabled publishes nothing.
    """

    storage: StorageConfig
    name: str | None = None

    def target(self, out: str | Path) -> str | None:
        """The checked store name ``out`` is published under, or ``None`` (no store)."""
        return store_name_for(out, self.name) if self.storage.enabled else None


@dataclass(frozen=True)
class PublishedVersion:
    """One version made visible in the S3 store.

    Examples
    --------
    >>> PublishedVersion("s3://acme/prod", "models", "brand-a", "v1").uri
    's3://acme/prod/models/brand-a/v1'
    """

    root: str
    store: str
    name: str
    version: str

    @property
    def uri(self) -> str:
        """The version's reference (what ``--model`` and ``mediamix report`` accept)."""
        return f"{self.root.rstrip('/')}/{self.store}/{self.name}/{self.version}"

    def to_dict(self) -> dict[str, str]:
        """JSON form: store, name, version and reference."""
        return {"store": self.store, "name": self.name, "version": self.version, "uri": self.uri}


def check_store_name(name: str, *, column: str = "--name") -> str:
    """``name`` if it can name a store entry (1-128 letters, digits, '.', '_', '-').

    Examples
    --------
    >>> check_store_name("brand-a")
    'brand-a'
    >>> check_store_name("brand a")
    Traceback (most recent call last):
    ...
    mediamix.errors.InputError: ...
    """
    if not _NAME.match(name):
        raise InputError.single(
            f"store name {name!r} must be 1-128 letters, digits, '.', '_' or '-' "
            "(give one with --name)",
            column=column,
        )
    return name


def store_name_for(out: str | Path, name: str | None = None) -> str:
    """The store name of an output: ``name``, else the output's own name (``fit`` for
    ``--out runs/fit``; ``board`` for ``--out board.html``), checked.

    Examples
    --------
    >>> store_name_for("runs/brand-a"), store_name_for("out/board.html"), store_name_for("x", "y")
    ('brand-a', 'board', 'y')
    """
    if name is not None:
        return check_store_name(name)
    path = Path(out)
    stem = path.stem if path.suffix.lower() in {".html", ".htm"} else path.name
    return check_store_name(stem or path.resolve().name)


def open_store(uri: str | None, aws: AwsConfig) -> S3Store:
    """The S3 store at ``uri``; a clear error when no store is configured."""
    if not uri:
        raise InputError.single(
            "no S3 store configured: set MEDIAMIX_STORAGE_URI=s3://bucket/prefix",
            column="storage_uri",
        )
    return S3Store(uri, aws)


def _store(storage: StorageConfig, root: str | None = None) -> S3Store:
    return open_store(root or storage.uri, storage.aws)


def publish_fit(storage: StorageConfig, folder: str | Path, name: str) -> PublishedVersion:
    """Publish a fit output folder (summary, decomposition, ``model/``) as a new version
    of ``models/<name>``; visible once its manifest is written."""
    s3 = _store(storage)
    version = s3.publish("models", check_store_name(name), folder)
    return PublishedVersion(s3.root.uri(), "models", name, version)


def publish_report(
    storage: StorageConfig, files: Sequence[Path], name: str, *, folder: Path | None = None
) -> PublishedVersion:
    """Publish a report as a new version of ``reports/<name>``.

    ``folder``: a report folder (every file in it); else ``files`` (one HTML file and
    the PDF written beside it), each under its own file name.
    """
    s3 = _store(storage)
    name = check_store_name(name)
    if folder is not None:
        version = s3.publish("reports", name, folder)
    else:
        version = s3.publish_files("reports", name, [(Path(f).name, Path(f)) for f in files])
    return PublishedVersion(s3.root.uri(), "reports", name, version)


def landing_name(source: str, account: str) -> str:
    """The store name of a source's and account's raw landing files.

    Characters a store name cannot hold become ``-``; the files keep their real
    ``raw/<source>/<account>/`` path inside each version.

    Examples
    --------
    >>> landing_name("google_ads", "123-456-7890")
    'raw.google_ads.123-456-7890'
    >>> landing_name("file", "acme emea")
    'raw.file.acme-emea'
    """
    return "raw." + re.sub(r"[^A-Za-z0-9._-]", "-", f"{source}.{account}")[:124]


def publish_landing(
    storage: StorageConfig, home: str | Path, raw_path: str | Path
) -> PublishedVersion | None:
    """Publish one raw landing file of ``home`` (``raw/<source>/<account>/<file>``).

    The version is named by the file's fingerprint, so a file already published is
    not uploaded again; ``None`` when nothing was to be done (already published).
    """
    raw_path = Path(raw_path).resolve()
    try:
        rel = raw_path.relative_to(Path(home).resolve() / "raw")
    except ValueError:
        rel = None
    if rel is None or len(rel.parts) != 3:  # <source>/<account>/<file>
        raise InputError.single("not a raw landing file of this home", file=str(raw_path))
    source, account, file_name = rel.parts
    found = _LANDING_VERSION.match(file_name)
    if found is None:
        raise InputError.single("not a raw landing file name", file=str(raw_path))
    s3 = _store(storage)
    name, version = landing_name(source, account), found.group(1)
    if s3.has_version("landing", name, version):
        log.info("%s version %s is already published", s3.root.uri("landing", name), version)
        return None
    s3.publish_files("landing", name, [(f"raw/{rel.as_posix()}", raw_path)], version=version)
    return PublishedVersion(s3.root.uri(), "landing", name, version)


def _matches(doc: dict[str, Any], folder: Path) -> bool:
    """Whether ``folder`` holds exactly the manifest's files, byte for byte (by hash)."""
    if not folder.is_dir():
        return False
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    if present != set(doc["files"]):
        return False
    return all(
        (folder / rel).stat().st_size == entry["size"]
        and sha256_file(folder / rel) == entry["sha256"]
        for rel, entry in doc["files"].items()
    )


def fetch_model(ref: str, storage: StorageConfig) -> Path:
    """A local, verified copy of a stored model version (fit output folder).

    ``ref`` is ``s3://bucket/prefix/models/NAME[/VERSION]`` or ``store:NAME[/VERSION]``
    (the store of ``storage``); without a version, the newest. The copy is kept under
    ``storage.cache`` and reused while its files still hash to the version's manifest.

    Raises
    ------
    InputError
        No such model or version, a malformed manifest, an object that is not what the
        manifest says, or a model that fails the safe-artifact checks; nothing is
        left in the cache.
    """
    parsed = parse_stored_ref(ref)
    s3 = _store(storage, parsed.root)
    version = parsed.version or s3.latest("models", parsed.name)
    if storage.cache is None:
        dest = Path(tempfile.mkdtemp(prefix="mediamix-model-")) / "version"
    else:
        root_key = hashlib.sha256(s3.root.uri().encode()).hexdigest()[:16]
        dest = storage.cache / root_key / parsed.name / version
        if _matches(s3.manifest("models", parsed.name, version), dest):
            log.debug("using the verified copy of %s in %s", ref, dest)
            return dest
        shutil.rmtree(dest, ignore_errors=True)  # a stale or altered copy is fetched again
    return s3.fetch("models", parsed.name, dest, version)


def restore_model(storage: StorageConfig | None, name: str, dest: str | Path) -> bool:
    """Fill a missing local model folder ``dest`` from the newest version of
    ``models/<name>``; whether ``dest`` now exists.

    For services whose replicas do not share a disk: a model fitted on one machine is
    fetched (verified, atomically) by another the first time it is asked for. No store,
    or no published version, leaves ``dest`` missing.
    """
    dest = Path(dest)
    if dest.is_dir():
        return True
    if storage is None or not storage.enabled:
        return False
    s3 = _store(storage)
    if not s3.versions("models", check_store_name(name, column="model")):
        return False
    s3.fetch("models", name, dest)
    log.info("restored %s from %s", dest, s3.root.uri("models", name))
    return True


def resolve_stored(ref: str | Path, storage: StorageConfig | None) -> Path | None:
    """The verified local copy ``ref`` names when it is a stored-model reference, else None."""
    if not is_stored_ref(str(ref)):
        return None
    return fetch_model(str(ref), storage or StorageConfig())
