"""Versioned folders on S3, published atomically and verified on read.

A store root ``s3://bucket/prefix`` holds the stores that matter outside one machine
(:data:`STORES`: ``models``, ``landing``, ``reports``). A folder published under a
store and a name becomes one immutable *version*::

    prefix/<store>/<name>/objects/<token>/<relative path>   the files (staging keys)
    prefix/<store>/<name>/versions/<version>.json           the version's manifest

The files go first, each under a fresh random token (a temporary key prefix no
reader lists); the manifest, written last with one ``PutObject``, is what makes the
version visible. An upload that dies midway leaves only objects under a token no
manifest names: readers never see a partial version (:meth:`S3Store.orphans` lists
them for cleanup). Every put requests server-side encryption (SSE-S3, or SSE-KMS
with a key).

Reading downloads each file, checks its size and SHA-256 against the manifest
before it is written where a parser could see it, and refuses keys outside the
version's own staging prefix and paths that leave the folder. A model version is
then checked by the safe-artifact loader (its own manifest, hashes before parsing)
before it is handed back.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from mediamix.aws.clients import AwsConfig
from mediamix.errors import InputError
from mediamix.io.artifact_checks import MAX_FILE_BYTES, check_json_text
from mediamix.io.artifacts import load_artifact, sha256_file
from mediamix.io.atomic import atomic_dir

__all__ = [
    "MANIFEST_SCHEMA_VERSION",
    "STORES",
    "S3Location",
    "S3Store",
    "parse_s3_uri",
    "temporary_fetch",
]

log = logging.getLogger(__name__)

MANIFEST_SCHEMA_VERSION = 1
STORES = ("models", "landing", "reports")
MAX_FILES = 10_000
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class S3Location:
    """A bucket and a key prefix (no leading or trailing slash)."""

    bucket: str
    prefix: str

    def key(self, *parts: str) -> str:
        """The key of ``parts`` under the prefix."""
        return "/".join(p for p in (self.prefix, *parts) if p)

    def uri(self, *parts: str) -> str:
        """The ``s3://`` URI of ``parts`` under the prefix."""
        return f"s3://{self.bucket}/{self.key(*parts)}"


def parse_s3_uri(uri: str) -> S3Location:
    """Bucket and prefix of an ``s3://bucket/prefix`` URI.

    Examples
    --------
    >>> parse_s3_uri("s3://acme-mmm/prod/")
    S3Location(bucket='acme-mmm', prefix='prod')
    >>> parse_s3_uri("/tmp/x")
    Traceback (most recent call last):
    ...
    mediamix.errors.InputError: ...
    """
    match = re.fullmatch(r"s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(.*))?", uri.strip())
    if match is None:
        raise InputError.single(
            f"not an S3 URI: {uri!r} (expected s3://bucket/prefix)", column="storage_uri"
        )
    return S3Location(match.group(1), (match.group(2) or "").strip("/"))


def _check_name(what: str, value: str) -> None:
    if not _NAME.match(value):
        raise InputError.single(
            f"{what} {value!r} must be 1-128 letters, digits, '.', '_' or '-'", column=what
        )


def _new_version() -> str:
    # sortable by time; the random tail keeps two publishers in one microsecond apart
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{secrets.token_hex(3)}"


def _safe_relative(name: object, where: str) -> PurePosixPath:
    if not isinstance(name, str) or not name or "\\" in name:
        raise InputError.single(f"manifest names an invalid file {name!r}", file=where)
    rel = PurePosixPath(name)
    if rel.is_absolute() or any(part in ("", ".", "..") for part in rel.parts):
        raise InputError.single(f"manifest path {name!r} leaves the version folder", file=where)
    return rel


