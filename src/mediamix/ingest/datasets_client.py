"""Kaggle and Hugging Face downloads into the local dataset cache, and reading saved copies.

:class:`~mediamix.ingest.sources.CachedDatasetSource` serves a public dataset from
``$MEDIAMIX_HOME/datasets/<provider>/<owner>__<name>/<file>``, offline once the
copy is there. This module fills that folder:

- :func:`kaggle_downloader` uses ``KaggleApi`` from
  ``kaggle.api.kaggle_api_extended``. Importing any ``kaggle`` module runs the
  package's ``__init__``, which tries to authenticate and prints instructions
  when it cannot: the import happens only when a download is asked for, with the
  output captured, and credentials (``KAGGLE_API_TOKEN``, ``KAGGLE_USERNAME`` +
  ``KAGGLE_KEY``, ``~/.kaggle/kaggle.json`` or ``~/.kaggle/access_token``, the
  library's own lookup) are checked before ``authenticate()`` is called.
- :func:`huggingface_downloader` uses ``datasets.load_dataset(..., cache_dir=...)``
  (so ``HF_HUB_OFFLINE=1`` serves from the Hugging Face cache without network)
  and writes the chosen split as the CSV file the spec describes.

A local copy may also be a folder written by ``datasets.Dataset.save_to_disk``;
:func:`read_saved_dataset` reads it back with ``datasets.load_from_disk``.

Every failure of a download is a
:class:`~mediamix.ingest.base.SourceUnavailableError` (the source is skipped with
the reason, credentials redacted), never a traceback.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from mediamix.ingest.base import SourceUnavailableError, redact

__all__ = [
    "huggingface_downloader",
    "is_saved_dataset",
    "kaggle_credentials_hint",
    "kaggle_downloader",
    "read_saved_dataset",
]

log = logging.getLogger(__name__)

Downloader = Callable[[Path], None]


def kaggle_credentials_hint() -> str | None:
    """``None`` when Kaggle credentials are configured, else what to set.

    Looks where the ``kaggle`` library looks, without importing it.
    """
    if os.environ.get("KAGGLE_API_TOKEN"):
        return None
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return None
    folder = Path(os.environ.get("KAGGLE_CONFIG_DIR") or Path.home() / ".kaggle")
    if (folder / "kaggle.json").is_file() or (folder / "access_token").is_file():
        return None
    return (
        "Kaggle is not configured: set KAGGLE_API_TOKEN (or KAGGLE_USERNAME and KAGGLE_KEY), "
        f"or put kaggle.json or access_token in {folder}"
    )


def _kaggle_api() -> Any:
    """An authenticated ``KaggleApi``; the package's import-time output is captured."""
    hint = kaggle_credentials_hint()
    if hint is not None:
        raise SourceUnavailableError(hint)
    captured = io.StringIO()
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            from kaggle.api.kaggle_api_extended import KaggleApi

            api = KaggleApi()
            api.authenticate()
    except ImportError:
        raise SourceUnavailableError(
            "Kaggle downloads need the kaggle library: pip install 'mediamix[connectors]'"
        ) from None
    except (Exception, SystemExit) as exc:
        text = redact(f"{type(exc).__name__}: {exc} {captured.getvalue()[:200]}".strip())
        raise SourceUnavailableError(f"Kaggle authentication failed ({text})") from None
    return api


def kaggle_downloader(dataset: str, *, api: Any | None = None) -> Downloader:
    """A callable downloading every file of a Kaggle dataset, unzipped, into a folder.

    Parameters
    ----------
    dataset : str
        ``owner/name``.
    api : KaggleApi, optional
        An authenticated client (tests pass a fake); default one authenticated
        from the library's own configuration when the download runs.
    """

    def download(folder: Path) -> None:
        client = api if api is not None else _kaggle_api()
        log.info("downloading kaggle dataset %s into %s", dataset, folder)
        try:
            client.dataset_download_files(dataset, path=str(folder), unzip=True, quiet=True)
        except SourceUnavailableError:
            raise
        except (Exception, SystemExit) as exc:
            raise SourceUnavailableError(
                f"download of kaggle dataset '{dataset}' failed "
                f"({redact(type(exc).__name__ + ': ' + str(exc))})"
            ) from None

    return download


