"""Refresh indicators from their sources in this process: the embedded default's scheduler is cron."""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from indicators.models import Indicator, IndicatorRefreshOutcome, IndicatorRefreshTrigger
from indicators.refresh import refresh_indicator


class Command(BaseCommand):
    help = (
        "Read the sources of the indicators that are due (or all of them, or those named) and record "
        "what changed, here and now, without Celery. Exits with status 1 when a reading failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--all", action="store_true", help="Every indicator with a source, due or not.")
        which.add_argument(
            "--id", type=int, action="append", dest="ids", metavar="N", help="This indicator (repeatable)."
        )

    def handle(self, *args: object, **options: object) -> None:
        indicators = Indicator.objects.automatic().order_by("pk")
        if options["ids"]:
            indicators = indicators.filter(pk__in=options["ids"])
            missing = set(options["ids"]) - set(indicators.values_list("pk", flat=True))
            if missing:
                raise CommandError(
                    _("No indicator with a source has the identifier: %(ids)s")
                    % {"ids": ", ".join(str(pk) for pk in sorted(missing))}
                )
        elif not options["all"]:
            indicators = indicators.due(timezone.now())
        counts = dict.fromkeys(IndicatorRefreshOutcome.values, 0)
        for pk in indicators.values_list("pk", flat=True):
            refresh = refresh_indicator(pk, trigger=IndicatorRefreshTrigger.COMMAND)
            if refresh is None:
                continue
            counts[refresh.outcome] += 1
            line = _("#%(id)s %(outcome)s (%(ms)s ms): %(message)s") % {
                "id": pk,
                "outcome": refresh.get_outcome_display(),
                "ms": refresh.duration_ms,
                "message": refresh.message,
            }
            if refresh.outcome == IndicatorRefreshOutcome.ERROR:
                self.stderr.write(line)
            else:
                self.stdout.write(line)
        self.stdout.write(
            _("new values: %(new)s, unchanged: %(unchanged)s, errors: %(errors)s")
            % {"new": counts["new_value"], "unchanged": counts["unchanged"], "errors": counts["error"]}
        )
        if counts["error"]:
            raise CommandError(
                _("%(count)s reading(s) failed; the last good values are kept.") % {"count": counts["error"]}
            )
