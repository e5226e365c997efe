"""Secret references resolved through AWS Secrets Manager and SSM (moto), never leaked."""

from __future__ import annotations

import json
import logging

import pytest

from mediamix.errors import InputError
from mediamix.secrets import is_secret_reference, parse_secret_reference, resolve_secret

pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

PASSWORD = "s3cr3t-Pa55-for-tests"  # pragma: allowlist secret -- a fake credential of the tests


@pytest.fixture(scope="module")
def aws():
    """Moto's in-process AWS, with fake credentials so nothing can reach a real account."""
    import boto3

    with pytest.MonkeyPatch.context() as env, moto.mock_aws():
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
            env.delenv(name, raising=False)
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        sm = boto3.client("secretsmanager")
        sm.create_secret(Name="prod/mediamix/warehouse", SecretString=PASSWORD)
        sm.create_secret(
            Name="prod/mediamix/smtp",
            SecretString=json.dumps({"username": "reports", "password": PASSWORD, "port": 587}),
        )
        sm.create_secret(Name="prod/mediamix/blob", SecretBinary=b"\x00\x01")
        ssm = boto3.client("ssm")
        ssm.put_parameter(Name="/mediamix/webhook", Value=PASSWORD, Type="SecureString")
        ssm.put_parameter(Name="/mediamix/plain", Value="not-json", Type="String")
        yield


def test_plain_values_pass_through_and_stay_hidden() -> None:
    secret = resolve_secret(PASSWORD)
    assert secret is not None
    assert secret.get_secret_value() == PASSWORD
    assert PASSWORD not in repr(secret)
    assert PASSWORD not in str(secret)
    assert resolve_secret("") is None
    assert resolve_secret(None) is None


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("aws-secretsmanager://prod/mediamix/warehouse", PASSWORD),
        ("aws-secretsmanager://prod/mediamix/smtp#password", PASSWORD),
        ("aws-secretsmanager://prod/mediamix/smtp#username", "reports"),
        ("aws-secretsmanager://prod/mediamix/smtp#port", "587"),
        ("aws-ssm:///mediamix/webhook", PASSWORD),
        ("aws-ssm:///mediamix/plain", "not-json"),
    ],
)
def test_references_resolve_through_the_managers(aws: None, reference: str, expected: str) -> None:
    assert is_secret_reference(reference)
    secret = resolve_secret(reference, setting="MEDIAMIX_X")
    assert secret is not None
    assert secret.get_secret_value() == expected


def test_secret_arn_resolves(aws: None) -> None:
    import boto3

    arn = boto3.client("secretsmanager").describe_secret(SecretId="prod/mediamix/warehouse")["ARN"]
    secret = resolve_secret(f"aws-secretsmanager://{arn}")
    assert secret is not None
    assert secret.get_secret_value() == PASSWORD


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("aws-secretsmanager://prod/missing", "could not be read (ResourceNotFoundException)"),
        ("aws-ssm:///mediamix/missing", "could not be read (ParameterNotFound)"),
        ("aws-secretsmanager://prod/mediamix/smtp#token", "no field 'token'"),
        ("aws-ssm:///mediamix/plain#key", "not a JSON object"),
        ("aws-secretsmanager://prod/mediamix/blob", "binary data"),
        ("aws-ssm://relative/path", "names no secret"),
        ("aws-secretsmanager://", "names no secret"),
    ],
)
def test_bad_references_name_the_reference_never_a_value(
    aws: None, reference: str, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(InputError) as caught:
        resolve_secret(reference, setting="MEDIAMIX_SMTP_PASSWORD")
    text = str(caught.value)
    assert message in text
    assert "MEDIAMIX_SMTP_PASSWORD" in text
    assert PASSWORD not in text
    assert PASSWORD not in caplog.text


def test_resolving_logs_no_value(aws: None, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    resolve_secret("aws-secretsmanager://prod/mediamix/smtp#password", setting="S")
    assert PASSWORD not in caplog.text


def test_parse_keeps_the_ssm_path_and_the_key() -> None:
    ref = parse_secret_reference("aws-ssm:///a/b#c")
    assert (ref.store, ref.name, ref.key) == ("aws-ssm", "/a/b", "c")
    assert str(ref) == "aws-ssm:///a/b#c"
    assert not is_secret_reference("https://hooks.example/abc")


def test_tracking_uris_are_written_without_their_password() -> None:
    from mediamix.secrets import redact_url

    uri = f"https://reports:{PASSWORD}@mlflow.example.com:8443/"
    assert redact_url(uri) == "https://reports:***@mlflow.example.com:8443/"
    assert PASSWORD not in redact_url(uri)
    assert redact_url("postgresql+psycopg://u@db/jobs") == "postgresql+psycopg://u@db/jobs"
