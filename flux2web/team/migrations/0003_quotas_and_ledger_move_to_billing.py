"""Quotas and the ledger move to the billing app. Only Django's record of the models
moves: the tables stay as they are (billing's models name them), so no row is touched."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("team", "0002_ledger_adjust"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="LedgerEntry"),
                migrations.DeleteModel(name="Quota"),
            ],
            database_operations=[],
        ),
    ]
