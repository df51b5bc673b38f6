"""Every address whose URL pattern carries a secret (a share key, an invitation's token, a
reference upload's signed token, a callback's secret) is written to the logs without it,
whatever logger writes it. Built from the URLconf, so a new secret address is covered or
this fails."""

import logging
import re
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from flux2web.lib.logs import RedactSecrets, redact

SECRET_PARAMETERS = re.compile(r"<(?:str:|path:)?(key|token|secret)>")
SECRET = "Zq9-SECRET_0f3c1b2a7d"


def patterns(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def sample_path(pattern: str) -> str:
    path = SECRET_PARAMETERS.sub(SECRET, pattern)
    path = re.sub(r"<int:\w+>", "12", path)
    path = re.sub(r"<(?:str:)?\w+>", "MQ", path)
    return "/" + path


def test_every_address_that_carries_a_secret_is_logged_without_it():
    secret_paths = [p for p in patterns() if SECRET_PARAMETERS.search(p)]
    assert len(secret_paths) >= 5  # share page, unlock, zip, image; refs; invitations...
    for pattern in secret_paths:
        path = sample_path(pattern)
        line = f'127.0.0.1 - - "GET {path}?x=1 HTTP/1.1" 404 12 "https://ex.example{path}"'
        assert SECRET not in redact(line), pattern
        assert "<token>" in redact(line), pattern


def test_the_filter_rewrites_what_any_logger_would_write():
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Not Found: %s",
        (f"/refs/{SECRET}/x",),
        None,
    )
    assert RedactSecrets().filter(record)
    assert record.getMessage() == "Not Found: /refs/<token>/x"


def test_addresses_without_a_secret_are_left_as_they_are():
    for line in ("GET /jobs/12/ HTTP/1.1", "GET /accounts/set-password/done/ HTTP/1.1"):
        assert redact(line) == line


API_TOKEN = "f2w_" + "Zq9-SECRET_0f3c1b2a7d" * 2 + "x"


def test_an_api_token_is_never_written_wherever_it_appears():
    lines = [
        f"Authorization: Bearer {API_TOKEN}",
        f"authorization: bearer {API_TOKEN}",
        f"{{'HTTP_AUTHORIZATION': 'Bearer {API_TOKEN}'}}",
        f'127.0.0.1 - - "GET /v1/models?key={API_TOKEN} HTTP/1.1" 401 12 "-" "curl"',
        f"a pasted token {API_TOKEN[:20]}",
        f"Bearer sk-somebody-elses-{SECRET}",
    ]
    for line in lines:
        redacted = redact(line)
        assert SECRET not in redacted and API_TOKEN[4:12] not in redacted, line
        assert "<token>" in redacted, line


def test_the_filter_redacts_a_bearer_token_in_a_records_arguments():
    record = logging.LogRecord(
        "flux2web.api", logging.ERROR, __file__, 1, "header %s", (f"Bearer {API_TOKEN}",), None
    )
    assert RedactSecrets().filter(record)
    assert record.getMessage() == "header Bearer <token>"


@pytest.mark.parametrize(
    "access_format",
    [None, '%(h)s "%(r)s" %(s)s %(u)s "%({authorization}i)s" "%(f)s" "%(a)s"'],
    ids=["our format", "one that writes the header"],
)
def test_gunicorns_access_line_never_holds_an_api_token(capsys, access_format):
    from gunicorn.config import Config

    from flux2web.lib import gunicorn_conf
    from flux2web.lib.gunicorn_logging import RedactingLogger

    class Response:
        status, sent, headers = "401 Unauthorized", 0, []

    class Request:
        headers = [("AUTHORIZATION", f"Bearer {API_TOKEN}")]

    environ = {"PATH_INFO": "/v1/models", "QUERY_STRING": "", "REQUEST_METHOD": "GET",
               "SERVER_PROTOCOL": "HTTP/1.1", "RAW_URI": "/v1/models", "REMOTE_ADDR": "1.2.3.4",
               "HTTP_AUTHORIZATION": f"Bearer {API_TOKEN}"}  # fmt: skip
    config = Config()
    config.set("accesslog", "-")
    fmt = access_format or getattr(gunicorn_conf, "access_log_format", None)
    if fmt:
        config.set("access_log_format", fmt)
    RedactingLogger(config).access(Response(), Request(), environ, timedelta(0))
    line = capsys.readouterr().out
    assert "/v1/models" in line and "401" in line
    assert SECRET not in line and API_TOKEN[4:12] not in line


def test_the_filter_redacts_a_traceback_too():
    try:
        raise RuntimeError(f"while reading Bearer {API_TOKEN} for /refs/{SECRET}/x")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "flux2web", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    assert RedactSecrets().filter(record)
    written = logging.Formatter().format(record)
    assert "RuntimeError: while reading Bearer <token>" in written
    assert SECRET not in written and API_TOKEN[4:12] not in written
