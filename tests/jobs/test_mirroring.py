"""Result images are fetched safely: public addresses only, bounded, verified, or lost honestly."""

import io
import socket
import ssl
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone
from PIL import Image as PILImage

from flux2web.jobs import mirroring
from flux2web.jobs.models import Image, Job
from flux2web.providers import download
from flux2web.providers.download import AddressPolicy, DownloadError, download_image
from tests.jobs.factories import make_jobs

S = Job.State


def png(size=(64, 48), mode="RGB"):
    out = io.BytesIO()
    PILImage.new(mode, size).save(out, format="PNG")
    return out.getvalue()


BOMB = png((10_000, 10_000), mode="1")  # 100 megapixels in a small file
PAGES = {
    "/ok.png": (200, "image/png", png()),
    "/text": (200, "text/html", b"<html>not an image</html>"),
    "/liar.png": (200, "image/png", b"GIF89a but not really"),
    "/bomb.png": (200, "image/png", BOMB),
    "/big.png": (200, "image/png", png() + b"\0" * 300_000),
    "/gone": (410, "text/plain", b"gone"),
    "/busy": (503, "text/plain", b"try later"),
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/ok.png")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status, kind, body = PAGES[self.path]
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def host():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def fetch(host, path, *, policy=None, max_bytes=200_000):
    policy = policy or AddressPolicy(allowed=frozenset({host}))
    return download_image(f"http://{host}{path}", policy=policy, max_bytes=max_bytes,
                          max_pixels=64_000_000)  # fmt: skip


def test_a_good_image_is_measured_and_hashed(host):
    got = fetch(host, "/ok.png")
    assert (got.width, got.height, got.content_type) == (64, 48, "image/png")
    assert len(got.sha256) == 64


def test_redirects_are_followed_and_rechecked(host):
    assert fetch(host, "/redirect").width == 64


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.7", "169.254.169.254", "[::1]"])
def test_private_addresses_are_refused_by_default(address):
    with pytest.raises(DownloadError, match="non-public address") as caught:
        AddressPolicy().check(f"http://{address}/x.png")
    assert caught.value.permanent


def test_an_allowed_host_port_opens_only_itself(host):
    policy = AddressPolicy(allowed=frozenset({host}))
    policy.check(f"http://{host}/ok.png")
    with pytest.raises(DownloadError):
        policy.check("http://127.0.0.1:1/other.png")
    AddressPolicy(allow_all=True).check("http://10.0.0.7/x.png")


@pytest.mark.parametrize(
    ("path", "reason", "permanent"),
    [
        ("/text", "Not an image: text/html", True),
        ("/liar.png", "Not a readable image", True),
        ("/bomb.png", "over 64000000 pixels", True),
        ("/big.png", "Too large", True),
        ("/gone", "HTTP 410", True),
        ("/busy", "HTTP 503", False),
    ],
)
def test_bad_answers_are_refused_with_a_reason(host, path, reason, permanent):
    with pytest.raises(DownloadError, match=reason) as caught:
        fetch(host, path)
    assert caught.value.permanent is permanent


def test_nothing_listening_is_worth_another_try():
    with pytest.raises(DownloadError) as caught:
        fetch("127.0.0.1:1", "/x.png", policy=AddressPolicy(allow_all=True))
    assert not caught.value.permanent


@pytest.mark.django_db
class TestMirroringJobs:
    @pytest.fixture
    def mirroring_job(self, owner, providers, media):
        def make(url, expires_in=timedelta(hours=1)):
            (job,) = make_jobs(owner, provider=providers["KIE.ai"])
            Job.objects.filter(pk=job.pk).update(state=S.MIRRORING)
            Image.objects.create(job=job, owner_id=job.owner_id, provider_url=url,
                                 provider_url_expires_at=timezone.now() + expires_in)  # fmt: skip
            return job

        return make

    def test_a_private_result_url_is_lost_with_the_reason(self, mirroring_job, host, settings):
        settings.ALLOW_PRIVATE_URLS, settings.ALLOWED_PRIVATE_HOSTS = False, frozenset()
        job = mirroring_job(f"http://{host}/ok.png")
        assert mirroring.mirror_job(job_id=job.pk) == "lost"
        job.refresh_from_db()
        assert job.state == S.FAILED and job.error_class == "result_lost"
        assert "non-public address" in job.error_message

    def test_a_passing_failure_is_retried_while_the_link_lives(self, mirroring_job, host, settings):
        settings.ALLOWED_PRIVATE_HOSTS = frozenset({host})
        job = mirroring_job(f"http://{host}/busy")
        assert mirroring.mirror_job(job_id=job.pk) == "pending"
        image = job.images.get()
        assert image.status == Image.Status.PENDING and image.attempts == 1
        assert image.next_attempt_at > timezone.now()
        assert "HTTP 503" in image.last_error
        assert mirroring.due_mirrors(timezone.now()) == []
        assert mirroring.due_mirrors(timezone.now() + timedelta(minutes=5)) == [job.pk]

    def test_a_download_whose_worker_died_is_handed_out_once_its_claim_runs_out(
        self, mirroring_job, host, settings
    ):
        job = mirroring_job(f"http://{host}/ok.png")
        assert mirroring.claim(job.images.get().pk)  # then the worker holding it is killed
        claimed_until = job.images.get().claimed_until
        assert mirroring.due_mirrors(claimed_until - timedelta(seconds=1)) == []

        after = claimed_until + timedelta(seconds=1)
        assert mirroring.due_mirrors(after) == [job.pk]
        assert mirroring.due_mirrors(after) == []  # handed out once
        assert mirroring.claim(job.images.get().pk)  # and the next worker may take it

    def test_a_failure_after_another_worker_took_the_download_over_changes_nothing(
        self, mirroring_job, host, settings, monkeypatch
    ):
        settings.ALLOWED_PRIVATE_HOSTS = frozenset({host})
        job = mirroring_job(f"http://{host}/busy")
        image = job.images.get()
        assert mirroring.claim(image.pk)
        download = mirroring.download_image
        theirs = timezone.now() + timedelta(minutes=9)

        def taken_over_meanwhile(*args, **kwargs):  # this worker's claim ran out, and
            Image.objects.filter(pk=image.pk).update(claimed_until=theirs)  # another took it
            return download(*args, **kwargs)

        monkeypatch.setattr(mirroring, "download_image", taken_over_meanwhile)
        mirroring.mirror_image(image.pk)

        image.refresh_from_db()
        assert (image.status, image.attempts, image.last_error) == (Image.Status.PENDING, 0, "")
        assert (image.claimed_until, image.next_attempt_at) == (theirs, None)
        assert not job.events.filter(message__contains="failed").exists()

    def test_an_expired_link_is_lost_not_retried(self, mirroring_job, host, settings):
        settings.ALLOWED_PRIVATE_HOSTS = frozenset({host})
        job = mirroring_job(f"http://{host}/busy", expires_in=timedelta(seconds=-1))
        assert mirroring.mirror_job(job_id=job.pk) == "lost"
        assert "The link expired" in job.images.get().last_error

    def test_an_expired_sandbox_url_is_lost(self, mirroring_job, sandbox, settings):
        settings.ALLOWED_PRIVATE_HOSTS = frozenset({sandbox.url.removeprefix("http://")})
        sandbox.config.url_ttl = -10
        from flux2web.providers.sandbox import Task

        task = Task(id="t1", mount="kie", number=1, model="m", prompt="p", width=8, height=8,
                    seed=1, refs=[], body={}, created=0, duration=0)  # fmt: skip
        url, _ = sandbox.file_url(sandbox.url.removeprefix("http://"), task)
        job = mirroring_job(url, expires_in=timedelta(seconds=-1))
        assert mirroring.mirror_job(job_id=job.pk) == "lost"
        assert "HTTP 403" in job.images.get().last_error


@pytest.mark.parametrize(
    "host",
    ["0.0.0.0",  # noqa: S104 (refused, not bound)
     "172.16.3.4", "192.168.1.1", "100.64.0.1", "localhost", "[fc00::1]",
     "[fe80::1]", "[::ffff:127.0.0.1]", "[::ffff:a00:1]", "[64:ff9b::a9fe:a9fe]",
     "[2002:7f00:1::]", "224.0.0.1", "2130706433", "0177.0.0.1", "0x7f.0.0.1", "010.0.0.1",
     "127.1"],
)  # fmt: skip
def test_every_form_of_a_private_address_is_refused(host):
    with pytest.raises(DownloadError) as caught:
        AddressPolicy().check(f"http://{host}/x.png")
    assert caught.value.permanent


def test_a_name_that_resolves_to_a_private_address_is_refused(monkeypatch):
    real = socket.getaddrinfo

    def resolver(host, *args, **kwargs):
        if host == "intranet.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 80))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with pytest.raises(DownloadError, match=r"non-public address \(10.1.2.3\)"):
        AddressPolicy().check("http://intranet.example/x.png")


class RecordingHandler(Handler):
    seen_hosts: list[str] = []

    def do_GET(self):
        self.seen_hosts.append(self.headers["Host"])
        super().do_GET()


def test_the_download_connects_to_the_address_that_was_checked(monkeypatch):
    """DNS rebinding: the name answers a public address to the check and a private one to
    the connection. The download must go to the checked address, with the name as Host."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    real_resolve, real_connect = socket.getaddrinfo, socket.create_connection
    answers = iter(["8.8.8.8", "127.0.0.1"])  # public first, then private

    def resolver(host, *args, **kwargs):
        if host == "cdn.rebind.example":
            address = next(answers, "127.0.0.1")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real_resolve(host, *args, **kwargs)

    connected = []

    def connect(address, *args, **kwargs):
        connected.append(address)
        if address[0] == "8.8.8.8":  # stands in for the public server
            address = ("127.0.0.1", address[1])
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    monkeypatch.setattr(socket, "create_connection", connect)
    RecordingHandler.seen_hosts = []
    try:
        got = download_image(f"http://cdn.rebind.example:{port}/ok.png", policy=AddressPolicy(),
                             max_bytes=200_000, max_pixels=64_000_000)  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    assert got.width == 64
    assert connected == [("8.8.8.8", port)]
    assert RecordingHandler.seen_hosts == [f"cdn.rebind.example:{port}"]


def certificate_for(name: str, folder):
    """A throw-away CA and a certificate it signed for `name`: (ca file, cert file, key file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def build(subject, issuer, key, signer, *, ca, san=None):
        now = timezone.now()
        builder = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )  # fmt: skip
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName([san]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = build(ca_name, ca_name, ca_key, ca_key, ca=True)
    cert = build(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]), ca_name, key,
                 ca_key, ca=False, san=x509.DNSName(name))  # fmt: skip
    files = [folder / "ca.pem", folder / "cert.pem", folder / "key.pem"]
    files[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return files


def test_a_pinned_https_download_keeps_the_tls_name(monkeypatch, tmp_path):
    """Connected by address, the TLS handshake still names the host, so its certificate
    is checked against the name (and the right one is served)."""
    name = "cdn.tls.example"
    ca_file, cert_file, key_file = certificate_for(name, tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingHandler)
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert_file, key_file)
    names = []
    served.sni_callback = lambda sock, server_name, context: names.append(server_name)
    server.socket = served.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    real_resolve, real_connect = socket.getaddrinfo, socket.create_connection

    def resolver(host, *args, **kwargs):
        if host == name:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", port))]
        return real_resolve(host, *args, **kwargs)

    def connect(address, *args, **kwargs):
        assert address[0] == "8.8.8.8", address  # by the checked address, never by name
        return real_connect(("127.0.0.1", address[1]), *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    monkeypatch.setattr(socket, "create_connection", connect)
    monkeypatch.setattr(download, "ssl_context", lambda: ssl.create_default_context(cafile=ca_file))
    RecordingHandler.seen_hosts = []
    try:
        got = download_image(f"https://{name}:{port}/ok.png", policy=AddressPolicy(),
                             max_bytes=200_000, max_pixels=64_000_000)  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    assert got.width == 64
    assert names == [name]
    assert RecordingHandler.seen_hosts == [f"{name}:{port}"]
