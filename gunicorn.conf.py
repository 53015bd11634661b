"""gunicorn's settings for the web process (read from the working directory: `gunicorn opengov.wsgi:application`).

Everything a deployment changes comes from the environment, as for the site's settings; the rest is chosen
here once for the Procfile's web process, in a container and without one (docs/operations.md).
"""

import multiprocessing
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opengov.settings")
from django.conf import settings

# Where to listen: 127.0.0.1:8000 behind a reverse proxy on the same host; 0.0.0.0:8000 in a container.
bind = os.environ.get("WEB_BIND", "127.0.0.1:8000")
# Synchronous workers: a page waits on PostgreSQL, not on the client, behind a buffering proxy. Two per
# core and one more is gunicorn's own advice; WEB_CONCURRENCY overrides it.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
# A request that takes longer is killed (and logged): a page that slow is a bug, not a wait.
timeout = int(os.environ.get("WEB_TIMEOUT", 30))
# On SIGTERM (a deployment, `docker compose stop`), requests in flight get this long to finish.
graceful_timeout = 20
# Keep-alive for the proxy's connections, a little longer than a typical proxy keeps them idle.
keepalive = 5
# The site is loaded once, in the master, and each worker is a fork of it: a worker starts in milliseconds
# rather than the second Django takes to load. Without it, every replacement below stalled the requests
# queued on that worker for that second, which was the whole of p99 under load (bench/throughput.sh). The
# price: `kill -HUP` no longer loads new code; an upgrade restarts the process (docs/operations.md).
preload_app = True
# Each worker is replaced after about a hundred thousand requests, so that a slow leak cannot grow for ever.
# Each replacement stalls some requests for 170-260 ms (measured by bench/throughput.sh: p99 at 8 connections
# was 3-9 ms in runs without a replacement, 170-265 ms in some of those with one): at 10,000, a worker under
# full load (2,000 requests/s) was replaced every 5 s; at 100,000, about once a minute, rarely at usual load.
max_requests = 100000
max_requests_jitter = 10000
# The worker's heartbeat file in memory: a container's overlay disk can stall it long enough for a kill.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# No control socket: its default path is shared by every gunicorn of the user on the host.
control_socket_disable = True
# The site logs each request itself, with its id (opengov.logs.RequestLogMiddleware); gunicorn's access
# log would say it twice. gunicorn's own lines go through the site's format (LOG_FORMAT), read from the
# settings so that a broken configuration stops the server at once with Django's message.
accesslog = None
logconfig_dict = settings.LOGGING
