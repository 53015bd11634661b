"""Times and query counts of every list of the workspace, for bench/workspace.sh (issue 9).

The lists are those of the models the project's own apps register in the admin, each asked by a coordinator (who
sees every row) and by an editor of the administration that carries the most commitments (who sees theirs), in
process through the project's WSGI application and every middleware. The two people are created in a transaction
that is rolled back at the end, with their sessions: the database is left as it was.

    python bench/workspace_times.py DATABASE_URL [--repeat 15]

Prints a markdown table. Exits 1 if a list does not answer 200 to someone allowed to read it.
"""

import argparse
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OWN_APPS = ("accounts", "commitments", "indicators", "forums")


class _RolledBack(Exception):
    pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url")
    parser.add_argument("--repeat", type=int, default=15, help="timed requests a list and person (at least 1)")
    arguments = parser.parse_args()
    if arguments.repeat < 1:
        parser.error("--repeat: at least 1 timed request, or there is no median")
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    os.environ["DATABASE_URL"] = arguments.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opengov.settings")
    import django

    django.setup()
    # Each sign-in and each list refused to the editor is a line of the security log: not the measurement's output.
    logging.getLogger("opengov.security").setLevel(logging.ERROR)
    from django.contrib import admin
    from django.db import connection, transaction
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from accounts.models import Membership, MembershipRole, User
    from commitments.models import Administration

    rows = []
    failed = False
    try:
        with transaction.atomic():
            busiest = Administration.objects.annotate(n=Count("carriers")).order_by("-n", "pk").first()
            people = {}
            for role in (MembershipRole.COORDINATOR, MembershipRole.EDITOR):
                user = User.objects.create_user(
                    username=f"bench-{role}", email=f"bench-{role}@example.gouv.fr", is_staff=True
                )
                Membership.objects.create(user=user, administration=busiest, role=role)
                people[role] = Client(HTTP_HOST="127.0.0.1")
                people[role].force_login(user)
            models = [model for model in admin.site._registry if model._meta.app_label in OWN_APPS]
            for model in sorted(models, key=lambda model: model._meta.label):
                url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
                row = [f"`{url}`"]
                for role, client in people.items():
                    status = client.get(url).status_code  # unmeasured: what a first request loads
                    if status == 403:
                        row.append("not shown")
                        continue
                    if status != 200:
                        print(f"{url} answered {status} to the {role}", file=sys.stderr)
                        failed = True
                        row.append(f"HTTP {status}")
                        continue
                    times = []
                    for _ in range(arguments.repeat):
                        start = time.perf_counter()
                        client.get(url)
                        times.append((time.perf_counter() - start) * 1000)
                    with CaptureQueriesContext(connection) as queries:
                        response = client.get(url)
                    row.append(
                        f"{statistics.median(times):.1f} ms, {len(queries)} queries, {len(response.content) // 1000} kB"
                    )
                rows.append(row)
            raise _RolledBack
    except _RolledBack:
        pass
    print("| list | coordinator (every row) | editor (their administration's) |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
