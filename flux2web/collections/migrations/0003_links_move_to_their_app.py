"""Share links move to the links app. Only Django's record of the models moves: the
tables stay as they are (the links app's models name them), so no row is touched."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("sharing", "0002_pending_add"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="sharelink",
                    name="collection",
                ),
                migrations.RemoveField(
                    model_name="sharelink",
                    name="owner",
                ),
                migrations.RemoveField(
                    model_name="sharelinkimage",
                    name="link",
                ),
                migrations.RemoveField(
                    model_name="sharelinkimage",
                    name="image",
                ),
                migrations.DeleteModel(
                    name="ShareVisit",
                ),
                migrations.DeleteModel(
                    name="ShareLink",
                ),
                migrations.DeleteModel(
                    name="ShareLinkImage",
                ),
            ],
            database_operations=[],
        ),
    ]