class S3Store:
    """Versioned folders under one ``s3://bucket/prefix``.

    Parameters
    ----------
    uri : str
        The store root, ``s3://bucket/prefix``.
    config : AwsConfig, optional
        Region, endpoint and the KMS key of server-side encryption.
    client : boto3 S3 client, optional
        Made from ``config`` when not given.
    """

    def __init__(self, uri: str, config: AwsConfig | None = None, client: Any = None) -> None:
        self.root = parse_s3_uri(uri)
        self.config = config or AwsConfig()
        self.client = client if client is not None else self.config.client("s3")

    def _store_key(self, store: str) -> str:
        if store not in STORES:
            raise InputError.single(
                f"unknown store {store!r}; expected one of {', '.join(STORES)}", column="store"
            )
        return self.root.key(store)

    def _base(self, store: str, name: str) -> str:
        _check_name("name", name)
        return f"{self._store_key(store)}/{name}"

    def publish(
        self, store: str, name: str, folder: str | Path, *, version: str | None = None
    ) -> str:
        """Upload every file of ``folder`` as a new version of ``store/name``; its id.

        The files are uploaded under a fresh staging prefix, then the manifest makes
        the version visible. Symbolic links and empty folders are refused before
        anything is uploaded. ``version`` names the version instead of the default
        time-sortable id (content-keyed data such as raw landing files, whose name
        is already their fingerprint).
        """
        return self.publish_files(store, name, self._local_files(Path(folder)), version=version)

    def publish_files(
        self,
        store: str,
        name: str,
        files: list[tuple[str, Path]],
        *,
        version: str | None = None,
    ) -> str:
        """Publish ``files`` (relative path in the version, local file) as one version.

        The same publication as :meth:`publish` for files that do not sit in one
        folder of their own (a raw landing file under its source and account).
        """
        base = self._base(store, name)
        if version is not None:
            _check_name("version", version)
        if not files:
            raise InputError.single("nothing to publish", file=self.root.uri(store, name))
        for rel, _ in files:
            _safe_relative(rel, "publish")
        version = version or _new_version()
        staging = f"{base}/objects/{secrets.token_hex(16)}"
        sse = self.config.sse_arguments()
        entries: dict[str, dict[str, Any]] = {}
        for rel, path in files:
            key = f"{staging}/{rel}"
            digest = sha256_file(path)
            self.client.upload_file(str(path), self.root.bucket, key, ExtraArgs=dict(sse))
            entries[rel] = {"key": key, "sha256": digest, "size": path.stat().st_size}
            log.debug("uploaded %s", key)
        manifest = {
            "schema_version": MANIFEST_SCHEMA_VERSION,
            "store": store,
            "name": name,
            "version": version,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": entries,
        }
        body = (json.dumps(manifest, indent=2) + "\n").encode()
        self.client.put_object(
            Bucket=self.root.bucket,
            Key=f"{base}/versions/{version}.json",
            Body=body,
            ContentType="application/json",
            **sse,
        )
        log.info(
            "published %s version %s (%d files)", self.root.uri(store, name), version, len(entries)
        )
        return version

    @staticmethod
    def _local_files(folder: Path) -> list[tuple[str, Path]]:
        if not folder.is_dir():
            raise InputError.single("not a folder", file=str(folder))
        files = []
        for path in sorted(folder.rglob("*")):
            if path.is_symlink():
                raise InputError.single("symbolic links are not published", file=str(path))
            if path.is_file():
                files.append((path.relative_to(folder).as_posix(), path))
        if not files:
            raise InputError.single("nothing to publish: the folder is empty", file=str(folder))
        if len(files) > MAX_FILES:
            raise InputError.single(f"more than {MAX_FILES} files", file=str(folder))
        return files

    def _keys(self, prefix: str) -> list[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        keys: list[str] = []
        for page in paginator.paginate(Bucket=self.root.bucket, Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return keys

    def versions(self, store: str, name: str) -> list[str]:
        """Published versions of ``store/name``, oldest first (only those with a manifest)."""
        prefix = f"{self._base(store, name)}/versions/"
        found = [k[len(prefix) :] for k in self._keys(prefix)]
        return sorted(k[: -len(".json")] for k in found if k.endswith(".json") and "/" not in k)

    def has_version(self, store: str, name: str, version: str) -> bool:
        """Whether ``store/name`` has a published ``version`` (its manifest exists)."""
        _check_name("version", version)
        key = f"{self._base(store, name)}/versions/{version}.json"
        try:
            self.client.head_object(Bucket=self.root.bucket, Key=key)
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def names(self, store: str) -> list[str]:
        """Names under ``store`` that have at least one published version."""
        base = self._store_key(store) + "/"
        names: set[str] = set()
        for key in self._keys(base):
            parts = key[len(base) :].split("/")
            if len(parts) == 3 and parts[1] == "versions" and parts[2].endswith(".json"):
                names.add(parts[0])
        return sorted(names)

    def latest(self, store: str, name: str) -> str:
        """The newest published version of ``store/name``."""
        found = self.versions(store, name)
        if not found:
            raise InputError.single(
                "no published version", file=self.root.uri(store, name), column="version"
            )
        return found[-1]

    def manifest(self, store: str, name: str, version: str) -> dict[str, Any]:
        """The checked manifest of one version."""
        base = self._base(store, name)
        _check_name("version", version)
        key = f"{base}/versions/{version}.json"
        where = f"s3://{self.root.bucket}/{key}"
        try:
            obj = self.client.get_object(Bucket=self.root.bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            raise InputError.single("no such version", file=where, column="version") from None
        body = obj["Body"].read(1 << 24)
        try:
            doc = json.loads(check_json_text(body, Path(where)))
        except json.JSONDecodeError as exc:
            raise InputError.single(f"manifest is not valid JSON: {exc}", file=where) from None
        if not isinstance(doc, dict) or doc.get("schema_version") != MANIFEST_SCHEMA_VERSION:
            raise InputError.single("unsupported version manifest", file=where)
        files = doc.get("files")
        if not isinstance(files, dict) or not files or len(files) > MAX_FILES:
            raise InputError.single("the manifest lists no files", file=where)
        own = f"{base}/objects/"
        for rel, entry in files.items():
            _safe_relative(rel, where)
            if (
                not isinstance(entry, dict)
                or not isinstance(entry.get("key"), str)
                or not entry["key"].startswith(own)
                or not isinstance(entry.get("sha256"), str)
                or not isinstance(entry.get("size"), int)
                or not 0 <= entry["size"] <= MAX_FILE_BYTES
            ):
                raise InputError.single(
                    f"manifest entry for {rel!r} is malformed or points outside {own}", file=where
                )
        return doc

    def fetch(self, store: str, name: str, dest: str | Path, version: str | None = None) -> Path:
        """Download one version (default: the latest) into ``dest``, verified; ``dest``.

        Every file's size and SHA-256 are checked against the manifest as it is
        downloaded; ``dest`` is filled atomically, so a refused version leaves it
        untouched. Model versions are then checked by the safe-artifact loader.

        Raises
        ------
        InputError
            No such version, a malformed manifest, or an object whose content is
            not what the manifest says (named by its ``s3://`` URI).
        """
        version = version or self.latest(store, name)
        doc = self.manifest(store, name, version)
        dest = Path(dest)
        with atomic_dir(dest) as tmp:
            for rel, entry in sorted(doc["files"].items()):
                target = tmp / _safe_relative(rel, "manifest")
                target.parent.mkdir(parents=True, exist_ok=True)
                self._download(entry, target)
            if store == "models":
                _check_model(tmp)
        log.info("fetched %s version %s into %s", self.root.uri(store, name), version, dest)
        return dest

    def _download(self, entry: dict[str, Any], target: Path) -> None:
        where = f"s3://{self.root.bucket}/{entry['key']}"
        try:
            obj = self.client.get_object(Bucket=self.root.bucket, Key=entry["key"])
        except self.client.exceptions.NoSuchKey:
            raise InputError.single("object named by the manifest is missing", file=where) from None
        if int(obj.get("ContentLength", -1)) != entry["size"]:
            raise InputError.single(
                f"object is {obj.get('ContentLength')} bytes, the manifest says {entry['size']}",
                file=where,
            )
        digest = hashlib.sha256()
        with open(target, "wb") as handle:
            for chunk in obj["Body"].iter_chunks(1 << 20):
                digest.update(chunk)
                handle.write(chunk)
        if digest.hexdigest() != entry["sha256"]:
            raise InputError.single(
                "checksum mismatch: the object changed after it was published", file=where
            )

    def orphans(self, store: str, name: str) -> list[str]:
        """Staging keys no manifest names (left by interrupted uploads)."""
        base = self._base(store, name)
        named: set[str] = set()
        for version in self.versions(store, name):
            named.update(e["key"] for e in self.manifest(store, name, version)["files"].values())
        return [k for k in self._keys(f"{base}/objects/") if k not in named]


def _check_model(folder: Path) -> None:
    """Run the safe-artifact checks on a fetched fit output or model folder."""
    model = folder / "model" if (folder / "model" / "manifest.json").is_file() else folder
    load_artifact(model)


def temporary_fetch(store: S3Store, kind: str, name: str, version: str | None = None) -> Path:
    """Fetch a version into a new temporary folder (the caller removes it)."""
    root = Path(tempfile.mkdtemp(prefix="mediamix-s3-"))
    try:
        return store.fetch(kind, name, root / "version", version)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
