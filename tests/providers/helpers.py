"""Following a sandbox task to its end, and a receiver for the callbacks it sends."""

import time
from http.server import BaseHTTPRequestHandler


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
