"""Helpers for pipeline tests; sandbox, providers and clusters are fixtures in tests/conftest.py."""

import logging
import uuid

import pytest

from tests.jobs.factories import S3_KEYS, S3_REGION, s3_storage_options


@pytest.fixture(autouse=True)
def strict_transitions(settings):
    """A move jobs/states.py does not allow fails the test instead of being logged."""
    settings.JOB_TRANSITIONS_STRICT = True


# ---- S3-compatible storage over real HTTP: moto's standalone server on loopback. -------


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3-compatible server on 127.0.0.1 (a free port), for the whole session.

    boto3 and django-storages reach it over loopback HTTP exactly as a real bucket; the
    worker processes a test starts reach the same one."""
    pytest.importorskip("flask", reason="moto's standalone server needs Flask (dev deps)")
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_server, settings, monkeypatch):
    """A fresh bucket on the S3 server, the default storage for this test; yields
    (boto3 client, bucket name). Anything a worker needs is in s3_worker_env(bucket)."""
    import boto3

    for name, value in S3_KEYS.items():
        monkeypatch.setenv(name, value)
    bucket = f"flux2web-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_server, region_name=S3_REGION)
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": s3_storage_options(bucket, s3_server),
        },
    }
    yield client, bucket
    client.close()
