# The mediamix image for SageMaker: `docker run IMAGE serve` answers /ping and
# /invocations on 8080 for the model in /opt/ml/model; `docker run IMAGE train` fits the
# spec of the `training` channel and writes the fit output to /opt/ml/model.
# Build from the repository root: docker build -t mediamix:VERSION .  (docs/deploy-aws.md)

# build stage: the wheel, and the lock's pins as pip constraints (hashes stripped)
FROM python:3.11-slim-bookworm AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /src
COPY pyproject.toml requirements.lock README.md LICENSE NOTICE ./
COPY src ./src
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist . \
    && grep -E '^[A-Za-z0-9_.-]+==' requirements.lock | sed 's/ \\$//' > /dist/constraints.txt

FROM python:3.11-slim-bookworm
LABEL org.opencontainers.image.title="mediamix" \
      org.opencontainers.image.description="mediamix SageMaker serving and training image" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MEDIAMIX_HOME=/home/mediamix/.mediamix \
    MEDIAMIX_TRACKING=false
# versions come from the lock through the constraints file, so the install is pinned
# hadolint ignore=DL3013
RUN --mount=type=bind,from=build,source=/dist,target=/dist \
    pip install --no-cache-dir --constraint /dist/constraints.txt \
        "$(find /dist -name 'mediamix-*.whl')[api,parquet,aws]" \
    && groupadd --system --gid 10001 mediamix \
    && useradd --system --uid 10001 --gid mediamix --create-home mediamix \
    && mkdir -p /opt/ml/model /opt/ml/input /opt/ml/output \
    && chown -R mediamix:mediamix /opt/ml
USER 10001
WORKDIR /home/mediamix
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["mediamix-sagemaker", "health"]
ENTRYPOINT ["mediamix-sagemaker"]
CMD ["serve"]
