"""Helpers for pipeline tests; sandbox, providers and clusters are fixtures in tests/conftest.py."""

import logging
import uuid

import pytest

from flux2web.jobs.models import Job

S = Job.State


@pytest.fixture(autouse=True)
def strict_transitions(settings):
    """A move jobs/states.py does not allow fails the test instead of being logged."""
    settings.JOB_TRANSITIONS_STRICT = True


# ---- S3-compatible storage over real HTTP: moto's standalone server on loopback. -------

S3_REGION = "us-east-1"
S3_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


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


def s3_storage_options(bucket: str, endpoint: str) -> dict:
    """What settings.py builds from FLUX2WEB_S3_BUCKET and FLUX2WEB_S3_ENDPOINT_URL."""
    return {"bucket_name": bucket, "endpoint_url": endpoint, "region_name": S3_REGION,
            "location": "media", "default_acl": "private", "file_overwrite": False,
            "querystring_auth": True}  # fmt: skip


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


def s3_worker_env(bucket: str, endpoint: str) -> dict:
    return {"FLUX2WEB_S3_BUCKET": bucket, "FLUX2WEB_S3_ENDPOINT_URL": endpoint,
            "FLUX2WEB_S3_REGION": S3_REGION, "FLUX2WEB_S3_PREFIX": "media", **S3_KEYS}  # fmt: skip
