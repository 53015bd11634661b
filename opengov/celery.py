"""The Celery application: broker from REDIS_URL; without it, tasks run in-process."""

import os
from contextvars import Token
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

from opengov.logs import current_request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opengov.settings")

app = Celery("opengov")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The log lines of a task carry its id, as a request's carry the request's. A task run in-process (no
# Redis) keeps the id of the request that ran it, which is the one an operator would look for.
_tokens: dict[str, Token] = {}


@task_prerun.connect
def _name_task(task_id: str, **kwargs: Any) -> None:
    if not current_request_id.get():
        _tokens[task_id] = current_request_id.set(task_id)


@task_postrun.connect
def _forget_task(task_id: str, **kwargs: Any) -> None:
    token = _tokens.pop(task_id, None)
    if token is not None:
        current_request_id.reset(token)
