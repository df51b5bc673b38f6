"""Typed readers for environment variables: every value has a default, a bad one stops start-up."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class ConfigError(ImproperlyConfigured):
    """A malformed environment variable; the message always starts with the variable's name."""

    def __init__(self, name: str, problem: str):
        super().__init__(f"{name}: {problem}")
        self.name = name


class Env:
    """Reads one mapping (os.environ by default) so tests can hand in their own."""

    def __init__(self, environ: Mapping[str, str] | None = None):
        self.environ = os.environ if environ is None else environ

    def raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        return None if value is None else value.strip()

    def str(self, name: str, default: str) -> str:
        value = self.raw(name)
        return default if value is None or value == "" else value

    def bool(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        word = value.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ConfigError(name, f"expected true/false (1/0, yes/no, on/off), got {value!r}")

    def int(self, name: str, default: int, *, minimum: int | None = None) -> int:
        value = self.raw(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(name, f"expected a whole number, got {value!r}") from None
        if minimum is not None and number < minimum:
            raise ConfigError(name, f"must be at least {minimum}, got {number}")
        return number

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.str(name, default).lower()
        if value not in choices:
            raise ConfigError(name, f"expected one of {', '.join(choices)}, got {value!r}")
        return value

    def list(self, name: str, default: list[str]) -> list[str]:
        value = self.raw(name)
        if value is None:
            return default
        return [item.strip() for item in value.split(",") if item.strip()]

    def switch_or_hosts(self, name: str) -> tuple[bool, frozenset[str]]:
        """true/false, or a comma-separated list of host:port pairs allowed one by one."""
        value = self.raw(name) or ""
        if value.lower() in TRUE_WORDS | FALSE_WORDS:
            return value.lower() in TRUE_WORDS, frozenset()
        hosts = set()
        for item in (i.strip() for i in value.split(",")):
            host, _, port = item.rpartition(":")
            if not item or not host or not port.isdigit():
                raise ConfigError(name, f"expected true/false or host:port pairs, got {item!r}")
            hosts.add(f"{host.strip('[]')}:{int(port)}")
        return False, frozenset(hosts)

    def url(self, name: str, default: str, *, schemes: tuple[str, ...]) -> str:
        value = self.str(name, default)
        if value == "":
            return value
        parts = urlsplit(value)
        if parts.scheme not in schemes or not parts.netloc:
            raise ConfigError(
                name, f"expected a URL starting with {' or '.join(s + '://' for s in schemes)}"
            )
        return value.rstrip("/")


def database_from_url(url: str, *, name: str = "DATABASE_URL") -> dict:
    """Turn sqlite:///path or postgres://user:pass@host:port/db?opt=v into a DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        # sqlite:///relative.db names a relative path, sqlite:////abs/path an absolute one.
        if path.startswith("/") and not parts.netloc:
            path = path[1:]
        if not path:
            raise ConfigError(name, "sqlite URLs need a file path, e.g. sqlite:////srv/flux2web.db")
        return sqlite_database(Path(path))
    if parts.scheme in ("postgres", "postgresql", "pgsql"):
        db_name = unquote(parts.path.lstrip("/"))
        if not parts.hostname and not db_name:
            raise ConfigError(name, "postgres URLs need a host or a database name")
        if not db_name:
            raise ConfigError(name, "postgres URLs need a database name after the host")
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(name, "the port is not a number") from None
        options = dict(parse_qsl(parts.query))
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": db_name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port or ""),
            "OPTIONS": options,
            # Keep connections between requests; health checks drop dead ones.
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    scheme = parts.scheme or "(none)"
    raise ConfigError(name, f"unsupported scheme {scheme!r}; use postgres:// or sqlite:///")


def sqlite_database(path: Path) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            # The web server, the worker and the poller all write: WAL lets readers go on
            # while one writes, IMMEDIATE takes the write lock up front so transactions
            # wait for each other instead of failing with "database is locked".
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
        # Kept open between requests and tasks: opening one costs more than most queries.
        "CONN_MAX_AGE": 600,
        # A file, never the in-memory default: the qcluster started by tests must see it.
        "TEST": {"NAME": str(path.with_name(path.stem + "-test" + path.suffix))},
    }


def q_cluster(*, redis_url: str, name: str, workers: int, timeout: int) -> dict:
    """django-q2 settings: the ORM broker on the default database, or Redis when a URL is set."""
    config = {
        "name": name,
        "workers": workers,
        "timeout": timeout,
        # retry must exceed timeout, or a slow task is handed to a second worker while the
        # first still runs it.
        "retry": timeout + 60,
        "max_attempts": 3,
        "catch_up": False,
        # 0: keep results without pruning on every save. django-q2's pruning loads every
        # stored result, under a lock, for each task; our maintenance prunes instead.
        "save_limit": 0,
        "ack_failures": True,
        "label": "Task queue",
    }
    if redis_url:
        config["redis"] = redis_url
    else:
        config["orm"] = "default"
        # How often an idle cluster asks the database for work: a callback's follow-up
        # waits this long at most before a worker has it.
        config["poll"] = 0.1
    return config


def secret_key_from_file(path: Path, make=lambda: secrets.token_urlsafe(50)) -> str:
    """Read a local secret, creating it once (with `make`) with owner-only permissions."""
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written to a private temporary file, then linked into place: link() fails if the
    # file exists, so two processes starting together agree on one key, and nobody ever
    # reads a half-written one.
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(make())
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text().strip()
