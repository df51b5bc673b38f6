"""gunicorn's settings for every way Flux2Web starts a web server (the Procfile's `web`,
`manage.py up`), so none of them can leave out the redacting logger: `gunicorn -c
python:flux2web.lib.gunicorn_conf`. Where to bind and how many workers stay with each.

The server model: gunicorn's threaded worker (gthread), many threads per process. Requests
that wait (an API call for its images, a studio page's event stream) each hold a thread
that sleeps on a threading.Event (jobs/changes.py) with no database connection, so a
waiting request costs a thread's stack and nothing else; the site's own pages run on the
other threads. We kept to WSGI rather than ASGI (uvicorn under gunicorn): Django runs sync
views under ASGI in one thread per process (thread_sensitive), so every page would queue
behind each other, and the ORM, whitenoise and django-q2 are sync anyway. bench/held.py
shows the site's pages beside 50 waiting API calls and 50 open streams."""

from flux2web.settings import WEB_THREADS

# Every request line goes to standard output, through the logger that replaces each share
# address's secret part (and gunicorn's own error lines, which may name a request's URI).
accesslog = "-"
logger_class = "flux2web.lib.gunicorn_logging.RedactingLogger"
worker_class = "gthread"
# Threads per worker process (FLUX2WEB_WEB_THREADS): requests waiting for images or events
# hold one each, up to all but a few (lib/holding.py).
threads = WEB_THREADS
