"""`manage.py healthcheck web|worker|beat`: exit 0 when that process of this host is healthy.

The container health checks of docker-compose.yml run it, and so can any supervisor: it asks the process
itself (the web process's /readyz, the worker's own Celery node, beat's heartbeat), not a neighbour.
"""

import os
import socket
import time
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from opengov.beat import heartbeat_path
from opengov.celery import app

# Beat ticks at least once a minute (CELERY_BEAT_MAX_LOOP_INTERVAL): three missed ticks mean it is stuck.
BEAT_HEARTBEAT_MAX_AGE = 3 * 60


def _local_url(bind: str) -> str:
    """The /readyz address of the gunicorn bound to WEB_BIND (host:port), asked from this host."""
    host, _separator, port = bind.rpartition(":")
    if host in ("", "0.0.0.0", "[::]"):
        host = "127.0.0.1"
    return f"http://{host}:{port}/readyz"


class Command(BaseCommand):
    help = "Exits 0 when this host's web process, Celery worker or Celery beat is healthy."
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("process", choices=["web", "worker", "beat"])
        parser.add_argument("--timeout", type=float, default=5.0, help="Seconds to wait for an answer.")

    def handle(self, *args: Any, process: str, timeout: float, **options: Any) -> None:
        check = {"web": self.web, "worker": self.worker, "beat": self.beat}[process]
        self.stdout.write(check(timeout))

    def web(self, timeout: float) -> str:
        url = _local_url(os.environ.get("WEB_BIND", "127.0.0.1:8000"))
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                response.read()
        except urllib.error.HTTPError as error:
            message = _("The web process is not ready: %(url)s answered %(status)s.")
            raise CommandError(message % {"url": url, "status": error.code}) from error
        except OSError as error:
            message = _("The web process does not answer at %(url)s: %(error)s")
            raise CommandError(message % {"url": url, "error": error}) from error
        return _("The web process is ready.")

    def worker(self, timeout: float) -> str:
        # A worker started without --hostname is named celery@<host name>, as in a container.
        node = f"celery@{socket.gethostname()}"
        try:
            answers = app.control.ping(destination=[node], timeout=timeout)
        except Exception as error:  # the broker itself is unreachable: kombu raises several kinds
            raise CommandError(_("The broker does not answer: %(error)s") % {"error": error}) from error
        if not answers:
            raise CommandError(_("The Celery worker %(node)s does not answer.") % {"node": node})
        return _("The Celery worker %(node)s answers.") % {"node": node}

    def beat(self, timeout: float) -> str:
        path = heartbeat_path(settings.CELERY_BEAT_SCHEDULE_FILENAME)
        try:
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError as error:
            raise CommandError(_("Celery beat has not started: %(path)s does not exist.") % {"path": path}) from error
        if age > BEAT_HEARTBEAT_MAX_AGE:
            raise CommandError(_("Celery beat last ticked %(seconds)d seconds ago.") % {"seconds": age})
        return _("Celery beat ticked %(seconds)d seconds ago.") % {"seconds": age}
