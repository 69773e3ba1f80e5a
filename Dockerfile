# Slim serving image: ONNX Runtime and tokenizers, no torch, the exported model inside.
#   docker build --network host -t stance .
#   docker run -p 8000:8000 stance                                  # the REST API
#   docker run -v "$PWD:/data" stance classify /data/in.jsonl -o /data/out.jsonl
ARG MODEL_DIR=models/stance-minilm

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY service ./service
COPY training/__init__.py ./training/__init__.py
RUN pip install --no-compile . \
    && find /opt/venv -name "__pycache__" -type d -prune -exec rm -rf {} + \
    && rm -rf /opt/venv/lib/python3.11/site-packages/pip /opt/venv/lib/python3.11/site-packages/setuptools

FROM python:3.11-slim AS runtime
ARG MODEL_DIR
LABEL org.opencontainers.image.title="stance" \
      org.opencontainers.image.description="Editorial stance classifier: reporting, quote or commentary"
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin stance
COPY --from=build /opt/venv /opt/venv
COPY --chown=root:root ${MODEL_DIR}/config.json ${MODEL_DIR}/tokenizer.json ${MODEL_DIR}/calibration.json ${MODEL_DIR}/stance_meta.json ${MODEL_DIR}/metrics.json /app/model/
COPY --chown=root:root ${MODEL_DIR}/onnx/ /app/model/onnx/
COPY --chown=root:root seeds /app/seeds
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    STANCE_MODEL_DIR=/app/model \
    STANCE_EXAMPLES_DIR=/app/seeds \
    STANCE_ENGINE=onnx \
    STANCE_HOST=0.0.0.0 \
    STANCE_PORT=8000
WORKDIR /app
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python3", "-c", "import os, sys, urllib.request; port = os.environ.get('STANCE_PORT', '8000'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/readyz', timeout=2).status == 200 else 1)"]
ENTRYPOINT ["stance"]
CMD ["serve", "--no-train"]
