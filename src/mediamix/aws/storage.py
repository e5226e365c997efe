"""Where the ``MEDIAMIX_HOME``-relative stores live, and references to stored models.

With a store root (``MEDIAMIX_STORAGE_URI=s3://bucket/prefix``), fits, reports and
raw landing files are published to it as versions (:mod:`mediamix.aws.s3store`);
the local folders stay as the working copy. A command that reads a model takes,
besides a folder or a registry reference, a stored one:

``s3://bucket/prefix/models/NAME``
    the newest version of ``NAME`` in the store rooted at ``s3://bucket/prefix``;
``s3://bucket/prefix/models/NAME/VERSION``
    one version (``.../models/NAME/versions/VERSION.json``, the manifest's own
    URI, means the same);
``store:NAME`` or ``store:NAME/VERSION``
    the same, in the store of the settings.

This module only parses; nothing here touches the network (boto3 is imported when a
client is made).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from mediamix.aws.clients import AwsConfig
from mediamix.errors import InputError

__all__ = ["STORE_PREFIX", "StorageConfig", "StoredRef", "is_stored_ref", "parse_stored_ref"]

STORE_PREFIX = "store:"
_PART = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
_STORE_REF = re.compile(rf"store:({_PART})(?:/({_PART}))?")
_S3_REF = re.compile(
    rf"(s3://[^/]+(?:/.*?)??)/models/({_PART})(?:/(?:versions/({_PART})\.json|({_PART})))?/?"
)


@dataclass(frozen=True)
class StorageConfig:
    """The S3 store of the settings, and where fetched versions are cached.

    Attributes
    ----------
    uri : str or None
        ``s3://bucket/prefix`` (``MEDIAMIX_STORAGE_URI``); ``None``: everything stays
        local and nothing is published.
    aws : AwsConfig
        Region, endpoint and the KMS key of server-side encryption.
    cache : Path or None
        Folder of verified local copies of fetched versions
        (``MEDIAMIX_HOME/cache/s3``); ``None``: a temporary folder per fetch.

    Examples
    --------
    >>> StorageConfig().enabled
    False
    >>> StorageConfig(uri="s3://acme-mmm/prod").enabled
    True
    """

    uri: str | None = None
    aws: AwsConfig = field(default_factory=AwsConfig)
    cache: Path | None = None

    @property
    def enabled(self) -> bool:
        """Whether outputs are published to a store."""
        return bool(self.uri)


@dataclass(frozen=True)
class StoredRef:
    """A model version in an S3 store: the store root, the name, the version (or latest)."""

    root: str | None
    name: str
    version: str | None = None


def is_stored_ref(value: object) -> bool:
    """Whether ``value`` names a stored model (``s3://...`` or ``store:...``).

    Examples
    --------
    >>> is_stored_ref("s3://acme/prod/models/brand-a"), is_stored_ref("store:brand-a")
    (True, True)
    >>> is_stored_ref("fit"), is_stored_ref("models:/brand-a/3")
    (False, False)
    """
    return isinstance(value, str) and value.startswith(("s3://", STORE_PREFIX))


def parse_stored_ref(value: str) -> StoredRef:
    """The store root, name and version a stored-model reference names.

    Examples
    --------
    >>> parse_stored_ref("s3://acme/prod/models/brand-a")
    StoredRef(root='s3://acme/prod', name='brand-a', version=None)
    >>> parse_stored_ref("s3://acme/models/brand-a/versions/20260101T000000000000Z-ab12cd.json")
    StoredRef(root='s3://acme', name='brand-a', version='20260101T000000000000Z-ab12cd')
    >>> parse_stored_ref("store:brand-a/20260101T000000000000Z-ab12cd")
    StoredRef(root=None, name='brand-a', version='20260101T000000000000Z-ab12cd')
    >>> parse_stored_ref("s3://acme/prod/reports/x")
    Traceback (most recent call last):
    ...
    mediamix.errors.InputError: ...
    """
    text = value.strip()
    found = _STORE_REF.fullmatch(text)
    if found is not None:
        return StoredRef(None, found.group(1), found.group(2))
    found = _S3_REF.fullmatch(text)
    if found is not None:
        return StoredRef(found.group(1), found.group(2), found.group(3) or found.group(4))
    raise InputError.single(
        f"not a stored model reference: {value!r} (expected s3://bucket/prefix/models/NAME"
        "[/VERSION] or store:NAME[/VERSION])",
        column="model",
    )
