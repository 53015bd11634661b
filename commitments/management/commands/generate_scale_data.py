import dataclasses
import time
from argparse import ArgumentParser, ArgumentTypeError

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _

from commitments.scale_data import ScaleDataRefused, Sizes, Step, generate_scale_data
from opengov.page_cache import data_changed

# While the big tables are written, a line every this many rows, so that a long run shows it is alive.
PROGRESS_EVERY = 1_000_000


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ArgumentTypeError(_("a whole number, at least 1"))
    return int(text)


def _factor(text: str) -> float:
    try:
        factor = float(text)
    except ValueError:
        factor = 0.0
    if not factor > 0:
        raise ArgumentTypeError(_("a number above 0, for example 0.01"))
    return factor


class Command(BaseCommand):
    help = (
        "Build a synthetic data set at OGP scale for load tests, in a database of its own: "
        "DATABASE_URL=postgres://…/opengov_scale python manage.py migrate, then this command."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        for size in dataclasses.fields(Sizes):
            parser.add_argument(
                f"--{size.name}", type=_count, help=f"How many {size.name} (default: {size.default} times --scale)."
            )
        parser.add_argument("--scale", type=_factor, default=1.0, help="Multiplies every default size (default 1).")
        parser.add_argument("--seed", type=int, default=0, help="The same seed, on the same day, gives the same data.")
        parser.add_argument("--replace", action="store_true", help="Delete the synthetic data already there first.")

    def handle(self, *args: object, scale: float, seed: int, replace: bool, **options: object) -> None:
        given = {size.name: options[size.name] for size in dataclasses.fields(Sizes) if options[size.name]}
        sizes = dataclasses.replace(Sizes().scaled(scale), **given)
        started = time.monotonic()
        try:
            written = generate_scale_data(sizes=sizes, seed=seed, replace=replace, report=self._report)
        except (ScaleDataRefused, ValueError) as error:
            raise CommandError(str(error)) from error
        # Bulk writes send no signal: the answers the page cache holds must go now (opengov/page_cache.py).
        data_changed()
        if connection.vendor == "postgresql":
            # Millions of rows at once: until autovacuum gets to them (if it runs at all), the planner would
            # guess their numbers and choose plans no live database would.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(
            _("Synthetic data written: %(rows)s rows in %(seconds).1f s.")
            % {"rows": sum(written.values()), "seconds": time.monotonic() - started}
        )

    def _report(self, step: Step) -> None:
        if step.finished:
            self.stdout.write(
                _("%(table)s: %(rows)s rows, %(seconds).1f s")
                % {"table": step.table, "rows": step.rows, "seconds": step.seconds}
            )
        elif step.rows % PROGRESS_EVERY == 0:
            self.stdout.write(
                _("%(table)s: %(rows)s rows so far, %(seconds).1f s")
                % {"table": step.table, "rows": step.rows, "seconds": step.seconds},
            )
