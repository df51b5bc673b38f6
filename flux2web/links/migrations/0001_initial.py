"""Share links, moved here from the sharing app (now collections) with their tables: this
records the models as the links app's and renames their content types, so permissions and
admin history follow. The tables were made by sharing's 0001 and are not touched."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

LINK_MODELS = ["sharelink", "sharelinkimage", "sharevisit"]


def content_types_follow(apps, schema_editor, *, old="sharing", new="links"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    taken = set(ContentType.objects.filter(app_label=new).values_list("model", flat=True))
    ContentType.objects.filter(app_label=old, model__in=set(LINK_MODELS) - taken).update(
        app_label=new
    )


def content_types_go_back(apps, schema_editor):
    content_types_follow(apps, schema_editor, old="links", new="sharing")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("jobs", "0008_team_visible_remix_of"),
        ("sharing", "0003_links_move_to_their_app"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ShareLink",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "title",
                            models.CharField(
                                help_text="What visitors see as the page title.", max_length=120
                            ),
                        ),
                        (
                            "label",
                            models.CharField(
                                blank=True, help_text="Who it is for; owner only.", max_length=80
                            ),
                        ),
                        ("slug", models.SlugField(blank=True, max_length=60)),
                        (
                            "token_hash",
                            models.CharField(editable=False, max_length=64, unique=True),
                        ),
                        ("token_encrypted", models.TextField(editable=False)),
                        (
                            "expires_at",
                            models.DateTimeField(blank=True, help_text="Empty: never.", null=True),
                        ),
                        (
                            "password_hash",
                            models.CharField(blank=True, editable=False, max_length=128),
                        ),
                        ("version", models.PositiveIntegerField(default=1)),
                        ("show_prompts", models.BooleanField(default=False)),
                        ("show_parameters", models.BooleanField(default=False)),
                        ("show_creator", models.BooleanField(default=False)),
                        ("show_cost", models.BooleanField(default=False)),
                        (
                            "downloads",
                            models.CharField(
                                choices=[
                                    ("none", "No downloads"),
                                    ("web", "Web size"),
                                    ("original", "Originals"),
                                ],
                                default="none",
                                max_length=8,
                            ),
                        ),
                        (
                            "allow_preview",
                            models.BooleanField(
                                default=True,
                                help_text="Show title, cover and count in chat and social previews.",
                            ),
                        ),
                        ("revoked_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("views", models.PositiveIntegerField(default=0)),
                        ("downloads_count", models.PositiveIntegerField(default=0)),
                        ("failed_passwords", models.PositiveIntegerField(default=0)),
                        ("last_viewed_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "collection",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="links",
                                to="sharing.collection",
                            ),
                        ),
                        (
                            "owner",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="share_links",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "sharing_sharelink",
                        "ordering": ["-created_at", "-id"],
                    },
                ),
                migrations.CreateModel(
                    name="ShareLinkImage",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("position", models.IntegerField(default=0)),
                        (
                            "image",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="jobs.image",
                            ),
                        ),
                        (
                            "link",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="frozen_items",
                                to="links.sharelink",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "sharing_sharelinkimage",
                        "ordering": ["position", "id"],
                    },
                ),
                migrations.CreateModel(
                    name="ShareVisit",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("day", models.DateField()),
                        ("visitor", models.CharField(max_length=64)),
                        (
                            "link",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="visits",
                                to="links.sharelink",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "sharing_sharevisit",
                    },
                ),
                migrations.AddIndex(
                    model_name="sharelink",
                    index=models.Index(
                        fields=["owner", "-created_at"], name="sharelink_owner_recent"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="sharelinkimage",
                    constraint=models.UniqueConstraint(
                        fields=("link", "image"), name="sharelink_image_once"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="sharevisit",
                    constraint=models.UniqueConstraint(
                        fields=("link", "day", "visitor"), name="sharevisit_once"
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_follow, content_types_go_back),
    ]
