"""Erase a contributor's personal data on their request (GDPR article 17), from a shell on the server."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from forums.models import Contribution
from forums.services import contributor_contributions, erase_contributor


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
        email, ids, withdraw = str(options["email"]).strip(), list(options["ids"]), bool(options["withdraw"])
        missing = set(ids) - set(Contribution.objects.filter(pk__in=ids).values_list("pk", flat=True))
        if missing:
            raise CommandError(
                _("No contribution has the number(s) %(numbers)s.") % {"numbers": ", ".join(map(str, sorted(missing)))}
            )
        try:
            found = list(contributor_contributions(email=email, contribution_ids=ids).values_list("pk", flat=True))
            if email and not Contribution.objects.filter(email__iexact=email).exists():
                # Addresses are erased once the author is told: the contributions may still be found by number.
                self.stdout.write(
                    _("No contribution keeps the address %(email)s (it may already be erased).") % {"email": email}
                )
            if options["dry_run"]:
                self.stdout.write(_("Would erase: %(count)s contribution(s), %(numbers)s.") % _summary(found))
                return
            erase_contributor(email=email, contribution_ids=ids, withdraw=withdraw)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        done = (
            _("Erased, text withdrawn: %(count)s contribution(s), %(numbers)s.")
            if withdraw
            else _("Erased, name and address: %(count)s contribution(s), %(numbers)s.")
        )
        self.stdout.write(self.style.SUCCESS(done % _summary(found)))


def _summary(ids: list[int]) -> dict[str, object]:
    return {"count": len(ids), "numbers": ", ".join(map(str, ids)) or "—"}
