"""`manage.py scores rebuild`: count the providers' record afresh from the jobs' rows."""

from django.core.management.base import BaseCommand

from flux2web.jobs import tallies


class Command(BaseCommand):
    help = (
        "Rebuild the providers' record (the scoreboard's figures) from what every job "
        "kept. Run it with the workers stopped: a job ending meanwhile may be miscounted."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rebuild"])
        parser.add_argument("--batch", type=int, default=tallies.BATCH, help="Jobs read at once.")

    def handle(self, *args, action, batch, **options):
        rows = tallies.rebuild(batch=max(1, batch))
        self.stdout.write(f"The providers' record was rebuilt: {rows} hour and day rows.")
