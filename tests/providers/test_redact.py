"""What providers say is scrubbed of our key and of anything shaped like a secret."""

import pytest

from flux2web.providers.redact import scrub, scrub_value
from flux2web.providers.types import AuthError

KEY = "sk-live-51HxQ2eZvKYlo2C0aB9"


@pytest.mark.parametrize(
    ("said", "kept"),
    [
        (f"Invalid API key provided: {KEY}", "Invalid API key provided: [redacted]"),
        (f"key {KEY[:10]}... is not valid", "key [redacted] is not valid"),
        ("Authorization: Bearer abc.def-123_456", "Authorization: Bearer [redacted]"),
        ("bad token=f00dbabe12345678", "bad token=[redacted]"),
        ('secret: "Zm9vYmFyYmF6cXV4MTIzNDU2"', 'secret: "[redacted]"'),
        ("someone else's sk-proj-0123456789abcdef", "someone else's [redacted]"),
        # Ordinary provider words stay as they are.
        ("invalid token", "invalid token"),
        ("The key is wrong", "The key is wrong"),
        ("input.prompt is required", "input.prompt is required"),
        ("Task task_kie_1796006067247_1 not found", "Task task_kie_1796006067247_1 not found"),
    ],
)
def test_a_providers_words_lose_every_secret_and_keep_the_rest(said, kept):
    assert scrub(said, [KEY]) == kept


def test_a_whole_body_is_scrubbed_keys_and_values():
    body = {"error": {"message": f"bad key {KEY}", KEY: [f"Bearer {KEY}"]}, "code": 401}
    assert KEY not in repr(scrub_value(body, [KEY]))
    assert scrub_value(body, [KEY])["code"] == 401


def test_an_error_from_a_client_is_scrubbed_before_anyone_sees_it(make_client, sandbox):
    sandbox.config.echo_key = True
    client = make_client("apixo", api_key=KEY)
    with pytest.raises(AuthError) as caught:
        client.check_key()
    assert caught.value.message == "Invalid API key provided: [redacted]"
    assert KEY not in repr(caught.value.raw) and KEY not in str(caught.value)


def test_a_nul_byte_in_a_providers_words_is_dropped_before_anyone_stores_them():
    # PostgreSQL refuses NUL in text: a job's failure, its events and the provider's last
    # error would fail to save, leaving the job stuck.
    assert scrub('{"msg": "bad\x00 request"}') == '{"msg": "bad request"}'
    assert scrub("\x00" * 10) == ""
