import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_owner(apps, schema_editor):
    Image = apps.get_model("jobs", "Image")
    Job = apps.get_model("jobs", "Job")
    Image.objects.update(
        owner_id=Subquery(Job.objects.filter(pk=OuterRef("job_id")).values("owner_id")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0005_owner_marks"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="image",
            name="owner",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(fill_owner, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="image",
            name="owner",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(fields=["owner", "state"], name="job_owner_state"),
        ),
        migrations.AddIndex(
            model_name="image",
            index=models.Index(fields=["owner", "status", "-id"], name="image_owner_recent"),
        ),
    ]
