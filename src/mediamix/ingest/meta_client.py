"""The :class:`~mediamix.ingest.meta.MetaTransport` over the ``facebook-business`` SDK.

Credentials: ``META_ACCESS_TOKEN`` (and optionally ``META_APP_ID`` and
``META_APP_SECRET``, which add the SDK's ``appsecret_proof``) from the
environment, or a JSON file with the keys ``access_token``, ``app_id``,
``app_secret`` (the layout of the SDK's own examples' ``config.json``). They go
into a ``FacebookSession``, the token as an ``Authorization`` header rather than
the SDK's query parameter (URLs get logged by HTTP libraries); the transport never logs them and every message is
passed through :func:`~mediamix.ingest.base.redact` with the token and secret.

Each call is ``FacebookAdsApi.call("GET", ("act_<id>", "insights"), params)``, the
request the SDK's ``AdAccount.get_insights`` cursor makes page by page; paging
over ``paging.cursors.after`` stays in :class:`~mediamix.ingest.meta.MetaSource`
so a throttled or failed page is retried alone instead of restarting the cursor.

Throttling: ``FacebookRequestError`` with codes 4, 17, 613, 80004 become rate
limits; ``is_transient`` errors, HTTP 5xx (the SDK counts a non-JSON 5xx body as
a success, so the status is checked here) and connection failures become
transient errors. The usage headers (``x-business-use-case-usage``,
``x-ad-account-usage``, ``x-fb-ads-insights-throttle``, ``x-app-usage``) give the
wait before retrying a throttled call (``estimated_time_to_regain_access``,
``reset_time_duration``), and after a successful call whose usage is at or above
``usage_threshold`` percent the transport pauses before the next one.

The SDK is imported inside functions only; the API is built without
``FacebookAdsApi.init`` so no process-wide default API or crash reporter is set.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediamix.errors import InputError
from mediamix.ingest.base import SourceUnavailableError, TransientError, redact
from mediamix.ingest.meta import MetaApiError

__all__ = ["MetaCredentials", "MetaSdkTransport", "Usage", "read_usage"]

log = logging.getLogger(__name__)

USAGE_HEADERS = (
    "x-business-use-case-usage",
    "x-ad-account-usage",
    "x-fb-ads-insights-throttle",
    "x-app-usage",
)


@dataclass(frozen=True)
class Usage:
    """What the usage headers of one response say.

    ``percent`` is the highest utilisation reported (0-100); ``regain_seconds``
    the longest wait the API announced before access is back (0 when none).
    """

    percent: float = 0.0
    regain_seconds: float = 0.0


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def read_usage(headers: Mapping[str, str]) -> Usage:
    """The usage the Graph API reports in its response headers.

    Examples
    --------
    >>> read_usage({"x-ad-account-usage": '{"acc_id_util_pct": 96.5, "reset_time_duration": 40}'})
    Usage(percent=96.5, regain_seconds=40.0)
    >>> buc = '{"42": [{"type": "ads_insights", "call_count": 100, "estimated_time_to_regain_access": 2}]}'
    >>> read_usage({"X-Business-Use-Case-Usage": buc})
    Usage(percent=100.0, regain_seconds=120.0)
    """
    lowered = {str(k).lower(): v for k, v in headers.items()}
    percent = 0.0
    regain = 0.0
    for name in USAGE_HEADERS:
        raw = lowered.get(name)
        if not raw:
            continue
        try:
            body = json.loads(raw)
        except ValueError:
            log.debug("unreadable %s header ignored", name)
            continue
        entries: list[Mapping[str, Any]] = []
        if name == "x-business-use-case-usage" and isinstance(body, Mapping):
            for value in body.values():
                if isinstance(value, list):
                    entries.extend(e for e in value if isinstance(e, Mapping))
        elif isinstance(body, Mapping):
            entries.append(body)
        for entry in entries:
            for key in (
                "call_count",
                "total_cputime",
                "total_time",
                "acc_id_util_pct",
                "app_id_util_pct",
            ):
                percent = max(percent, _number(entry.get(key)))
            # minutes in the business use case header, seconds in the ad account one
            regain = max(regain, 60.0 * _number(entry.get("estimated_time_to_regain_access")))
            regain = max(regain, _number(entry.get("reset_time_duration")))
    return Usage(percent=percent, regain_seconds=regain)


@dataclass(frozen=True)
class MetaCredentials:
    """Access token and optional app id/secret; kept out of ``repr``."""

    access_token: str
    app_id: str | None = None
    app_secret: str | None = None

    def __repr__(self) -> str:
        return f"MetaCredentials(access_token=***, app_id={self.app_id!r}, app_secret=***)"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values to mask in every message."""
        return tuple(s for s in (self.access_token, self.app_secret) if s)

    @classmethod
    def load(cls, config: str | Path | None = None) -> MetaCredentials:
        """From a JSON file, else ``META_ACCESS_TOKEN`` / ``META_APP_ID`` / ``META_APP_SECRET``.

        Raises
        ------
        InputError
            No token found, or the file is unreadable; the message names what to set.
        """
        if config is not None:
            path = Path(config)
            try:
                body = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise InputError.single(
                    f"Meta configuration file {path} does not exist", file=str(path)
                ) from None
            except (OSError, ValueError) as exc:
                raise InputError.single(
                    f"Meta configuration file is not valid JSON ({type(exc).__name__})",
                    file=str(path),
                ) from None
            token = body.get("access_token") if isinstance(body, Mapping) else None
            if not token:
                raise InputError.single(
                    "Meta configuration file has no 'access_token'",
                    file=str(path),
                    column="access_token",
                )
            return cls(
                access_token=str(token),
                app_id=str(body["app_id"]) if body.get("app_id") else None,
                app_secret=str(body["app_secret"]) if body.get("app_secret") else None,
            )
        token = os.environ.get("META_ACCESS_TOKEN")
        if not token:
            raise InputError(
                "Meta is not configured: set META_ACCESS_TOKEN (optionally META_APP_ID and "
                "META_APP_SECRET) or pass --config with a JSON file holding access_token"
            )
        return cls(
            access_token=token,
            app_id=os.environ.get("META_APP_ID") or None,
            app_secret=os.environ.get("META_APP_SECRET") or None,
        )


