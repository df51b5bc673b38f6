"""Flux2Web settings: every value from an environment variable, each with a working default.

With nothing set this runs on one machine: SQLite and media under FLUX2WEB_DATA_DIR, the
django-q2 ORM broker, a locally generated SECRET_KEY. README.md lists every variable.
"""

from datetime import timedelta
from pathlib import Path

from csp.constants import NONE, SELF

from flux2web.lib.crypto import generate_key, valid_key
from flux2web.lib.env import (
    ConfigError,
    Env,
    database_from_url,
    q_cluster,
    secret_key_from_file,
    sqlite_database,
)

BASE_DIR = Path(__file__).resolve().parent.parent
env = Env()

MODE = env.choice("FLUX2WEB_MODE", "local", ("local", "production"))
PRODUCTION = MODE == "production"
DEBUG = env.bool("FLUX2WEB_DEBUG", False)
DATA_DIR = Path(env.str("FLUX2WEB_DATA_DIR", str(BASE_DIR / "data"))).resolve()

SECRET_KEY = env.str("FLUX2WEB_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ConfigError(
            "FLUX2WEB_SECRET_KEY",
            "must be set in production mode (a long random string, kept the same across "
            "restarts and machines)",
        )
    SECRET_KEY = secret_key_from_file(DATA_DIR / "secret_key")

# Provider API keys are encrypted with these (comma-separated: the first encrypts, all
# decrypt, so keys can be rotated). Locally one is generated once into the data folder.
ENCRYPTION_KEYS = env.list("FLUX2WEB_ENCRYPTION_KEY", [])
if not ENCRYPTION_KEYS:
    if PRODUCTION:
        raise ConfigError(
            "FLUX2WEB_ENCRYPTION_KEY",
            'must be set in production mode (generate one with: python -c "from '
            'cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")',
        )
    ENCRYPTION_KEYS = [secret_key_from_file(DATA_DIR / "encryption_key", make=generate_key)]
for _key in ENCRYPTION_KEYS:
    if not valid_key(_key):
        raise ConfigError(
            "FLUX2WEB_ENCRYPTION_KEY", "each key must be 32 url-safe base64-encoded bytes (Fernet)"
        )

PUBLIC_URL = env.url("FLUX2WEB_PUBLIC_URL", "", schemes=("http", "https"))
ALLOWED_HOSTS = env.list(
    "FLUX2WEB_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ConfigError("FLUX2WEB_ALLOWED_HOSTS", "must name this site's host(s) in production mode")
CSRF_TRUSTED_ORIGINS = [PUBLIC_URL] if PUBLIC_URL else []
# Cookies only over HTTPS: when the public URL says https, and in production unless it
# says plain http.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PUBLIC_URL.startswith("https://") or (
    PRODUCTION and not PUBLIC_URL.startswith("http://")
)
# In production, HTTPS only: plain HTTP is redirected and browsers are told (HSTS) never to
# try it again. Behind a TLS-terminating proxy that redirects by itself, or one that sets
# HSTS, either can be switched off here.
SECURE_SSL_REDIRECT = env.bool("FLUX2WEB_SSL_REDIRECT", PRODUCTION)
# The load balancer's health check may come over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("FLUX2WEB_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("FLUX2WEB_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env.bool("FLUX2WEB_HSTS_PRELOAD", False)
# Preloading is a promise to browser vendors that only the site's owner can make (anyone may
# submit a domain that asks for it), so it is off unless chosen, and check --deploy is not
# asked to insist on it.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
BEHIND_PROXY = env.bool("FLUX2WEB_BEHIND_PROXY", False)
if BEHIND_PROXY:
    # Only behind a proxy that sets this header itself; otherwise a client could forge it.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_q",
    "axes",
    "csp",
    "flux2web.accounts",
    "flux2web.core",
    "flux2web.credentials",
    "flux2web.billing",
    "flux2web.scores",
    "flux2web.jobs",
    "flux2web.studio",
    "flux2web.gallery",
    "flux2web.team",
    "flux2web.collections",
    "flux2web.review",
    "flux2web.links",
    "flux2web.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a signed-in user unless its view says @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "flux2web.lib.htmx.HtmxMessagesMiddleware",
    "flux2web.lib.htmx.VaryOnHtmx",
    # Live pages are never kept by the browser: Back shows the present, not the past.
    "flux2web.lib.headers.NoStoreForPeople",
    # Last, as django-axes asks: turns a throttled sign-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "flux2web.urls"
