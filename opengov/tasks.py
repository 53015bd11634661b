from celery import shared_task
from django.core.cache import cache

from opengov import exports


@shared_task(acks_late=True)
def build_export() -> str:
    """Build the bulk archive if the data changed since the last one; safe to run twice or at once."""
    archive = exports.build_archive()
    # A change made from now on may queue the next build at once.
    cache.delete(exports.QUEUED_KEY)
    return "busy" if archive is None else archive.extracted.isoformat()
