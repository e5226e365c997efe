"""Encryption at rest of the warehouse: DuckDB's encrypted databases, sealed landing files.

With a warehouse key, ``warehouse.duckdb`` is a DuckDB encrypted database (AES-GCM
on every block, the key given at ``ATTACH ... (ENCRYPTION_KEY ...)``) and every raw
landing file is sealed with AES-256-GCM (``cryptography``) under a key derived from
the same secret by HKDF-SHA256, so no copy of the data is left in clear on disk.
Without the key the database cannot be opened and the landing files cannot be read.

Every connection to the warehouse is made by :func:`connect_database`: the
warehouse's readers and writers, the dbt build (its profile attaches the copy with
the key, see :func:`dbt_attach`) and the checkpoints.

DuckDB reads encrypted databases with its built-in crypto module, but it writes
them only with OpenSSL's, which its ``httpfs`` extension brings
(``INSTALL httpfs`` where the DuckDB extension repository is reachable, or
``LOAD '/path/httpfs.duckdb_extension'``): DuckDB calls writes through the built-in
module "not securely encrypted". When ``httpfs`` cannot be loaded, writing refuses
with an error that says so, unless the caller accepts the built-in module
explicitly (:attr:`WarehouseKey.allow_builtin_crypto`, the setting
``MEDIAMIX_WAREHOUSE_BUILTIN_CRYPTO``), which the tests do on a machine without the
extension.

The key reaches this module as an argument or through :func:`use_key_source`,
which the shells call once with a function that resolves the setting when a
warehouse is first opened (library code never reads the environment).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from mediamix.errors import BusyError, InputError, Problem

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "ALIAS",
    "SEALED_SUFFIX",
    "WarehouseKey",
    "connect_database",
    "current_key",
    "dbt_attach",
    "open_sealed",
    "seal",
    "use_key_source",
]

log = logging.getLogger(__name__)

ALIAS = "warehouse"
"""The catalog name of an encrypted warehouse attached to an in-memory connection."""
SEALED_SUFFIX = ".aesgcm"
_MAGIC = b"MMXSEAL1"
_NONCE = 12
_DBT_KEY_VARIABLE = "DBT_ENV_SECRET_MEDIAMIX_WAREHOUSE_KEY"


@dataclass(frozen=True)
class WarehouseKey:
    """The secret a warehouse is encrypted with.

    Attributes
    ----------
    secret : SecretStr
        Any string; DuckDB derives its AES key from it, :func:`seal` its own by HKDF.
    allow_builtin_crypto : bool
        Write with DuckDB's built-in crypto module when OpenSSL's (``httpfs``) cannot
        be loaded. DuckDB does not call such writes securely encrypted: only for
        tests and machines where the extension cannot be installed.
    """

    secret: SecretStr
    allow_builtin_crypto: bool = False

    def value(self) -> str:
        """The secret's value, for the one call that hands it to DuckDB or HKDF."""
        return self.secret.get_secret_value()


_key_source: Callable[[], WarehouseKey | None] | None = None


def use_key_source(source: Callable[[], WarehouseKey | None] | None) -> None:
    """Say where the warehouse key comes from, for every warehouse opened afterwards.

    The shells call this once with a function that resolves their setting (a value
    or a secrets-manager reference); it is called each time a warehouse is opened
    without an explicit key, so a rotated secret is read again. ``None`` forgets it.
    """
    global _key_source  # one process-wide source, set once by the shell
    _key_source = source


def current_key(key: WarehouseKey | None = None) -> WarehouseKey | None:
    """``key`` when given, else what the key source gives (``None``: not encrypted)."""
    if key is not None:
        return key
    return _key_source() if _key_source is not None else None


