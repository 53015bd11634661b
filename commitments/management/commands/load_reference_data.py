from argparse import ArgumentParser
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from commitments.reference_data import DATA_FILE, ReferenceDataError, load_reference_data


class Command(BaseCommand):
    help = "Load the reference plans, administrations and forums; safe to run again."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--file", type=Path, default=DATA_FILE, help="Data file to load (default: the project's).")

    def handle(self, *args: object, file: Path, **options: object) -> None:
        try:
            report = load_reference_data(path=file)
        except ReferenceDataError as error:
            raise CommandError(
                _("The reference data was not loaded; nothing was changed.") + "\n" + "\n".join(error.messages)
            ) from error
        for label, counter in ((_("created"), report.created), (_("updated"), report.updated)):
            for name, count in sorted(counter.items()):
                self.stdout.write(f"{label}: {count} {name}")
        self.stdout.write(_("unchanged: %(count)s objects") % {"count": sum(report.unchanged.values())})
        for message in report.kept:
            self.stdout.write(self.style.WARNING(message))