WSGI_APPLICATION = "flux2web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "flux2web.credentials.context_processors.provider_alerts",
                "flux2web.review.context_processors.notifications_bell",
            ],
        },
    },
]

# Form widgets through Jinja2's copies of Django's widget templates, falling back to
# Django's engine for the admin's own (lib/forms.py; bench/pages.py).
FORM_RENDERER = "flux2web.lib.forms.FormRenderer"

DATABASE_URL = env.str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL)}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {"default": sqlite_database(DATA_DIR / "flux2web.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.url("REDIS_URL", "", schemes=("redis", "rediss", "unix"))
Q_CLUSTER = q_cluster(
    redis_url=REDIS_URL,
    name=env.str("FLUX2WEB_QUEUE_NAME", "flux2web"),
    workers=env.int("FLUX2WEB_WORKERS", 3, minimum=1),
    timeout=env.int("FLUX2WEB_TASK_TIMEOUT", 120, minimum=70),
)
# Rendered gallery pages: per process by default, shared through Redis when there is one.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if not REDIS_URL
    else {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
}

# The job pipeline.
# Result URLs on private, loopback or link-local addresses are refused unless allowed:
# true for all, or host:port pairs (bin/run allows only its own sandbox).
ALLOW_PRIVATE_URLS, ALLOWED_PRIVATE_HOSTS = env.switch_or_hosts("FLUX2WEB_ALLOW_PRIVATE_URLS")
# A provider answering 455 (maintenance) without Retry-After is left alone this long.
MAINTENANCE_COOLDOWN_SECONDS = env.int("FLUX2WEB_MAINTENANCE_COOLDOWN", 600, minimum=1)
# A provider Auto skips for failing lately gets one trial job after this many quiet seconds.
ROUTING_TRIAL_SECONDS = env.int("FLUX2WEB_ROUTING_TRIAL_SECONDS", 60, minimum=1)
# Threads per web server process (lib/gunicorn_conf.py); requests that wait for images or
# events may hold all but HELD_SPARE_THREADS of them (lib/holding.py), so pages always run.
WEB_THREADS = env.int("FLUX2WEB_WEB_THREADS", 100, minimum=1)
HELD_SPARE_THREADS = 16
# The OpenAI-compatible API (/v1/): how long a request waits for its images before a 504
# (the job goes on), how long its image addresses last, and each token's limits.
API_WAIT_SECONDS = env.int("FLUX2WEB_API_WAIT_SECONDS", 300, minimum=1)
API_URL_MINUTES = env.int("FLUX2WEB_API_URL_MINUTES", 60, minimum=1)
API_RATE_PER_MINUTE = env.int("FLUX2WEB_API_RATE_PER_MINUTE", 60, minimum=1)
API_CONCURRENT_REQUESTS = env.int("FLUX2WEB_API_CONCURRENT", 8, minimum=1)
MAX_IMAGE_BYTES = env.int("FLUX2WEB_MAX_IMAGE_MB", 50, minimum=1) * 1024 * 1024
MAX_IMAGE_PIXELS = 64_000_000
# How long a submit may be in progress before a crash is assumed and the job marked
# uncertain (it is never resent). Longer than a create's timeout.
SUBMIT_LEASE_SECONDS = env.int("FLUX2WEB_SUBMIT_LEASE", 90, minimum=1)
# New tasks sent to providers per second, for the whole site (0: no pacing). Results come
# back at the rate tasks went out; faster than the workers can store them, they wait.
SUBMIT_RATE = env.int("FLUX2WEB_SUBMIT_RATE", 30, minimum=0)
# How long a worker may hold one image download before another may take it over.
MIRROR_CLAIM_SECONDS = env.int("FLUX2WEB_MIRROR_CLAIM", 120, minimum=1)
# A poller that has not renewed its lease for this long is taken for dead and replaced.
POLLER_LEASE_SECONDS = env.int("FLUX2WEB_POLLER_LEASE", 10, minimum=1)

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "studio:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14

# Sign-in throttling (django-axes): after LOGIN_FAILURES failed sign-ins for one account
# (from anywhere), or from one client address (for any accounts), further tries are
# refused for LOGIN_COOLOFF after the last counted failure. Tries during a lock-out do not
# prolong it, so a guesser cannot keep the right person out for long; a success forgets
# earlier failures. Attempts live in the database, so every web process sees them.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("FLUX2WEB_LOGIN_FAILURES", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("FLUX2WEB_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "flux2web.lib.clients.client_address"
AXES_LOCKOUT_CALLABLE = "flux2web.accounts.throttle.locked_out"
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins need no table of their own

# E-mail (notification digests): printed on the worker's output unless an SMTP server is
# named. TLS means STARTTLS, or TLS from the first byte on port 465.
EMAIL_HOST = env.str("FLUX2WEB_EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env.int("FLUX2WEB_EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env.str("FLUX2WEB_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env.str("FLUX2WEB_EMAIL_PASSWORD", "")
_email_tls = env.bool("FLUX2WEB_EMAIL_TLS", True)
EMAIL_USE_SSL = _email_tls and EMAIL_PORT == 465
EMAIL_USE_TLS = _email_tls and not EMAIL_USE_SSL
EMAIL_TIMEOUT = 20  # a stuck server must not hold a worker past its task timeout
DEFAULT_FROM_EMAIL = SERVER_EMAIL = env.str("FLUX2WEB_EMAIL_FROM", "Flux2Web <flux2web@localhost>")

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("FLUX2WEB_TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"
S3_BUCKET = env.str("FLUX2WEB_S3_BUCKET", "")
if S3_BUCKET:
    # Credentials come the usual boto3 way (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or an
    # instance role); objects stay private and are only ever served through our views.
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env.url("FLUX2WEB_S3_ENDPOINT_URL", "", schemes=("http", "https"))
            or None,
            "region_name": env.str("FLUX2WEB_S3_REGION", "") or None,
            "location": env.str("FLUX2WEB_S3_PREFIX", ""),
            "default_acl": "private",
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
else:
    DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# WhiteNoise serves static files straight from the source folders (no STATIC_ROOT), so no
# deployment can forget collectstatic; they are few and small.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOG_LEVEL = env.choice(
    "FLUX2WEB_LOG_LEVEL", "info", ("debug", "info", "warning", "error", "critical")
).upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    # Addresses that hold a secret (share links, invitations, reference links, callbacks):
    # the paths Django logs have it replaced (flux2web.lib.logs).
    "filters": {"secrets": {"()": "flux2web.lib.logs.RedactSecrets"}},
    "handlers": {
        # On the handler too: whatever logger a record comes from, none is written with a
        # token (logger filters, which tests' log capture sees, cover the known ones).
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["secrets"],
        },
        # As Django's own (runserver's request lines), which naming the logger replaces.
        "django.server": {
            "level": "INFO",
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"filters": ["secrets"]},
        "django.security.csrf": {"filters": ["secrets"]},
        "django.server": {
            "handlers": ["django.server"],
            "level": "INFO",
            "propagate": False,
            "filters": ["secrets"],
        },
        "django-q": {"level": "WARNING" if LOG_LEVEL == "INFO" else LOG_LEVEL},
        # One line per HTTP call is noise at INFO; every provider call is a job event anyway.
        "httpx": {"level": "WARNING" if LOG_LEVEL == "INFO" else LOG_LEVEL},
        "httpcore": {"level": "WARNING"},
        # Failed sign-ins and lock-outs are warnings; its start-up and success lines are noise.
        "axes": {"level": "WARNING" if LOG_LEVEL == "INFO" else LOG_LEVEL},
    },
}

X_FRAME_OPTIONS = "DENY"
# Every page: scripts, styles, fonts and connections from this site only, no inline script
# or style (templates use files under static/ and classes), never framed. Stored images and
# references get a stricter policy of their own (flux2web.lib.headers).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
