# The site's one image: it runs gunicorn by default, and the other processes of the Procfile (release,
# worker, beat) with their own command; docker-compose.yml starts each. docs/operations.md says more.
FROM python:3.11-slim-bookworm

# Python writes no .pyc at run time (the code is read-only to the site: it would only try and fail on every
# start), and every log line reaches `docker logs` at once rather than when a buffer fills. STATIC_ROOT is
# where the build below collects the static files that WhiteNoise serves. gunicorn listens on every
# interface of the container: its loopback (gunicorn.conf.py's default) cannot be reached through a
# published port.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    STATIC_ROOT=/app/staticfiles \
    WEB_BIND=0.0.0.0:8000

WORKDIR /app

# The dependencies in a layer of their own, before the code: a change of code alone reuses it.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

# Fixed ids, so that the owner of files on a mounted volume stays the same from one build to the next.
RUN groupadd --system --gid 10001 opengov \
    && useradd --system --uid 10001 --gid opengov --no-create-home opengov

COPY . .

# The code and the static files stay root's, read-only to the site. Collected once here, so that every
# container of the image serves the same files and none writes them at start. With DEBUG off the settings
# refuse to start without SECRET_KEY: a throw-away key for this step only, which signs nothing. Without
# DATABASE_URL they create var/ for a SQLite file that collectstatic never opens; var/ is then given to
# the site's user, for what beat writes there (its schedule and heartbeat, CELERY_BEAT_SCHEDULE_FILENAME) and
# the bulk archive the workers build in var/exports (EXPORTS_DIR, a volume shared with web in docker-compose.yml).
RUN DEBUG=false SECRET_KEY=build-only-not-used-at-run-time python manage.py collectstatic --noinput \
    && mkdir -p var/exports \
    && chown -R opengov:opengov var

EXPOSE 8000

# By number rather than by name, so that a platform can tell it is not root without reading /etc/passwd
# (Kubernetes' runAsNonRoot, for one).
USER 10001:10001

# No HEALTHCHECK here: the image runs four different processes, and docker-compose.yml gives each its own.
# The Procfile's web command, in exec form so that gunicorn is PID 1 and receives `docker stop`'s SIGTERM.
CMD ["gunicorn", "opengov.wsgi:application"]
