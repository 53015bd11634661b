"""Celery beat's scheduler, with a heartbeat file that says the beat process is alive and ticking.

Beat serves nothing a probe could ask, and a hung beat queues nothing without any error: the heartbeat's
age is what `manage.py healthcheck beat` (and so the container's health check) reads.
"""

from pathlib import Path

from celery.beat import PersistentScheduler


def heartbeat_path(schedule_filename: str) -> Path:
    return Path(f"{schedule_filename}.heartbeat")


class HeartbeatScheduler(PersistentScheduler):
    def tick(self, *args: object, **kwargs: object) -> float:
        # Touched before the due tasks are sent: a tick that hangs on the broker stops the heartbeat.
        heartbeat_path(self.schedule_filename).touch()
        return super().tick(*args, **kwargs)
