"""Erase a contributor's personal data on their request (GDPR article 17), from a shell on the server."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from forums.models import Contribution
from forums.services import erase_contributor


class Command(BaseCommand):
    help = (
        "Erase the public name and e-mail address of a contributor's contributions, in their rows and in "
        "their whole history; with --withdraw, their text too, and the contributions leave the site. "
        "Name the contributions by the author's e-mail address, by their numbers, or both."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", default="", help="The address the contributor used (any case).")
        parser.add_argument(
            "--contribution",
            type=int,
            action="append",
            dest="ids",
            metavar="N",
            default=[],
            help="A contribution's number, as in its public link #contribution-N (repeatable).",
        )
        parser.add_argument("--withdraw", action="store_true", help="Also withdraw the text from the site.")
        parser.add_argument("--dry-run", action="store_true", help="Say what would be erased, change nothing.")

    def handle(self, *args: object, **options: object) -> None:
        email, ids = str(options["email"]).strip(), list(options["ids"])
        if not email and not ids:
            raise CommandError("Name the contributions: --email ADDRESS, --contribution N, or both.")
        missing = set(ids) - set(Contribution.objects.filter(pk__in=ids).values_list("pk", flat=True))
        if missing:
            raise CommandError(f"No contribution has the number(s) {', '.join(map(str, sorted(missing)))}.")
        matching = Q(pk__in=ids)
        if email:
            matching |= Q(email__iexact=email)
        found = list(Contribution.objects.filter(matching).order_by("pk").values_list("pk", flat=True))
        if email and not Contribution.objects.filter(email__iexact=email).exists():
            # Addresses are erased once the author is told: the contributions may still be found by number.
            self.stdout.write(f"No contribution keeps the address {email} (it may already be erased).")
        what = "name, address and text (withdrawn)" if options["withdraw"] else "name and address"
        if options["dry_run"]:
            self.stdout.write(f"Would erase the {what} of {len(found)} contribution(s): {found}.")
            return
        try:
            count = erase_contributor(email=email, contribution_ids=ids, withdraw=bool(options["withdraw"]))
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(self.style.SUCCESS(f"Erased the {what} of {count} contribution(s): {found}."))
