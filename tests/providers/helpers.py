"""Following a sandbox task to its end, a receiver for the callbacks it sends, and a proxy
that answers every create with its own error page."""

import contextlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def follow(client, task_id, *, timeout=10.0):
    """Poll until final; return the final status and every provider state seen on the way."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.status(task_id)
        if not seen or seen[-1] != status.provider_state:
            seen.append(status.provider_state)
        if status.state.is_final:
            return status, seen
        time.sleep(0.03)
    raise AssertionError(f"{task_id} did not finish; states seen: {seen}")


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.put((dict(self.headers), body))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class _GatewayPage(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.creates += 1
        body = f"<html><body><h1>{self.server.status}</h1></body></html>".encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def gateway_page(status: int):
    """A proxy in front of a vendor answering every create with its own HTML page (502:
    it lost the vendor's answer); `.url` is its address, `.creates` counts what it took."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _GatewayPage)
    server.status, server.creates = status, 0
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