def connect_database(
    path: Path, *, key: WarehouseKey | None, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open a warehouse database file, encrypted when a key is given.

    Without a key, ``path`` is opened directly; with one, it is attached to an
    in-memory connection with ``ENCRYPTION_KEY`` as the catalog :data:`ALIAS` and
    made the default (``USE``), so queries read the same either way.

    Raises
    ------
    InputError
        The file is encrypted and no key was given, the key is wrong, a key was
        given for a file that is not encrypted, or no secure crypto module can be
        loaded for writing.
    BusyError
        Another process holds the file.
    """
    import duckdb

    if key is None:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            raise _busy(path, exc) from None
        except duckdb.Error as exc:
            raise _refused(path, exc) from None
    con = duckdb.connect(":memory:")
    try:
        if not read_only:
            _enable_encrypted_writes(con, key, path)
        options = "ENCRYPTION_KEY ?, READ_ONLY" if read_only else "ENCRYPTION_KEY ?"
        con.execute(f"attach ? as {ALIAS} ({options})", [str(path), key.value()])
        con.execute(f"use {ALIAS}")
    except duckdb.IOException as exc:
        con.close()
        raise _busy(path, exc) from None
    except duckdb.Error as exc:
        con.close()
        raise _refused(path, exc) from None
    return con


def _enable_encrypted_writes(con: duckdb.DuckDBPyConnection, key: WarehouseKey, path: Path) -> None:
    import duckdb

    try:
        con.execute("load httpfs")
        return
    except duckdb.Error:
        if not key.allow_builtin_crypto:
            raise InputError(
                [
                    Problem(
                        "the warehouse key is set, but this DuckDB cannot write encrypted "
                        "databases securely: its OpenSSL crypto module comes with the httpfs "
                        "extension, which is not installed (run INSTALL httpfs in DuckDB "
                        "where its extension repository is reachable). "
                        "MEDIAMIX_WAREHOUSE_BUILTIN_CRYPTO=true writes with the built-in "
                        "module instead, which DuckDB does not call securely encrypted",
                        file=str(path),
                    )
                ]
            ) from None
    log.warning("writing %s with DuckDB's built-in crypto module (httpfs not loaded)", path)
    con.execute("set force_mbedtls_unsafe = 'true'")


def _busy(path: Path, exc: Exception) -> BusyError:
    return BusyError(f"warehouse is busy: {path} is open in another process ({exc}); retry later")


def _refused(path: Path, exc: Exception) -> Exception:
    text = str(exc)
    if "without a key" in text:
        message = (
            "the warehouse is encrypted: set MEDIAMIX_WAREHOUSE_KEY (or a secret reference "
            "to it) to open it"
        )
    elif "not encrypted" in text:
        message = (
            "MEDIAMIX_WAREHOUSE_KEY is set but this warehouse is not encrypted; unset it, "
            "or move the data into an encrypted warehouse (docs/security.md)"
        )
    elif "wrong" in text.lower() or "key" in text.lower():
        message = "the warehouse key does not open this warehouse (wrong key)"
    else:
        return exc
    return InputError([Problem(message, file=str(path))])


def dbt_attach(build: Path, key: WarehouseKey | None) -> tuple[dict[str, Any], dict[str, str]]:
    """The dbt-duckdb output (profile entries) and environment for a build on ``build``.

    Without a key the output names the file as its ``path``. With one, dbt-duckdb
    opens an in-memory database and attaches the file with ``ENCRYPTION_KEY`` read
    from an environment variable whose name starts with ``DBT_ENV_SECRET_``: dbt
    keeps such values out of its logs and artifacts, and ``profiles.yml`` holds only
    the variable's name, never the key.

    Returns
    -------
    output : dict
        Entries of the profile's output (``path``, ``database``, ``attach``, ...).
    environment : dict
        Variables to set while dbt runs in this process.
    """
    resolved = str(build.resolve())
    if key is None:
        return {"path": resolved}, {}
    output: dict[str, Any] = {
        "path": ":memory:",
        "database": ALIAS,
        "attach": [
            {
                "path": resolved,
                "alias": ALIAS,
                "options": {"encryption_key": "{{ env_var('" + _DBT_KEY_VARIABLE + "') }}"},
            }
        ],
    }
    if _needs_builtin_crypto(key):
        # a connection option, not a setting: dbt-duckdb attaches before it applies settings
        output["config_options"] = {"force_mbedtls_unsafe": "true"}
    else:
        output["extensions"] = ["httpfs"]
    return output, {_DBT_KEY_VARIABLE: key.value()}


def _needs_builtin_crypto(key: WarehouseKey) -> bool:
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        con.execute("load httpfs")
    except duckdb.Error:
        if not key.allow_builtin_crypto:
            raise InputError.single(
                "the warehouse key is set, but this DuckDB cannot write encrypted databases "
                "securely (httpfs is not installed); see docs/security.md",
                column="MEDIAMIX_WAREHOUSE_KEY",
            ) from None
        return True
    finally:
        con.close()
    return False


@contextlib.contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    """Set process environment variables for the length of a block (dbt reads them)."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


def _landing_key(key: WarehouseKey) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"mediamix landing files v1"
    ).derive(key.value().encode())


def seal(data: bytes, key: WarehouseKey, *, label: str) -> bytes:
    """Encrypt and authenticate ``data`` (AES-256-GCM, a fresh random 96-bit nonce).

    ``label`` (the file's name inside the home) is authenticated too, so a sealed
    file moved to another name fails to open. Layout: magic, nonce, ciphertext+tag.

    Examples
    --------
    >>> key = WarehouseKey(SecretStr("k"))
    >>> box = seal(b"spend", key, label="raw/a.parquet")
    >>> open_sealed(box, key, label="raw/a.parquet")
    b'spend'
    """
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(_NONCE)
    return _MAGIC + nonce + AESGCM(_landing_key(key)).encrypt(nonce, data, label.encode())


def open_sealed(box: bytes, key: WarehouseKey, *, label: str) -> bytes:
    """Decrypt what :func:`seal` wrote.

    Raises
    ------
    InputError
        Not a sealed file, a wrong key, or a file changed or renamed since it was sealed.
    """
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not box.startswith(_MAGIC) or len(box) < len(_MAGIC) + _NONCE + 16:
        raise InputError.single("not a sealed mediamix file", file=label)
    nonce = box[len(_MAGIC) : len(_MAGIC) + _NONCE]
    try:
        return AESGCM(_landing_key(key)).decrypt(nonce, box[len(_MAGIC) + _NONCE :], label.encode())
    except InvalidTag:
        raise InputError.single(
            "cannot open this sealed file: wrong warehouse key, or the file was changed",
            file=label,
        ) from None
