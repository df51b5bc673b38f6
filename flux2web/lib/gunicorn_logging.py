"""gunicorn's access log without share tokens (Procfile: --logger-class). Kept apart from
flux2web.lib.logs so that Django itself never imports gunicorn."""

from __future__ import annotations

from gunicorn.glogging import Logger

from flux2web.lib.logs import redact


class RedactingLogger(Logger):
    """Every atom of an access-log line that holds a path (request line, path, referer, any
    header or environ value) has the part after /s/ replaced by "<token>"."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if isinstance(value, str) and "/s/" in value:
                atoms[key] = redact(value)
        return atoms
