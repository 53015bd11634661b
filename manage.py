#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opengov.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        # Read the settings first: Django's command line keeps a settings error to itself and goes on
        # without loading the apps, and the command then fails with "Models aren't loaded yet".
        settings.INSTALLED_APPS  # noqa: B018
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        # A setting is missing (SECRET_KEY with DEBUG off, say): say which, without a stack trace.
        sys.exit(f"opengov: {error}")


if __name__ == "__main__":
    main()
