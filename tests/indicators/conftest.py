from tests.indicators.services import broker, celery_processes, redis_server
from tests.indicators.source_server import source_server

__all__ = ["broker", "celery_processes", "redis_server", "source_server"]