class MetaSdkTransport:
    """``GET`` requests through ``FacebookAdsApi.call``.

    Parameters
    ----------
    credentials : MetaCredentials
        Token (and app id/secret) of the session.
    graph_url : str, optional
        Base URL of the Graph API (default the SDK's ``FacebookSession.GRAPH``);
        tests point it at a local server.
    api_version : str, optional
        ``vNN.N``; default the SDK's.
    timeout : float
        Seconds per request.
    usage_threshold : float
        Pause after a response whose usage is at or above this percentage.
    max_pause : float
        Longest pause (seconds) taken on high usage.
    sleep : callable
        Injectable for tests.
    """

    def __init__(
        self,
        credentials: MetaCredentials,
        *,
        graph_url: str | None = None,
        api_version: str | None = None,
        timeout: float = 60.0,
        usage_threshold: float = 90.0,
        max_pause: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        try:
            from facebook_business.api import FacebookAdsApi
            from facebook_business.session import FacebookSession
        except ImportError:
            raise InputError(
                "Meta needs the facebook-business SDK: pip install 'mediamix[connectors]'"
            ) from None
        session = FacebookSession(
            app_id=credentials.app_id,
            app_secret=credentials.app_secret,
            access_token=credentials.access_token,
            timeout=timeout,
        )
        # the SDK sends the token as a query parameter, which urllib3 logs at DEBUG
        # with the URL: send it in the Authorization header instead
        session.requests.params.pop("access_token", None)
        session.requests.headers["Authorization"] = f"OAuth {credentials.access_token}"
        if graph_url is not None:
            # FacebookAdsApi.call builds URLs from the session's GRAPH attribute
            session.GRAPH = graph_url.rstrip("/")
        self._api = FacebookAdsApi(session, api_version=api_version)
        self._secrets = credentials.secrets
        self.usage_threshold = usage_threshold
        self.max_pause = max_pause
        self._sleep = sleep

    def __repr__(self) -> str:
        return "MetaSdkTransport(<session>)"

    @classmethod
    def from_config(cls, config: str | Path | None = None, **options: Any) -> MetaSdkTransport:
        """A transport with credentials from ``config`` or the environment."""
        return cls(MetaCredentials.load(config), **options)

    def get(self, path: str, params: Mapping[str, str]) -> Mapping[str, Any]:
        """One ``GET``; the JSON object of the response.

        Raises
        ------
        MetaApiError
            The Graph API answered with an error (code, transient flag, wait).
        TransientError
            HTTP 5xx without an error object, or the connection failed.
        SourceUnavailableError
            The response is not a JSON object.
        """
        import requests
        from facebook_business.exceptions import FacebookRequestError

        try:
            response = self._api.call("GET", tuple(path.split("/")), params=dict(params))
        except FacebookRequestError as exc:
            raise self._api_error(exc) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(
                redact(f"Meta API unreachable: {type(exc).__name__}: {exc}", self._secrets)
            ) from None
        status = int(response.status() or 0)
        if status >= 500:
            raise TransientError(f"Meta API answered HTTP {status}")
        body = response.json()
        if not isinstance(body, Mapping):
            raise SourceUnavailableError(
                f"Meta API: malformed response (HTTP {status}, not a JSON object: "
                f"{redact(str(response.body())[:60], self._secrets)!r})"
            )
        usage = read_usage(response.headers())
        if usage.percent >= self.usage_threshold:
            pause = min(self.max_pause, max(usage.regain_seconds, 60.0))
            log.warning(
                "Meta API usage at %.0f%%, pausing %.0f s before the next call",
                usage.percent,
                pause,
            )
            self._sleep(pause)
        return body

    def _api_error(self, exc: Any) -> MetaApiError:
        status = int(exc.http_status() or 0)
        code = exc.api_error_code()
        message = exc.api_error_message() or f"HTTP {status}"
        usage = read_usage(exc.http_headers() or {})
        subcode = exc.api_error_subcode()
        text = redact(
            str(message) + (f" (subcode {subcode})" if subcode else "") + f" [HTTP {status}]",
            self._secrets,
        )
        return MetaApiError(
            int(code) if code is not None else status,
            text,
            transient=bool(exc.api_transient_error()) or status >= 500,
            retry_after=usage.regain_seconds or None,
        )
