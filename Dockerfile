# syntax=docker/dockerfile:1
#
# Two stages: the builder makes a wheel of briefcast and installs it, with its
# dependencies pinned by requirements.lock (used as constraints, so dev tools
# in the lock are not installed), into /opt/venv; the runtime image gets only
# that virtualenv plus config/ and examples/, and runs as an unprivileged user.

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY requirements.lock pyproject.toml README.md ./
COPY config/ ./config/
COPY examples/ ./examples/
COPY src/ ./src/
RUN python -m pip wheel --no-deps --wheel-dir /dist . \
 && /opt/venv/bin/pip install --constraint requirements.lock /dist/briefcast-*.whl

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    BRIEFCAST_DATABASE_URL=sqlite:////app/data/briefcast.db \
    BRIEFCAST_HTTP_HOST=0.0.0.0 \
    BRIEFCAST_HTTP_PORT=8080
RUN groupadd --system --gid 10001 briefcast \
 && useradd --system --uid 10001 --gid briefcast --home-dir /app --shell /usr/sbin/nologin briefcast
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY config/ ./config/
COPY examples/ ./examples/
RUN mkdir -p /app/data && chown briefcast:briefcast /app/data
USER briefcast
VOLUME ["/app/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["briefcast"]
CMD ["run"]
