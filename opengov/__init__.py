# Load Celery with Django so that tasks bind to this app.
from opengov.celery import app as celery_app

__all__ = ("celery_app",)
