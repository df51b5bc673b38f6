#!/usr/bin/env python
"""Django's command-line utility for Flux2Web."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flux2web.settings")
    from django.core.management import execute_from_command_line

    from flux2web.lib.env import ConfigError

    try:
        execute_from_command_line(sys.argv)
    except ConfigError as exc:
        # A bad environment variable is the operator's to fix: say which, without a traceback.
        sys.exit(f"Flux2Web configuration error: {exc}")


if __name__ == "__main__":
    main()
