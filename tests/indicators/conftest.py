from tests.indicators.source_server import source_server

__all__ = ["source_server"]