def huggingface_downloader(
    dataset: str,
    file: str,
    *,
    cache_dir: Path,
    config_name: str | None = None,
    split: str = "train",
    data_files: str | list[str] | None = None,
    load_dataset: Callable[..., Any] | None = None,
) -> Downloader:
    """A callable writing one split of a Hugging Face dataset as ``<folder>/<file>`` (CSV).

    Parameters
    ----------
    dataset : str
        Hub id (``owner/name``) or a builder name with local data files.
    file : str
        Name of the CSV written (what the spec describes).
    cache_dir : path
        The ``datasets`` cache (under ``$MEDIAMIX_HOME/datasets``); with
        ``HF_HUB_OFFLINE=1`` a cached copy is used without network.
    config_name, split : str
        Dataset configuration and split.
    data_files : str or list of str, optional
        Local files for a packaged builder (``"csv"``, ``"parquet"``): works offline.
    load_dataset : callable, optional
        Replaces ``datasets.load_dataset`` (tests).
    """

    def download(folder: Path) -> None:
        loader: Callable[..., Any]
        if load_dataset is not None:
            loader = load_dataset
        else:
            try:
                import datasets
            except ImportError:
                raise SourceUnavailableError(
                    "Hugging Face downloads need the datasets library: "
                    "pip install 'mediamix[connectors]'"
                ) from None
            # datasets 5 exports its functions lazily, which type checkers cannot see
            loader = datasets.load_dataset  # type: ignore[attr-defined,unused-ignore]
        log.info("loading huggingface dataset %s (split %s)", dataset, split)
        try:
            extra = {"data_files": data_files} if data_files is not None else {}
            data = loader(dataset, name=config_name, split=split, cache_dir=str(cache_dir), **extra)
            frame = data.to_pandas()
        except SourceUnavailableError:
            raise
        except Exception as exc:
            raise SourceUnavailableError(
                f"huggingface dataset '{dataset}' could not be loaded "
                f"({redact(type(exc).__name__ + ': ' + str(exc))[:300]})"
            ) from None
        target = folder / file
        tmp = target.with_name(target.name + ".tmp")
        frame.to_csv(tmp, index=False)
        tmp.replace(target)

    return download


def is_saved_dataset(path: Path) -> bool:
    """Whether ``path`` is a folder written by ``Dataset.save_to_disk`` / ``DatasetDict``."""
    return path.is_dir() and (
        (path / "dataset_info.json").is_file()
        or (path / "state.json").is_file()
        or (path / "dataset_dict.json").is_file()
    )


def read_saved_dataset(path: Path, split: str = "train") -> pd.DataFrame:
    """A ``save_to_disk`` folder as a frame (a ``DatasetDict``: ``split``, or its only split).

    Raises
    ------
    SourceUnavailableError
        The ``datasets`` library is missing or the folder cannot be read.
    """
    try:
        from datasets import load_from_disk  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        raise SourceUnavailableError(
            f"{path} is a saved Hugging Face dataset; reading it needs the datasets library: "
            "pip install 'mediamix[connectors]'"
        ) from None
    try:
        data = load_from_disk(str(path))
    except Exception as exc:
        raise SourceUnavailableError(
            f"cannot read the saved dataset {path} ({type(exc).__name__}: {exc})"
        ) from None
    if hasattr(data, "keys"):  # a DatasetDict
        splits = list(data.keys())
        if split in splits:
            data = data[split]
        elif len(splits) == 1:
            data = data[splits[0]]
        else:
            raise SourceUnavailableError(
                f"saved dataset {path} has splits {splits}; none is '{split}'"
            )
    frame = data.to_pandas()
    assert isinstance(frame, pd.DataFrame)
    return frame
