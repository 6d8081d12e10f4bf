# The worker image: every workflow and activity of the privacy-rights service.
#
#   docker build -t privacy-rights .
#   docker run --env-file prod.env privacy-rights                 # the worker (default)
#   docker run --env-file prod.env privacy-rights python -m api.app            # the HTTP API
#   docker run --env-file prod.env privacy-rights python -m api.codec_server   # UI codec
#   docker run --env-file prod.env privacy-rights python starter.py status <request_id>
#
# All configuration comes from environment variables (see README.md, "Configuration").
# docker-compose.yml runs this image against Temporal and PostgreSQL.

# The exact Python release and Debian suite, so a rebuild does not move to another one
# unnoticed; move the tag on deliberately, for a security release.
FROM python:3.11.15-slim-trixie

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app

# Source files are copied by name, not with `COPY . .`: a developer's .venv/, var/ (local
# databases, the development link secret, the outbox) and .env must never enter the image.
COPY pyproject.toml requirements.lock ./
COPY rights/ rights/
COPY workflows/ workflows/
COPY activities/ activities/
COPY client/ client/
COPY stores/ stores/
COPY api/ api/
COPY templates/ templates/
COPY config/ config/
COPY dev/__init__.py dev/sample_service.py dev/
COPY worker.py starter.py logs.py ./

# Dependencies pinned by requirements.lock (used as constraints: only what pyproject.toml
# asks for is installed, at the locked versions). The programs run from /app, so the files
# above, templates/ and config/ included, are the ones in use.
RUN pip install -c requirements.lock . \
    && rm -rf build ./*.egg-info

# A non-root user; DATA_DIR (access reports, and the outbox if MAIL_BACKEND=outbox) is the
# only place it writes. Mount a volume at /data to keep reports across container restarts.
RUN groupadd --system --gid 10001 rights \
    && useradd --system --uid 10001 --gid rights --home-dir /app --no-create-home rights \
    && mkdir -p /data \
    && chown rights:rights /data
ENV DATA_DIR=/data
# By number, so a runtime that checks for a non-root user (Kubernetes' runAsNonRoot) can tell.
USER 10001:10001

CMD ["python", "worker.py"]
