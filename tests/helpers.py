"""What many tests share: the standing password, waiting for a condition, and the
environment for processes a test starts (the same database, keys and media folder)."""

import os
import time
from pathlib import Path
from urllib.parse import quote

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

ROOT = Path(__file__).resolve().parent.parent


PASSWORD = "correct horse battery staple"


def database_url_for_subprocess() -> str:
    """The URL of the test database this process uses, for processes the test starts."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{db['NAME']}"


def subprocess_env(**overrides) -> dict:
    """This process's configuration for a child: same database, keys and media folder."""
    from django.conf import settings

    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "FLUX2WEB_SECRET_KEY": settings.SECRET_KEY,
        "FLUX2WEB_ENCRYPTION_KEY": ",".join(settings.ENCRYPTION_KEYS),
        "FLUX2WEB_DATA_DIR": str(Path(settings.MEDIA_ROOT).parent),
    }
    env.update({k: v for k, v in overrides.items() if v is not None})
    return env


def wait_for(predicate, *, timeout: float = 20, interval: float = 0.1, message=""):
    """Poll predicate until it returns something truthy; message may be a callable."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    detail = message() if callable(message) else message
    raise AssertionError(f"timed out after {timeout}s waiting for {detail or predicate}")


def migrate(targets):
    """Migrate the test database to `targets`; the apps of that state (for its models)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest():
    """Every app's newest migration, to migrate back to after a test went back in time."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes()
