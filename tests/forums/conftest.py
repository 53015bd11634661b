from tests.indicators.services import broker, celery_processes, redis_server

__all__ = ["broker", "celery_processes", "redis_server"]
