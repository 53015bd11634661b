from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opengov import exports


class Command(BaseCommand):
    help = "Build the bulk archive (/api/v1/bulk/opengov-donnees.zip) if the data changed since the last one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Build it even if it is up to date.")

    def handle(self, *args: Any, force: bool, **options: Any) -> None:
        archive = exports.build_archive(force=force)
        if archive is None:
            raise CommandError("Another build of the archive is running.")
        self.stdout.write(f"{archive.path}: {archive.size} bytes, data extracted at {archive.extracted.isoformat()}")
