"""KIE's NSFW checker and Apixo's routing were columns of Job; they become entries of
`options`, the vendor options a job asked for (catalog.Option), with the values kept."""

from django.db import migrations, models


def to_options(apps, schema_editor):
    Job = apps.get_model("jobs", "Job")
    for job in Job.objects.filter(models.Q(nsfw_checker=True) | ~models.Q(route="")).iterator():
        job.options = {
            **({"nsfw_checker": True} if job.nsfw_checker else {}),
            **({"route": job.route} if job.route else {}),
        }
        job.save(update_fields=["options"])


def to_columns(apps, schema_editor):
    Job = apps.get_model("jobs", "Job")
    for job in Job.objects.exclude(options={}).iterator():
        job.nsfw_checker = bool(job.options.get("nsfw_checker"))
        job.route = str(job.options.get("route") or "")[:10]
        job.save(update_fields=["nsfw_checker", "route"])


class Migration(migrations.Migration):
    dependencies = [("jobs", "0012_request_nsfw_checker_and_route")]

    operations = [
        migrations.AddField(
            model_name="job", name="options", field=models.JSONField(blank=True, default=dict)
        ),
        migrations.RunPython(to_options, to_columns),
        migrations.RemoveField(model_name="job", name="nsfw_checker"),
        migrations.RemoveField(model_name="job", name="route"),
    ]
