# The Argus image: one image for every role (web, worker, beat, migrate); compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    DJANGO_DEBUG=false \
    ARGUS_VAR_DIR=/var/lib/argus

# curl for the health checks; libglib2.0-0 and libgomp1 for OpenCV and dlib wheels.
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl libglib2.0-0 libgomp1 libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 argus \
    && useradd --system --uid 10001 --gid argus --home-dir /app --shell /usr/sbin/nologin argus

WORKDIR /app
COPY requirements/ requirements/
RUN pip install -r requirements/base.txt

COPY . .

# Static files are collected into the image (served by WhiteNoise). Settings need a secret and service
# URLs to load; these dummies are for this step only and nothing is contacted. Then the directories the
# runtime user writes: var (media without S3, face model weights) and the shared metrics directory.
RUN DJANGO_DEBUG=false \
    DJANGO_SECRET_KEY=collectstatic-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz \
    DATABASE_URL=postgresql://build:build@127.0.0.1:5432/build \
    REDIS_URL=redis://127.0.0.1:6379/0 \
    python manage.py collectstatic --noinput \
    && mkdir -p /var/lib/argus/metrics \
    && chown -R argus:argus /var/lib/argus

USER argus
EXPOSE 8000

# HTTP and WebSocket: one daphne server per core on port 8000 (config/webtier.py; ARGUS_WEB_PROCESSES to
# choose). Behind a TLS-terminating proxy add --proxy-headers (and set ARGUS_TRUSTED_PROXIES).
CMD ["python", "-m", "config.webtier", "-b", "0.0.0.0", "-p", "8000", "config.asgi:application"]
