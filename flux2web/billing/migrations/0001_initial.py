"""Quotas and the ledger, moved here from the team app: their tables keep their names
(team_quota, team_ledgerentry), so this only tells Django where the models now live, and
moves their content types (permissions and admin history hang on them)."""

import django.db.models.deletion
import django.db.models.functions.comparison
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

BILLING_MODELS = ["quota", "ledgerentry"]


def content_types_follow(apps, schema_editor, *, old="team", new="billing"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    taken = set(ContentType.objects.filter(app_label=new).values_list("model", flat=True))
    ContentType.objects.filter(app_label=old, model__in=set(BILLING_MODELS) - taken).update(
        app_label=new
    )


def content_types_go_back(apps, schema_editor):
    content_types_follow(apps, schema_editor, old="billing", new="team")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("credentials", "0003_health_policy"),
        ("jobs", "0009_unreadable_answers"),
        ("team", "0003_quotas_and_ledger_move_to_billing"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="LedgerEntry",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("kind", models.CharField(choices=[("reserve", "Reserve"), ("settle", "Settle"), ("refund", "Refund"), ("hold", "Hold"), ("adjust", "Adjust")], max_length=8)),
                        ("amount", models.DecimalField(decimal_places=4, max_digits=10)),
                        ("delta", models.DecimalField(decimal_places=4, max_digits=10)),
                        ("images", models.IntegerField(default=0, help_text="Change in images counted this month.")),
                        ("period", models.DateField(help_text="First day of the month this counts against.")),
                        ("at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("note", models.CharField(blank=True, max_length=200)),
                        ("job", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="ledger", to="jobs.job")),
                        ("provider", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="credentials.providercredential")),
                        ("user", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "db_table": "team_ledgerentry",
                        "ordering": ["-at", "-id"],
                        "indexes": [models.Index(fields=["user", "period"], name="ledger_user_period"), models.Index(fields=["period", "kind"], name="ledger_period_kind")],
                        "constraints": [models.UniqueConstraint(condition=models.Q(("kind", "adjust"), _negated=True), fields=("job", "kind"), name="ledger_one_kind_per_job"), models.UniqueConstraint(condition=models.Q(("kind__in", ["settle", "refund"])), fields=("job",), name="ledger_one_ending_per_job")],
                    },
                ),
                migrations.CreateModel(
                    name="Quota",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("monthly_usd", models.DecimalField(blank=True, decimal_places=2, max_digits=10, null=True, verbose_name="money per month (USD)")),
                        ("monthly_images", models.PositiveIntegerField(blank=True, null=True, verbose_name="images per month")),
                        ("max_in_flight", models.PositiveIntegerField(blank=True, null=True, verbose_name="jobs in flight at once")),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("user", models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="quota", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "db_table": "team_quota",
                        "constraints": [models.UniqueConstraint(django.db.models.functions.comparison.Coalesce("user", 0), name="quota_one_per_user_and_default")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_follow, content_types_go_back),
    ]
