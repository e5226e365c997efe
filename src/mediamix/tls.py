"""Certificate checks on the connections mediamix opens: verify by default, one CA setting.

Every TLS connection the platform opens as a client verifies the server's
certificate chain and host name. The CA bundle is the system's, or the file named
by the setting ``MEDIAMIX_TLS_CA_BUNDLE`` (a private CA, a test CA):

- SMTP, webhooks and any other socket: :func:`client_context` gives the
  :class:`ssl.SSLContext` to hand to ``smtplib.SMTP(...).starttls(context=...)``,
  ``smtplib.SMTP_SSL(context=...)`` or an HTTP client (TLS 1.2 at least);
- PostgreSQL (the job database): :func:`postgres_connect_args` turns
  ``sslmode=require`` (encryption without any check, in libpq) into
  ``verify-full`` and gives remote hosts ``verify-full`` when the URL says nothing;
  the CA is ``sslrootcert`` (the system store when no bundle is set);
- the MLflow tracking server: MLflow's own variables, set by the shells from the
  same setting (``MLFLOW_TRACKING_SERVER_CERT_PATH``); ``MLFLOW_TRACKING_INSECURE_TLS``
  is never set by mediamix.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["client_context", "postgres_connect_args"]

_LOOPBACK = {"localhost", "127.0.0.1", "::1", ""}
_VERIFIED_MODES = {"verify-ca", "verify-full"}


def client_context(ca_bundle: str | Path | None = None) -> ssl.SSLContext:
    """A client TLS context that verifies the server: chain, host name, TLS 1.2 or later.

    Parameters
    ----------
    ca_bundle : path, optional
        PEM file of the CAs to trust instead of the system's.

    Examples
    --------
    >>> context = client_context()
    >>> context.verify_mode == ssl.CERT_REQUIRED, context.check_hostname
    (True, True)
    >>> context.minimum_version >= ssl.TLSVersion.TLSv1_2
    True
    """
    context = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def postgres_connect_args(url: str, ca_bundle: str | Path | None = None) -> dict[str, Any]:
    """libpq TLS parameters for a PostgreSQL URL, verifying the server by default.

    ``sslmode`` in the URL wins, except ``require``, which libpq takes as "encrypt
    but trust any certificate" and mediamix as a request for TLS, so ``verify-full``.
    Without ``sslmode``, a remote host gets ``verify-full`` and a loopback host or
    socket keeps libpq's default. Verifying modes trust ``ca_bundle`` (or
    ``sslrootcert`` of the URL), else the system's CA store.

    Returns
    -------
    dict
        Keyword arguments for ``psycopg.connect`` (SQLAlchemy's ``connect_args``),
        which override the same parameters of the URL.

    Examples
    --------
    >>> postgres_connect_args("postgresql+psycopg://db.example.com/jobs")
    {'sslmode': 'verify-full', 'sslrootcert': 'system'}
    >>> postgres_connect_args("postgresql+psycopg://u@127.0.0.1/jobs")
    {}
    >>> postgres_connect_args("postgresql+psycopg://u@127.0.0.1/jobs?sslmode=require", "ca.pem")
    {'sslmode': 'verify-full', 'sslrootcert': 'ca.pem'}
    >>> postgres_connect_args("postgresql+psycopg://db.example.com/jobs?sslmode=disable")
    {}
    """
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    host = query.get("host", parts.hostname or "")
    mode = query.get("sslmode")
    args: dict[str, Any] = {}
    if mode == "require" or (mode is None and host not in _LOOPBACK and not host.startswith("/")):
        args["sslmode"] = "verify-full"
    elif mode in _VERIFIED_MODES:
        args["sslmode"] = mode
    if args.get("sslmode") in _VERIFIED_MODES:
        if ca_bundle:
            args["sslrootcert"] = str(ca_bundle)
        elif "sslrootcert" not in query:
            args["sslrootcert"] = "system"
    return args
