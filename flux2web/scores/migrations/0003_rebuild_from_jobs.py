"""Databases that had jobs before the record was kept: count it from their rows once."""

from django.db import migrations


def rebuild(apps, schema_editor):
    # The one rule the live count follows, given this migration's own models.
    from flux2web.jobs import tallies

    names = {
        "Job": ("jobs", "Job"),
        "JobEvent": ("jobs", "JobEvent"),
        "LedgerEntry": ("billing", "LedgerEntry"),
        "ProviderCredential": ("credentials", "ProviderCredential"),
        "Tally": ("scores", "Tally"),
    }
    tallies.rebuild(models={name: apps.get_model(*where) for name, where in names.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("scores", "0002_changed_at"),
        ("jobs", "0014_comparison_route_reason_reported"),
        ("billing", "0001_initial"),
    ]

    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
