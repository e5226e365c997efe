"""Credentials from the environment or a secrets manager, never logged or written.

A setting that holds a credential (a database password, an SMTP password, a webhook
URL, the warehouse key) may hold either the value itself or a *reference* to where
the value is kept:

``aws-secretsmanager://NAME``
    the ``SecretString`` of an AWS Secrets Manager secret (``NAME`` may be a path
    such as ``prod/mediamix/smtp`` or a full ARN);
``aws-secretsmanager://NAME#KEY``
    the field ``KEY`` of a secret whose ``SecretString`` is a JSON object (the
    layout the AWS console uses for key/value secrets);
``aws-ssm:///PATH``
    the value of an SSM Parameter Store parameter, decrypted (``SecureString``);
    ``#KEY`` selects a field of a JSON value here too.

Anything else is taken as the value itself. References are resolved through boto3
(the ``aws`` extra), with the standard AWS configuration: credentials, region and
endpoint come from the usual ``AWS_*`` variables, profiles or instance roles, so
mediamix holds no AWS credential of its own.

The value is returned as a pydantic :class:`~pydantic.SecretStr`, whose ``repr``
and ``str`` hide it; error messages name the reference, never the value. Nothing
is cached: a rotated secret is picked up by the next command.

This module sits below every layer (like :mod:`mediamix.errors`): the shells resolve
the references in their settings and pass plain values down, and any use case
that is handed a reference can resolve it here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from mediamix.errors import InputError, Problem

__all__ = [
    "SECRET_SCHEMES",
    "SecretReference",
    "is_secret_reference",
    "parse_secret_reference",
    "redact_url",
    "resolve_secret",
    "reveal",
]

log = logging.getLogger(__name__)

SECRETS_MANAGER = "aws-secretsmanager"  # pragma: allowlist secret -- a store name, not a secret
PARAMETER_STORE = "aws-ssm"
SECRET_SCHEMES = (SECRETS_MANAGER, PARAMETER_STORE)

ClientFactory = Callable[[str], Any]
"""Makes a boto3 client for a service name (``secretsmanager`` or ``ssm``)."""


@dataclass(frozen=True)
class SecretReference:
    """Where a secret is kept.

    Attributes
    ----------
    store : {"aws-secretsmanager", "aws-ssm"}
        The secrets manager.
    name : str
        Secret name or ARN (Secrets Manager), parameter path (SSM, leading ``/`` kept).
    key : str or None
        Field of a JSON value to return, or ``None`` for the whole value.
    """

    store: str
    name: str
    key: str | None = None

    def __str__(self) -> str:
        suffix = f"#{self.key}" if self.key else ""
        return f"{self.store}://{self.name}{suffix}"


def is_secret_reference(value: str | SecretStr | None) -> bool:
    """Whether a setting's value names a secrets-manager entry instead of holding it.

    Examples
    --------
    >>> is_secret_reference("aws-ssm:///mediamix/warehouse-key")
    True
    >>> is_secret_reference("hunter2")
    False
    """
    text = _text(value)
    return text is not None and any(text.startswith(f"{s}://") for s in SECRET_SCHEMES)


def parse_secret_reference(value: str, *, setting: str | None = None) -> SecretReference:
    """Split a reference into store, name and JSON key.

    Parameters
    ----------
    value : str
        ``aws-secretsmanager://NAME[#KEY]`` or ``aws-ssm:///PATH[#KEY]``.
    setting : str, optional
        Name of the setting it came from, for error messages.

    Raises
    ------
    InputError
        The reference has no name, or an SSM path does not start with ``/``.

    Examples
    --------
    >>> parse_secret_reference("aws-secretsmanager://prod/mediamix/smtp#password")
    SecretReference(store='aws-secretsmanager', name='prod/mediamix/smtp', key='password')
    >>> parse_secret_reference("aws-ssm:///mediamix/warehouse-key")
    SecretReference(store='aws-ssm', name='/mediamix/warehouse-key', key=None)
    """
    store, _, rest = value.partition("://")
    if store not in SECRET_SCHEMES:
        raise _error(
            f"'{store}' is not a secrets store (use one of {', '.join(SECRET_SCHEMES)})", setting
        )
    name, _, key = rest.partition("#")
    if not name or (store == PARAMETER_STORE and not name.startswith("/")) or name == "/":
        example = (
            "aws-ssm:///path/to/parameter"
            if store == PARAMETER_STORE
            else "aws-secretsmanager://secret-name"
        )
        raise _error(f"secret reference '{value}' names no secret; expected {example}", setting)
    return SecretReference(store=store, name=name, key=key or None)


def resolve_secret(
    value: str | SecretStr | None,
    *,
    setting: str | None = None,
    client_factory: ClientFactory | None = None,
) -> SecretStr | None:
    """The credential a setting stands for: its value, or what its reference points to.

    Parameters
    ----------
    value : str, SecretStr or None
        The setting's value as read from the environment or a settings file.
    setting : str, optional
        The setting's name (``MEDIAMIX_WAREHOUSE_KEY``), used in error messages.
    client_factory : callable, optional
        ``client_factory(service_name)`` returns a boto3 client; default
        ``boto3.client`` with the standard AWS configuration.

    Returns
    -------
    SecretStr or None
        ``None`` when ``value`` is ``None`` or empty.

    Raises
    ------
    InputError
        The reference is malformed, the secret or parameter does not exist or cannot
        be read, its value is empty, or ``#KEY`` names a field the value does not
        have. The message names the reference, never a value.

    Examples
    --------
    >>> resolve_secret("hunter2")
    SecretStr('**********')
    >>> resolve_secret("hunter2").get_secret_value()
    'hunter2'
    >>> resolve_secret(None) is None
    True
    """
    text = _text(value)
    if not text:
        return None
    if not is_secret_reference(text):
        return SecretStr(text)
    ref = parse_secret_reference(text, setting=setting)
    factory = client_factory or _boto3_client
    if ref.store == SECRETS_MANAGER:
        raw = _from_secrets_manager(ref, factory, setting)
    else:
        raw = _from_parameter_store(ref, factory, setting)
    if ref.key is not None:
        raw = _field(raw, ref, setting)
    if not raw:
        raise _error(f"secret {ref} is empty", setting)
    log.debug("resolved %s from %s", setting or "a secret", ref.store)
    return SecretStr(raw)


def reveal(value: str | SecretStr | None, *, setting: str | None = None) -> str | None:
    """:func:`resolve_secret` and the plain value, for the one call that needs it.

    Examples
    --------
    >>> reveal("hunter2")
    'hunter2'
    """
    secret = resolve_secret(value, setting=setting)
    return secret.get_secret_value() if secret is not None else None


def _text(value: str | SecretStr | None) -> str | None:
    if value is None:
        return None
    text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    return text.strip()


def _error(message: str, setting: str | None) -> InputError:
    return InputError([Problem(message, column=setting)])


def _boto3_client(service: str) -> Any:
    try:
        import boto3
    except ImportError:
        raise InputError(
            [
                Problem(
                    "secret references (aws-secretsmanager://, aws-ssm://) need boto3: "
                    "pip install 'mediamix[aws]'"
                )
            ]
        ) from None
    # botocore logs every response body at DEBUG: a secret's value would reach the
    # logs of anyone running with --log-level DEBUG
    logging.getLogger("botocore.parsers").setLevel(logging.INFO)
    return boto3.client(service)


def _client_error(exc: Exception, ref: SecretReference, setting: str | None) -> InputError:
    code = "unknown"
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = str(response.get("Error", {}).get("Code", code))
    else:
        code = type(exc).__name__
    return _error(f"secret {ref} could not be read ({code})", setting)


def _from_secrets_manager(ref: SecretReference, factory: ClientFactory, setting: str | None) -> str:
    try:
        answer = factory("secretsmanager").get_secret_value(SecretId=ref.name)
    except InputError:
        raise
    except Exception as exc:  # botocore's ClientError, NoCredentialsError, EndpointConnectionError
        raise _client_error(exc, ref, setting) from None
    text = answer.get("SecretString")
    if text is None:
        raise _error(f"secret {ref} holds binary data, not text", setting)
    return str(text)


def _from_parameter_store(ref: SecretReference, factory: ClientFactory, setting: str | None) -> str:
    try:
        answer = factory("ssm").get_parameter(Name=ref.name, WithDecryption=True)
    except InputError:
        raise
    except Exception as exc:  # botocore's ClientError, NoCredentialsError, EndpointConnectionError
        raise _client_error(exc, ref, setting) from None
    return str(answer.get("Parameter", {}).get("Value", ""))


def _field(raw: str, ref: SecretReference, setting: str | None) -> str:
    try:
        document = json.loads(raw)
    except ValueError:
        raise _error(
            f"secret {ref}: the value is not a JSON object, so it has no field '{ref.key}'", setting
        ) from None
    if not isinstance(document, dict) or ref.key not in document:
        raise _error(f"secret {ref}: no field '{ref.key}' in its JSON value", setting)
    item = document[ref.key]
    return item if isinstance(item, str) else json.dumps(item)


def redact_url(url: str) -> str:
    """``url`` without the password of its user part, for files, logs and run records.

    A tracking or database URI may carry credentials (a user and password before the host);
    what is written down keeps the user and replaces the password with ``***``.

    Examples
    --------
    >>> redact_url("https://reports:hunter2@mlflow.example.com/")  # pragma: allowlist secret -- a made-up example
    'https://reports:***@mlflow.example.com/'
    >>> redact_url("sqlite:////home/me/.mediamix/mlflow/mlflow.db")
    'sqlite:////home/me/.mediamix/mlflow/mlflow.db'
    """
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
