"""gunicorn's settings for every way Flux2Web starts a web server (the Procfile's `web`,
`manage.py up`), so none of them can leave out the redacting logger: `gunicorn -c
python:flux2web.lib.gunicorn_conf`. Where to bind and how many workers stay with each."""

# Every request line goes to standard output, through the logger that replaces each share
# address's secret part (and gunicorn's own error lines, which may name a request's URI).
accesslog = "-"
logger_class = "flux2web.lib.gunicorn_logging.RedactingLogger"
# Threads keep the many small HTMX refreshes from queueing behind each other.
threads = 4
