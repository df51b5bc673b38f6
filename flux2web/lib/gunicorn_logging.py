"""gunicorn's logs without share tokens (flux2web.lib.gunicorn_conf names this class). Kept
apart from flux2web.lib.logs so that Django itself never imports gunicorn."""

from __future__ import annotations

from gunicorn.glogging import Logger

from flux2web.lib.logs import RedactSecrets


class RedactingLogger(Logger):
    """Every line gunicorn writes, access log and error log alike, has the part of a path
    after /s/ replaced by "<token>" (request line, referer, "Error handling request <uri>")."""

    def setup(self, cfg):
        super().setup(cfg)  # (again on a reload, with new handlers)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.addFilter(RedactSecrets())
