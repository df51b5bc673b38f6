"""Settings come from the environment, run with nothing set, and stop on a malformed value."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from flux2web.lib.env import ConfigError, Env, database_from_url, q_cluster

ROOT = Path(__file__).resolve().parent.parent
FERNET_KEY = "mP0Zx2qXkR6pY3vV9c1aN8b7T4uW5sE0dF2gH3jK4lA="
OLD_FERNET_KEY = "Zm9vYmFyYmF6cXV4cXV1eGZvb2JhcmJhenF1eHF1dXg="


def run_manage(*args, env: dict, data_dir: Path) -> subprocess.CompletedProcess:
    """Run manage.py in a fresh process with only the given variables (plus PATH)."""
    clean = {"PATH": os.environ["PATH"], "FLUX2WEB_DATA_DIR": str(data_dir), **env}
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def settings_seen_by_a_fresh_process(tmp_path, **env) -> dict:
    code = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'db': s.DATABASES['default'], 'q': s.Q_CLUSTER, 'debug': s.DEBUG, "
        "'hosts': s.ALLOWED_HOSTS, 'secret': s.SECRET_KEY, 'media': str(s.MEDIA_ROOT), "
        "'storage': s.STORAGES['default']}))"
    )
    result = run_manage("shell", "-c", code, env=env, data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


class TestEnv:
    def test_it_reads_booleans_in_the_usual_spellings(self):
        env = Env({"A": "yes", "B": "0", "C": "On", "D": "false"})
        assert [env.bool(n, False) for n in "ABCD"] == [True, False, True, False]
        assert env.bool("MISSING", True) is True

    def test_it_refuses_a_boolean_it_cannot_read(self):
        with pytest.raises(ConfigError, match=r"^FLUX2WEB_DEBUG: .*'maybe'"):
            Env({"FLUX2WEB_DEBUG": "maybe"}).bool("FLUX2WEB_DEBUG", False)

    def test_it_reads_and_bounds_numbers(self):
        env = Env({"N": " 4 ", "Z": "0", "X": "four"})
        assert env.int("N", 1) == 4
        assert env.int("MISSING", 7) == 7
        with pytest.raises(ConfigError, match=r"^Z: must be at least 1"):
            env.int("Z", 1, minimum=1)
        with pytest.raises(ConfigError, match=r"^X: expected a whole number"):
            env.int("X", 1)

    def test_it_reads_lists_and_choices(self):
        env = Env({"HOSTS": "a.example, b.example,,", "MODE": "Production"})
        assert env.list("HOSTS", []) == ["a.example", "b.example"]
        assert env.choice("MODE", "local", ("local", "production")) == "production"
        with pytest.raises(ConfigError, match=r"^MODE: expected one of local, production"):
            Env({"MODE": "prod"}).choice("MODE", "local", ("local", "production"))

    def test_it_checks_url_schemes(self):
        env = Env({"R": "redis://127.0.0.1:6379/0", "BAD": "http://127.0.0.1:6379"})
        assert env.url("R", "", schemes=("redis",)) == "redis://127.0.0.1:6379/0"
        assert env.url("MISSING", "", schemes=("redis",)) == ""
        with pytest.raises(ConfigError, match=r"^BAD: expected a URL starting with redis://"):
            env.url("BAD", "", schemes=("redis",))


class TestDatabaseUrl:
    def test_it_reads_a_full_postgres_url(self):
        db = database_from_url("postgres://app:s%40cret@db.internal:6543/flux?sslmode=require")
        assert db["ENGINE"] == "django.db.backends.postgresql"
        assert (db["NAME"], db["USER"], db["PASSWORD"]) == ("flux", "app", "s@cret")
        assert (db["HOST"], db["PORT"]) == ("db.internal", "6543")
        assert db["OPTIONS"] == {"sslmode": "require"}

    def test_it_reads_absolute_and_relative_sqlite_paths(self):
        assert database_from_url("sqlite:////srv/f.db")["NAME"] == "/srv/f.db"
        assert database_from_url("sqlite:///f.db")["NAME"] == "f.db"
        # The test database is a file too, so processes started by tests can open it.
        assert database_from_url("sqlite:////srv/f.db")["TEST"]["NAME"] == "/srv/f-test.db"

    @pytest.mark.parametrize(
        ("url", "problem"),
        [
            ("mysql://root@localhost/flux", "unsupported scheme 'mysql'"),
            ("just-a-word", "unsupported scheme '(none)'"),
            ("postgres://localhost:port/flux", "the port is not a number"),
            ("postgres://localhost", "need a database name"),
            ("sqlite://", "need a file path"),
        ],
    )
    def test_it_refuses_malformed_urls_naming_the_variable(self, url, problem):
        with pytest.raises(ConfigError) as caught:
            database_from_url(url)
        assert str(caught.value).startswith("DATABASE_URL: ")
        assert problem in str(caught.value)


class TestQueue:
    def test_the_orm_broker_is_the_default(self):
        config = q_cluster(redis_url="", name="flux2web", workers=2, timeout=120)
        assert config["orm"] == "default"
        assert "redis" not in config
        assert config["retry"] > config["timeout"]

    def test_a_redis_url_switches_the_broker(self):
        config = q_cluster(redis_url="redis://127.0.0.1:6379/1", name="f", workers=2, timeout=60)
        assert config["redis"] == "redis://127.0.0.1:6379/1"
        assert "orm" not in config


class TestStartUp:
    def test_it_runs_with_nothing_set_and_keeps_its_state_in_the_data_dir(self, tmp_path):
        seen = settings_seen_by_a_fresh_process(tmp_path)

        assert seen["db"]["ENGINE"] == "django.db.backends.sqlite3"
        assert seen["db"]["NAME"] == str(tmp_path / "flux2web.sqlite3")
        assert seen["q"]["orm"] == "default"
        assert seen["debug"] is False
        assert seen["media"] == str(tmp_path / "media")
        key_file = tmp_path / "secret_key"
        assert key_file.read_text() == seen["secret"]
        assert len(seen["secret"]) >= 50
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    def test_the_generated_secret_key_survives_restarts(self, tmp_path):
        first = settings_seen_by_a_fresh_process(tmp_path)["secret"]
        assert settings_seen_by_a_fresh_process(tmp_path)["secret"] == first

    def test_database_url_and_redis_url_switch_to_the_scale_out_path(self, tmp_path):
        seen = settings_seen_by_a_fresh_process(
            tmp_path,
            DATABASE_URL="postgres://flux@127.0.0.1:5432/flux2web",
            REDIS_URL="redis://127.0.0.1:6379/2",
        )
        assert seen["db"]["ENGINE"] == "django.db.backends.postgresql"
        assert seen["db"]["NAME"] == "flux2web"
        assert seen["q"]["redis"] == "redis://127.0.0.1:6379/2"
        assert "orm" not in seen["q"]

    def test_the_apis_limits_are_read_under_the_names_the_readme_gives(self, tmp_path):
        code = (
            "from django.conf import settings as s; print(s.API_WAIT_SECONDS, "
            "s.API_URL_MINUTES, s.API_RATE_PER_MINUTE, s.API_CONCURRENT_REQUESTS)"
        )
        names = ("WAIT_SECONDS", "URL_MINUTES", "RATE_PER_MINUTE", "CONCURRENT")
        env = {f"FLUX2WEB_API_{name}": str(n) for n, name in enumerate(names, 7)}
        result = run_manage("shell", "-c", code, env=env, data_dir=tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split()[-4:] == ["7", "8", "9", "10"]
        readme = (ROOT / "README.md").read_text()
        assert all(f"FLUX2WEB_API_{name}" in readme for name in names)

    def test_an_s3_bucket_moves_media_to_private_s3_storage(self, tmp_path):
        seen = settings_seen_by_a_fresh_process(
            tmp_path,
            FLUX2WEB_S3_BUCKET="flux-media",
            FLUX2WEB_S3_ENDPOINT_URL="https://s3.example.com",
            FLUX2WEB_S3_REGION="eu-central-1",
            FLUX2WEB_S3_PREFIX="media",
        )
        assert seen["storage"] == {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "flux-media", "endpoint_url": "https://s3.example.com",
                "region_name": "eu-central-1", "location": "media", "default_acl": "private",
                "file_overwrite": False, "querystring_auth": True,
            },
        }  # fmt: skip
        assert settings_seen_by_a_fresh_process(tmp_path)["storage"]["BACKEND"].endswith(
            "FileSystemStorage"
        )

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("DATABASE_URL", "mysql://root@localhost/flux"),
            ("REDIS_URL", "http://127.0.0.1:6379"),
            ("FLUX2WEB_DEBUG", "maybe"),
            ("FLUX2WEB_WORKERS", "zero"),
            ("FLUX2WEB_MODE", "prod"),
            ("FLUX2WEB_PUBLIC_URL", "flux.example.com"),
            ("FLUX2WEB_LOG_LEVEL", "loud"),
            ("FLUX2WEB_ENCRYPTION_KEY", "not-a-fernet-key"),
        ],
    )
    def test_a_malformed_value_stops_start_up_naming_the_variable(self, tmp_path, name, value):
        result = run_manage("check", env={name: value}, data_dir=tmp_path)

        assert result.returncode != 0
        assert f"Flux2Web configuration error: {name}: " in result.stderr
        assert "Traceback" not in result.stderr

    def test_production_mode_refuses_to_start_without_an_explicit_secret_key(self, tmp_path):
        result = run_manage(
            "check",
            env={"FLUX2WEB_MODE": "production", "FLUX2WEB_ALLOWED_HOSTS": "flux.example.com"},
            data_dir=tmp_path,
        )
        assert result.returncode != 0
        assert "FLUX2WEB_SECRET_KEY: must be set in production mode" in result.stderr
        assert not (tmp_path / "secret_key").exists()

    def test_production_mode_refuses_to_start_without_an_encryption_key(self, tmp_path):
        result = run_manage(
            "check",
            env={
                "FLUX2WEB_MODE": "production",
                "FLUX2WEB_SECRET_KEY": "x" * 60,
                "FLUX2WEB_ALLOWED_HOSTS": "flux.example.com",
            },
            data_dir=tmp_path,
        )
        assert result.returncode != 0
        assert "FLUX2WEB_ENCRYPTION_KEY: must be set in production mode" in result.stderr
        assert not (tmp_path / "encryption_key").exists()

    def test_locally_an_encryption_key_is_generated_once(self, tmp_path):
        settings_seen_by_a_fresh_process(tmp_path)
        key_file = tmp_path / "encryption_key"
        first = key_file.read_text()
        settings_seen_by_a_fresh_process(tmp_path)
        assert key_file.read_text() == first
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    def test_production_mode_needs_allowed_hosts(self, tmp_path):
        result = run_manage(
            "check",
            env={
                "FLUX2WEB_MODE": "production",
                "FLUX2WEB_SECRET_KEY": "x" * 60,
                "FLUX2WEB_ENCRYPTION_KEY": FERNET_KEY,
            },
            data_dir=tmp_path,
        )
        assert result.returncode != 0
        assert "FLUX2WEB_ALLOWED_HOSTS" in result.stderr

    def test_production_mode_starts_with_what_it_needs(self, tmp_path):
        seen = settings_seen_by_a_fresh_process(
            tmp_path,
            FLUX2WEB_MODE="production",
            FLUX2WEB_SECRET_KEY="k" * 60,
            FLUX2WEB_ALLOWED_HOSTS="flux.example.com",
            FLUX2WEB_ENCRYPTION_KEY=f"{FERNET_KEY},{OLD_FERNET_KEY}",
        )
        assert seen["secret"] == "k" * 60
        assert seen["hosts"] == ["flux.example.com"]


PRODUCTION = {
    "FLUX2WEB_MODE": "production",
    "FLUX2WEB_SECRET_KEY": "pX7#vK2$mQ9!wL4@zR8%tY3^nB6&cF1*hJ5(dG0)sA-eU_iO+rT=yW",
    "FLUX2WEB_ALLOWED_HOSTS": "flux.example.com",
    "FLUX2WEB_ENCRYPTION_KEY": FERNET_KEY,
}


def https_settings(tmp_path, **env) -> dict:
    code = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'redirect': s.SECURE_SSL_REDIRECT, 'hsts': s.SECURE_HSTS_SECONDS, "
        "'subdomains': s.SECURE_HSTS_INCLUDE_SUBDOMAINS, 'cookies': s.SESSION_COOKIE_SECURE}))"
    )
    result = run_manage("shell", "-c", code, env=env, data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


class TestProductionHardening:
    def test_check_deploy_is_clean_in_production(self, tmp_path):
        result = run_manage(
            "check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION, data_dir=tmp_path
        )
        assert result.returncode == 0, result.stderr + result.stdout
        assert "identified no issues" in result.stdout

    def test_production_redirects_to_https_and_sets_hsts_by_default(self, tmp_path):
        seen = https_settings(tmp_path, **PRODUCTION)
        assert seen == {"redirect": True, "hsts": 31_536_000, "subdomains": True,
                        "cookies": True}  # fmt: skip

    def test_a_tls_terminating_proxy_can_take_over_redirect_and_hsts(self, tmp_path):
        seen = https_settings(tmp_path, **PRODUCTION, FLUX2WEB_SSL_REDIRECT="false",
                              FLUX2WEB_HSTS_SECONDS="0")  # fmt: skip
        assert (seen["redirect"], seen["hsts"], seen["cookies"]) == (False, 0, True)

    def test_local_mode_stays_on_plain_http(self, tmp_path):
        seen = https_settings(tmp_path)
        assert seen == {"redirect": False, "hsts": 0, "subdomains": False, "cookies": False}
