"""The :class:`~mediamix.ingest.google_ads.GoogleAdsTransport` over the official ``google-ads`` client.

Credentials come from the library's own configuration, never from mediamix
settings: a ``google-ads.yaml`` file (``--config``, else
``GOOGLE_ADS_CONFIGURATION_FILE_PATH``, else ``~/google-ads.yaml``) or the
``GOOGLE_ADS_*`` environment variables (``GOOGLE_ADS_DEVELOPER_TOKEN``,
``GOOGLE_ADS_CLIENT_ID``, ``GOOGLE_ADS_CLIENT_SECRET``, ``GOOGLE_ADS_REFRESH_TOKEN``,
optionally ``GOOGLE_ADS_LOGIN_CUSTOMER_ID``), read by
``GoogleAdsClient.load_from_storage`` / ``load_from_env``.

Each call runs one page of ``GoogleAdsService.Search`` (the pager's first
response, so the source keeps control of paging and retries page by page) and
turns the proto-plus rows into their REST/JSON form (camelCase keys, int64 as
strings, enums by name) with ``json_format.MessageToDict``, the form
:class:`~mediamix.ingest.google_ads.GoogleAdsSource` parses.

Errors: ``RESOURCE_EXHAUSTED`` (gRPC status or ``quota_error``) becomes
:class:`~mediamix.ingest.base.RateLimitedError` (with the server's
``retry_delay`` when given); ``INTERNAL``, ``UNAVAILABLE``, ``DEADLINE_EXCEEDED``
and ``internal_error`` become :class:`~mediamix.ingest.base.TransientError`; any
other failure (authentication, authorization, a bad query) is
:class:`~mediamix.ingest.base.SourceUnavailableError` with the error codes and
the request id, credentials redacted.

``google.ads`` is imported inside functions only, so ``import mediamix`` stays light.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mediamix.errors import InputError
from mediamix.ingest.base import (
    RateLimitedError,
    SourceUnavailableError,
    TransientError,
    redact,
)

__all__ = [
    "GoogleAdsClientTransport",
    "load_google_ads_client",
    "map_google_ads_error",
    "row_to_json",
]

log = logging.getLogger(__name__)

_RATE_LIMIT_STATUS = frozenset({"RESOURCE_EXHAUSTED"})
_TRANSIENT_STATUS = frozenset({"INTERNAL", "UNAVAILABLE", "DEADLINE_EXCEEDED", "UNKNOWN"})
_RATE_LIMIT_CODES = frozenset({"RESOURCE_EXHAUSTED", "RESOURCE_TEMPORARILY_EXHAUSTED"})
_TRANSIENT_CODES = frozenset({"INTERNAL_ERROR", "TRANSIENT_ERROR", "DEADLINE_EXCEEDED"})
_ENV_REQUIRED = (
    "GOOGLE_ADS_DEVELOPER_TOKEN",
    "GOOGLE_ADS_CLIENT_ID",
    "GOOGLE_ADS_CLIENT_SECRET",
    "GOOGLE_ADS_REFRESH_TOKEN",
)
_HOW_TO_CONFIGURE = (
    "pass --config google-ads.yaml, set GOOGLE_ADS_CONFIGURATION_FILE_PATH, put "
    "google-ads.yaml in your home folder, or set "
    + ", ".join(_ENV_REQUIRED)
    + " (and GOOGLE_ADS_LOGIN_CUSTOMER_ID for a manager account)"
)


def row_to_json(row: Any) -> dict[str, Any]:
    """The REST/JSON form of a ``GoogleAdsRow`` (proto-plus or raw protobuf).

    Examples
    --------
    >>> row_to_json({"segments": {"date": "2024-03-01"}})
    {'segments': {'date': '2024-03-01'}}
    """
    if isinstance(row, Mapping):
        return dict(row)
    from google.protobuf import json_format

    message = type(row).pb(row) if hasattr(type(row), "pb") else row
    return dict(json_format.MessageToDict(message))


def _status_name(error: Any) -> str:
    """Name of the gRPC status of an ``RpcError`` (``''`` when it has none)."""
    code = getattr(error, "code", None)
    if not callable(code):
        return ""
    try:
        status = code()
    except Exception:  # an RpcError that is not a Call has no status to give
        return ""
    return str(getattr(status, "name", status or ""))


def _failure_errors(failure: Any) -> list[dict[str, Any]]:
    """The ``errors`` of a ``GoogleAdsFailure`` in JSON form (``[]`` when unreadable)."""
    if failure is None:
        return []
    try:
        body = row_to_json(failure)
    except Exception:  # a failure we cannot decode still maps by its gRPC status
        return []
    errors = body.get("errors", [])
    if not isinstance(errors, list):
        return []
    return [dict(e) for e in errors if isinstance(e, Mapping)]


def _retry_delay(errors: list[dict[str, Any]]) -> float | None:
    """Seconds of the first ``quotaErrorDetails.retryDelay`` (``"30s"``), if any."""
    for error in errors:
        delay = ((error.get("details") or {}).get("quotaErrorDetails") or {}).get("retryDelay")
        if isinstance(delay, str) and re.fullmatch(r"\d+(\.\d+)?s", delay):
            return float(delay[:-1])
    return None


def map_google_ads_error(exc: BaseException, secrets: tuple[str, ...] = ()) -> Exception:
    """The mediamix error for a ``GoogleAdsException`` or ``grpc.RpcError``.

    Parameters
    ----------
    exc : Exception
        What the client raised.
    secrets : tuple of str
        Values to mask in the message (developer token, refresh token...).

    Returns
    -------
    Exception
        :class:`RateLimitedError`, :class:`TransientError` or
        :class:`SourceUnavailableError`.
    """
    failure = getattr(exc, "failure", None)
    rpc = getattr(exc, "error", exc)  # GoogleAdsException wraps the RpcError
    status = _status_name(rpc)
    errors = _failure_errors(failure)
    kinds: list[str] = []
    for error in errors:
        code = error.get("errorCode") or {}
        kinds.extend(f"{k}={v}" for k, v in code.items())
    names = {str(v) for e in errors for v in (e.get("errorCode") or {}).values()}
    messages = "; ".join(str(e.get("message", "")) for e in errors if e.get("message"))
    request_id = getattr(exc, "request_id", None)
    text = (
        f"Google Ads API error {status or type(exc).__name__}"
        + (f" [{', '.join(kinds)}]" if kinds else "")
        + (f": {messages}" if messages else "")
        + (f" (request id {request_id})" if request_id else "")
    )
    if not errors and not kinds:
        details = getattr(rpc, "details", None)
        if callable(details):
            with contextlib.suppress(Exception):  # details are optional on a bare RpcError
                text += f": {details()}"
    text = redact(text, secrets)
    if status in _RATE_LIMIT_STATUS or names & _RATE_LIMIT_CODES:
        return RateLimitedError(text, retry_after=_retry_delay(errors))
    if status in _TRANSIENT_STATUS or names & _TRANSIENT_CODES:
        return TransientError(text)
    return SourceUnavailableError(text)


def load_google_ads_client(config: str | Path | None = None, version: str | None = None) -> Any:
    """A ``GoogleAdsClient`` from the library's own configuration.

    Order: ``config`` (a google-ads.yaml); else the ``GOOGLE_ADS_*`` environment
    variables when the developer token is set there; else the library's default
    file (``GOOGLE_ADS_CONFIGURATION_FILE_PATH`` or ``~/google-ads.yaml``).

    Raises
    ------
    InputError
        The library is not installed or no usable configuration was found; the
        message says what to install or set (never a credential value).
    SourceUnavailableError
        The OAuth credentials could not be refreshed (the library refreshes them
        when the client is built, which needs the network).
    """
    try:
        from google.ads.googleads.client import GoogleAdsClient
        from google.auth.exceptions import GoogleAuthError
    except ImportError:
        raise InputError(
            "Google Ads needs the google-ads library: pip install 'mediamix[connectors]'"
        ) from None
    try:
        if config is not None:
            path = Path(config)
            if not path.is_file():
                raise InputError.single(
                    f"Google Ads configuration file {path} does not exist", file=str(path)
                )
            return GoogleAdsClient.load_from_storage(str(path), version=version)
        if os.environ.get("GOOGLE_ADS_DEVELOPER_TOKEN"):
            return GoogleAdsClient.load_from_env(version=version)
        default = os.environ.get("GOOGLE_ADS_CONFIGURATION_FILE_PATH") or str(
            Path.home() / "google-ads.yaml"
        )
        if not Path(default).is_file():
            raise InputError(f"Google Ads is not configured: {_HOW_TO_CONFIGURE}")
        return GoogleAdsClient.load_from_storage(default, version=version)
    except InputError:
        raise
    except GoogleAuthError as exc:
        raise SourceUnavailableError(
            f"Google Ads credentials could not be refreshed ({redact(type(exc).__name__ + ': ' + str(exc))})"
        ) from None
    except (ValueError, KeyError, OSError) as exc:
        # the library names the missing key; values never appear in its messages,
        # but redact anyway in case a future version echoes them
        raise InputError(
            f"Google Ads configuration is incomplete ({redact(str(exc))}); {_HOW_TO_CONFIGURE}"
        ) from None


class GoogleAdsClientTransport:
    """One page of ``GoogleAdsService.Search`` through a ``GoogleAdsClient``.

    Parameters
    ----------
    client : GoogleAdsClient
        A configured client (see :func:`load_google_ads_client`), or any object
        whose ``get_service("GoogleAdsService")`` has ``search(request=...)``
        returning a pager with ``pages``.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._service: Any = None

    def __repr__(self) -> str:
        return "GoogleAdsClientTransport(<client>)"

    @classmethod
    def from_config(
        cls, config: str | Path | None = None, version: str | None = None
    ) -> GoogleAdsClientTransport:
        """A transport over a client loaded by :func:`load_google_ads_client`."""
        return cls(load_google_ads_client(config, version))

    def _secrets(self) -> tuple[str, ...]:
        values = [getattr(self._client, "developer_token", None)]
        credentials = getattr(self._client, "credentials", None)
        for name in ("refresh_token", "token", "client_secret"):
            values.append(getattr(credentials, name, None))
        return tuple(v for v in values if isinstance(v, str) and v)

    def search(self, customer_id: str, query: str, page_token: str | None) -> Mapping[str, Any]:
        """One page: ``{"results": [...], "nextPageToken": ...}`` in REST/JSON form."""
        try:
            if self._service is None:
                self._service = self._client.get_service("GoogleAdsService")
            request: dict[str, Any] = {"customer_id": customer_id, "query": query}
            if page_token:
                request["page_token"] = page_token
            pager = self._service.search(request=request)
            # the first response only: the next page is the source's next call
            response = next(iter(pager.pages))
        except Exception as exc:
            mapped = self._map(exc)
            if mapped is None:
                raise
            raise mapped from None
        return {
            "results": [row_to_json(row) for row in response.results],
            "nextPageToken": str(getattr(response, "next_page_token", "") or ""),
        }

    def _map(self, exc: Exception) -> Exception | None:
        """The mediamix error for what the client raised, or ``None`` to re-raise it."""
        import grpc
        from google.ads.googleads.errors import GoogleAdsException

        if isinstance(exc, (GoogleAdsException, grpc.RpcError)):
            return map_google_ads_error(exc, self._secrets())
        try:
            from google.auth.exceptions import GoogleAuthError
        except ImportError:  # pragma: no cover - google-auth comes with google-ads
            return None
        if isinstance(exc, GoogleAuthError):
            return SourceUnavailableError(
                "Google Ads credentials were refused "
                f"({redact(type(exc).__name__ + ': ' + str(exc), self._secrets())})"
            )
        return None
