"""``mediamix serve``: the REST API (or the SageMaker serving contract) under uvicorn."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated, Any

import typer

from mediamix.errors import InputError

__all__ = ["TLS_CIPHERS", "serve_cmd"]

# TLS 1.2 suites with forward secrecy and AEAD only (TLS 1.3 suites are all strong and
# not set by this string); Python's server contexts refuse anything below TLS 1.2
TLS_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL:!MD5:!SHA1:!RSA"


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(0)


def serve_cmd(  # noqa: PLR0913 -- one argument per command-line option (typer)
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[
        int | None, typer.Option(help="Port (default 8000; 8080 with --sagemaker).")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="API processes.")] = 1,
    job_workers: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=64,
            help="Job worker processes started beside the API (default "
            "MEDIAMIX_API_JOB_WORKERS, 1; 0: run `mediamix worker` separately).",
        ),
    ] = None,
    sagemaker: Annotated[
        bool, typer.Option("--sagemaker", help="Serve one model the SageMaker way.")
    ] = False,
    model_dir: Annotated[
        Path | None, typer.Option(help="--sagemaker: the model folder (/opt/ml/model).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="Log level of the JSON logs.")] = "INFO",
    tls_cert: Annotated[
        Path | None,
        typer.Option(help="PEM certificate (chain): serve HTTPS only (TLS 1.2+, 1.3 preferred)."),
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM private key of --tls-cert.")] = None,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            help="Address of a TLS-terminating proxy whose X-Forwarded-For/-Proto headers "
            "are believed (repeatable); from anyone else they are ignored."
        ),
    ] = None,
) -> None:
    """Serve the REST API (state under MEDIAMIX_HOME; keys from `mediamix keys create`)."""
    import uvicorn

    from mediamix.api.config import load_config
    from mediamix.api.logs import configure_json_logging

    configure_json_logging(log_level)
    # uvicorn drains requests on SIGTERM, then raises the signal again: turn that into
    # a normal exit (code 0) that also stops the worker processes
    signal.signal(signal.SIGTERM, _exit_on_signal)
    if sagemaker:
        from mediamix.api.sagemaker import serve_sagemaker

        serve_sagemaker(model_dir or Path("/opt/ml/model"), host=host, port=port or 8080)
        return
    if model_dir is not None:
        raise InputError.single("--model-dir goes with --sagemaker", column="--model-dir")
    tls = _tls_options(tls_cert, tls_key)
    proxies = list(trusted_proxy or [])
    from mediamix.api.worker import start_pool, stop_pool

    config = load_config()
    n_jobs = config.api.job_workers if job_workers is None else job_workers
    pool = start_pool(config, n_jobs)
    try:
        uvicorn.run(
            "mediamix.api.app:create_app",
            factory=True,
            host=host,
            port=port or 8000,
            workers=workers,
            log_config=None,
            timeout_graceful_shutdown=30,
            server_header=False,
            proxy_headers=bool(proxies),
            forwarded_allow_ips=proxies or None,
            **tls,
        )
    finally:
        stop_pool(pool)


def _tls_options(cert: Path | None, key: Path | None) -> dict[str, Any]:
    """uvicorn's TLS options for ``--tls-cert``/``--tls-key`` (both or neither)."""
    if cert is None and key is None:
        return {}
    if cert is None or key is None:
        missing = "--tls-key" if key is None else "--tls-cert"
        raise InputError.single("--tls-cert and --tls-key go together", column=missing)
    for path, flag in ((cert, "--tls-cert"), (key, "--tls-key")):
        if not path.is_file():
            raise InputError.single("file not found", file=str(path), column=flag)
    return {"ssl_certfile": str(cert), "ssl_keyfile": str(key), "ssl_ciphers": TLS_CIPHERS}
