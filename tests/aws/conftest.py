"""A moto server on loopback (one per test module) and a small fitted model.

moto 5.2 has no SageMaker ``UpdateEndpoint``; :func:`_add_update_endpoint` gives
its fake backend one that behaves like the service: the endpoint reports
``Updating`` on the first describe after the update, then ``InService`` on the
new config (or, for an endpoint in ``FAILING_UPDATES``, ``InService`` on the old
config with a ``FailureReason``).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("moto", reason="needs the aws extra (boto3, moto[server])")

from _aws_helpers import FAILING_UPDATES, REGION
from moto.core.responses import ActionResult
from moto.sagemaker import models as sm_models
from moto.sagemaker.responses import SageMakerResponse
from moto.server import ThreadedMotoServer

from mediamix.aws.clients import AwsConfig


def _add_update_endpoint() -> None:
    if hasattr(SageMakerResponse, "update_endpoint"):
        return

    def backend_update(self: Any, endpoint_name: str, endpoint_config_name: str) -> str:
        endpoint = self.endpoints[endpoint_name]
        config = self.describe_endpoint_config(endpoint_config_name)
        endpoint.endpoint_status = "Updating"
        if endpoint_name in FAILING_UPDATES:
            FAILING_UPDATES.discard(endpoint_name)
            endpoint.failure_reason = "container did not answer /ping"
            return endpoint.arn
        endpoint.failure_reason = None
        endpoint.endpoint_config_name = endpoint_config_name
        endpoint.production_variants = endpoint._process_production_variants(
            config["ProductionVariants"]
        )
        return endpoint.arn

    original_describe = sm_models.SageMakerModelBackend.describe_endpoint

    def describe(self: Any, endpoint_name: str) -> dict[str, Any]:
        answer = original_describe(self, endpoint_name)
        endpoint = self.endpoints[endpoint_name]
        if endpoint.endpoint_status == "Updating":
            endpoint.endpoint_status = "InService"  # the next describe sees it serving
        return answer

    def response_update(self: Any) -> Any:
        arn = self.sagemaker_backend.update_endpoint(
            self._get_param("EndpointName"), self._get_param("EndpointConfigName")
        )
        return ActionResult({"EndpointArn": arn})

    sm_models.SageMakerModelBackend.update_endpoint = backend_update  # type: ignore[attr-defined]
    sm_models.SageMakerModelBackend.describe_endpoint = describe  # type: ignore[method-assign]
    SageMakerResponse.update_endpoint = response_update  # type: ignore[attr-defined]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A moto server on a free loopback port, with fake credentials in the environment."""
    _add_update_endpoint()
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_DEFAULT_REGION", REGION)
        env.delenv("AWS_PROFILE", raising=False)
        env.setenv("MEDIAMIX_AWS_ENDPOINT_URL", url)
        env.setenv("MEDIAMIX_AWS_REGION", REGION)
        yield url
    server.stop()


@pytest.fixture(scope="module")
def aws(moto_endpoint: str) -> AwsConfig:
    return AwsConfig(region=REGION, endpoint_url=moto_endpoint)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fit output folder (summary.json, decomposition.csv, model/) of a small model."""
    from mediamix.models.result import example_result
    from mediamix.service.fit import write_fit

    return write_fit(example_result(), tmp_path_factory.mktemp("fit") / "fit")
