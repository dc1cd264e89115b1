"""Every setting of the server, read from the environment once, here and nowhere else.

Each one is listed, with its default, in the settings table of docs/operations.md (a test holds
the two together). A malformed value stops the server at start-up with ImproperlyConfigured
rather than being guessed at.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from corsheaders.defaults import default_headers as cors_default_headers
from django.core.exceptions import ImproperlyConfigured

from chat_project import __version__

BASE_DIR = Path(__file__).resolve().parent.parent


# --- helpers -------------------------------------------------------------------------------------


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = env_str(name).lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = env_str(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = env_str(name)
    if not raw:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


_DURATION = re.compile(r"^(\d+)\s*([smhd]?)$")
_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def env_duration(name: str, default: timedelta) -> timedelta:
    """A duration in seconds, or with a unit: `90d`, `12h`, `30m`, `45s`."""
    raw = env_str(name).lower()
    if not raw:
        return default
    match = _DURATION.match(raw)
    if not match or int(match.group(1)) == 0:
        raise ImproperlyConfigured(f"{name} must be a positive duration such as 90d, not {raw!r}")
    return timedelta(seconds=int(match.group(1)) * _DURATION_UNITS[match.group(2)])


_RATE = re.compile(r"^\d+/\d*[smhd]?$")
_RATE_AND_BURST = re.compile(r"^\d+/\d*[smhd]?(:[1-9]\d*)?$")


def env_rate(name: str, default: str) -> str:
    """A django-ratelimit rate: `10/s`, `100/5m`, `1000/h`."""
    raw = env_str(name, default)
    if not _RATE.match(raw):
        raise ImproperlyConfigured(f"{name} must be a rate such as 10/s or 100/5m, not {raw!r}")
    return raw


def env_rates(name: str) -> dict[str, str]:
    """Rates per endpoint name, each with a burst if wanted: `room-send=5/s:20,login=20/m`."""
    rates = {}
    for item in env_list(name, []):
        endpoint, _, rate = item.partition("=")
        if not endpoint.strip() or not _RATE_AND_BURST.match(rate.strip()):
            raise ImproperlyConfigured(
                f"{name} takes name=rate pairs such as room-send=5/s (or 5/s:20 with a burst)"
            )
        rates[endpoint.strip()] = rate.strip()
    return rates


def persistent_secret_key(path: Path) -> str:
    """The key kept in `path`, made on first use and readable only by its owner.

    Several server processes may start at once, so the file is written aside and linked into
    place: exactly one key wins and every process reads that one.
    """
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        scratch = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
        try:
            os.link(scratch, path)
        except FileExistsError:
            pass
        finally:
            scratch.unlink()
    key = path.read_text().strip()
    if len(key) < 32:
        raise ImproperlyConfigured(
            f"{path} holds no usable secret key; delete it to make a new one"
        )
    return key


# --- the deployment ------------------------------------------------------------------------------

VERSION = __version__
# The Rocket.Chat version whose API this server follows: GET /api/info's `version`, on which
# Rocket.Chat's clients switch features on (ours, VERSION, is `serverVersion` there).
ROCKETCHAT_API_VERSION = env_str("ROCKETCHAT_API_VERSION", "6.13.0")
if not re.fullmatch(r"\d+\.\d+\.\d+", ROCKETCHAT_API_VERSION):
    raise ImproperlyConfigured(
        f"ROCKETCHAT_API_VERSION must be a version such as 6.13.0, not {ROCKETCHAT_API_VERSION!r}"
    )
DEBUG = env_bool("DEBUG")

# Where the server keeps its own files: the SQLite database, the generated secret key, static files.
VAR_DIR = Path(env_str("VAR_DIR") or BASE_DIR / "var").resolve()

SECRET_KEY = env_str("SECRET_KEY") or persistent_secret_key(VAR_DIR / "secret_key")

HOST = env_str("HOST", "127.0.0.1")
PORT = env_int("PORT", 3000, minimum=1)
# The address users reach the server at (Rocket.Chat's Site_Url setting, until an administrator
# sets that one).
SITE_URL = env_str("SITE_URL", f"http://localhost:{PORT}")
if PORT > 65535:
    raise ImproperlyConfigured(f"PORT must be at most 65535, not {PORT}")
# gunicorn's own variable name; the default is gunicorn's advice for a sync server.
WEB_CONCURRENCY = env_int("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1, minimum=1)

_local_hosts = ["localhost", "127.0.0.1", "[::1]"]
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS",
    _local_hosts + ([HOST] if HOST not in {"0.0.0.0", "::", *_local_hosts} else []),  # noqa: S104
)

DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
try:
    _database = dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
except ValueError:
    _database = {"ENGINE": ""}
if _database["ENGINE"] not in {"django.db.backends.sqlite3", "django.db.backends.postgresql"}:
    # Named by its scheme alone: the rest of the URL may hold a password.
    _scheme = urlsplit(DATABASE_URL).scheme if "://" in DATABASE_URL else ""
    raise ImproperlyConfigured(
        "DATABASE_URL must be a PostgreSQL URL (postgres://user:password@host:5432/name) or a "
        "SQLite one (sqlite:////absolute/path.sqlite3), "
        + (f"not a {_scheme}: one" if _scheme else "starting with its scheme://")
    )
if _database["ENGINE"] == "django.db.backends.sqlite3":
    _database["CONN_MAX_AGE"] = 0
    _database["OPTIONS"] = {
        # Several worker processes write to one file: take the write lock when a transaction
        # starts (no deadlocked upgrades), let readers and one writer work side by side, and wait
        # for the lock rather than failing at once.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
# Seconds to wait for a PostgreSQL connection: a stopped or unreachable database then costs a
# request this long and a 503 (chat_project.http.errors), not a hang. CONN_HEALTH_CHECKS (on, above)
# drops a dead pooled connection, so the server recovers by itself once the database is back.
DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 5, minimum=1)
if _database["ENGINE"] == "django.db.backends.postgresql":
    _database.setdefault("OPTIONS", {}).setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
    # Django's backend, with a health check that needs no round trip and prepared statements
    # for the hot ones (chat_project/db/postgresql/base.py).
    _database["ENGINE"] = "chat_project.db.postgresql"
# The hottest statements (a send, a history page) run as server-side prepared statements on
# PostgreSQL, planned once per connection. Turn off behind a pooler that shares one server
# session between clients' transactions (PgBouncer's transaction mode).
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", default=True)
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Each silenced check says below why it is silenced, and only in the setup it names.
SILENCED_SYSTEM_CHECKS: list[str] = []

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(
        "REDIS_URL must be a redis://host:6379/0 URL (or rediss://, unix://), "
        + (f"not a {urlsplit(REDIS_URL).scheme}: one" if "://" in REDIS_URL else "scheme first")
    )
if REDIS_URL:
    CACHES = {
        "default": {
            # django-redis: atomic counters, and the backend django-ratelimit supports.
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "chat",
            "OPTIONS": {
                # A Redis that has gone away costs a request half a second, not a hang.
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Without Redis each process counts for itself, so rate limits hold per process (as
    # docs/security.md says). django-ratelimit rightly flags such a cache; here it is the
    # documented single-machine mode, so only then are its two cache checks quietened.
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003", "django_ratelimit.W001"]


# --- the product ---------------------------------------------------------------------------------

# How long a login token works (Rocket.Chat's Accounts_LoginExpiration default: 90 days).
LOGIN_TOKEN_TTL = env_duration("LOGIN_TOKEN_TTL", timedelta(days=90))

# The first administrator, created by `make run` when no user exists yet.
ADMIN_USERNAME = env_str("ADMIN_USERNAME", "admin")
ADMIN_EMAIL = env_str("ADMIN_EMAIL", "admin@localhost")
ADMIN_PASSWORD = os.environ.get("ADMIN_PASSWORD", "")

# Usernames and room names (Rocket.Chat's UTF8_Names_Validation default, with the hyphen placed
# where every regex dialect reads it literally).
NAME_PATTERN = env_str("NAME_PATTERN", r"[0-9a-zA-Z_.-]+")
try:
    re.compile(NAME_PATTERN)
except re.error as exc:
    raise ImproperlyConfigured(f"NAME_PATTERN is not a valid regular expression: {exc}") from None
NAME_MAX_LENGTH = 64

# The longest message accepted, in characters (Rocket.Chat's Message_MaxAllowedSize default).
MESSAGE_MAX_LENGTH = env_int("MESSAGE_MAX_LENGTH", 5000, minimum=1)
# May authors edit / delete their own messages (Rocket.Chat's Message_AllowEditing/Deleting)?
MESSAGE_ALLOW_EDITING = env_bool("MESSAGE_ALLOW_EDITING", default=True)
MESSAGE_ALLOW_DELETING = env_bool("MESSAGE_ALLOW_DELETING", default=True)

# The most records one bulk/register or bulk/createRoom call may carry.
BULK_MAX = env_int("BULK_MAX", 1000, minimum=1)
# channels.addAll / groups.addAll refuse when there are more users than this to add
# (Rocket.Chat's API_User_Limit).
ADD_ALL_USER_LIMIT = env_int("ADD_ALL_USER_LIMIT", 500, minimum=1)

# Whether anyone may sign themselves up with POST /api/v1/users.register (Rocket.Chat's
# Accounts_RegistrationForm: "Public" when true, "Disabled" when false).
REGISTRATION_ENABLED = env_bool("REGISTRATION_ENABLED", default=True)

# --- e-mail (users.forgotPassword) ----------------------------------------------------------------

# Without EMAIL_HOST, mail is written to the console log (Django's console backend); with it,
# sent over SMTP.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = 10
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "chat@localhost")
# Where people reach this server: the password reset mail's link starts with it.
# How long a password reset link works, in seconds (Django's PASSWORD_RESET_TIMEOUT).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3600, minimum=60)
# users.forgotPassword requests per client address, and per e-mail address asked about.
FORGOT_PASSWORD_RATE = env_rate("FORGOT_PASSWORD_RATE", "5/h")

# --- rate limits ---------------------------------------------------------------------------------

# Requests per user (or per address before login) on every /api/ endpoint: the seed's 10 a second.
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_RATE = env_rate("RATELIMIT_RATE", "10/s")
# How many requests may come at once before RATELIMIT_RATE applies (Mattermost's MaxBurst).
RATELIMIT_BURST = env_int("RATELIMIT_BURST", 100, minimum=1)
RATELIMIT_RATES = env_rates("RATELIMIT_RATES")  # per endpoint: "room-send=5/s:20,login=20/m"
RATELIMIT_FAIL_OPEN = True  # a cache that cannot count: serve (logins excepted, see login_guard)
# Proxies whose X-Forwarded-For is believed (addresses or networks); none by default.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
try:
    TRUSTED_PROXY_NETWORKS = [ipaddress.ip_network(p, strict=False) for p in TRUSTED_PROXIES]
except ValueError as exc:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES: {exc}") from None
# Logins: attempts per address, and the failures after which logins are blocked for a while.
LOGIN_RATE = env_rate("LOGIN_RATE", "10/m")
LOGIN_FAILURES_PER_USER = env_int("LOGIN_FAILURES_PER_USER", 10, minimum=1)
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 50, minimum=1)
LOGIN_BLOCK_SECONDS = env_int("LOGIN_BLOCK_SECONDS", 300, minimum=1)

# The largest request body accepted; anything larger gets 413.
REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BYTES

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()

# --- the realtime API (websockets) ---------------------------------------------------------------

# Threads per server process for the REST views (and, separately, for the sockets' database work).
# Two, by measurement (`make bench`, docs/performance.md): the views are CPU-bound under the GIL,
# and 8 threads a process served the hot REST paths 8-16 % slower than gunicorn's sync workers.
WEB_THREADS = env_int("WEB_THREADS", 2, minimum=1)
# Each thread that has worked keeps a database connection (CONN_MAX_AGE): a process holds up to
# WEB_THREADS + REALTIME_THREADS of them, which PostgreSQL's max_connections must allow for.
REALTIME_THREADS = env_int("REALTIME_THREADS", 4, minimum=1)
# Redis pub/sub channel the server processes share events on; one per database, so two
# deployments (or test runs) sharing a Redis server do not hear each other.
REALTIME_CHANNEL = env_str(
    "REALTIME_CHANNEL", "chat:events:" + str(_database["NAME"]).rsplit("/", 1)[-1]
)
# A websocket frame larger than this closes the connection (close code 1009).
REALTIME_MAX_FRAME_BYTES = env_int("REALTIME_MAX_FRAME_BYTES", 256 * 1024, minimum=1024)
# Frames waiting for one client; a client this far behind is disconnected (close code 1013).
REALTIME_SOCKET_QUEUE = env_int("REALTIME_SOCKET_QUEUE", 1000, minimum=1)
# ...or this many bytes wait for it (1013 too).
REALTIME_SOCKET_QUEUE_BYTES = env_int("REALTIME_SOCKET_QUEUE_BYTES", 4 * 1024 * 1024, minimum=1024)
# The sum of every socket's queue in one process; past it the sockets furthest behind are
# disconnected (1013) first.
REALTIME_QUEUES_MAX_BYTES = env_int("REALTIME_QUEUES_MAX_BYTES", 256 * 1024 * 1024, minimum=1024)
# Websockets one client address may hold open, per server process; more are refused (403).
REALTIME_SOCKETS_PER_ADDRESS = env_int("REALTIME_SOCKETS_PER_ADDRESS", 200, minimum=1)
# A websocket not signed in this many seconds after it opens (or logs out) is closed (1008).
REALTIME_LOGIN_WITHIN = env_int("REALTIME_LOGIN_WITHIN", 30, minimum=1)
# Meteor's heartbeat: ping a client silent this long; close it if no pong follows in time.
REALTIME_PING_SECONDS = env_int("REALTIME_PING_SECONDS", 25, minimum=1)
REALTIME_PING_TIMEOUT = env_int("REALTIME_PING_TIMEOUT", 20, minimum=1)
# Every this often each process asks, in one query, which of its sockets' logins still hold, and
# closes the others: logins ended without an event (a queryset's update(), raw SQL, a revocation
# published while Redis was away). Revocations through Django close sockets at once.
REALTIME_LOGIN_RECHECK_SECONDS = env_int("REALTIME_LOGIN_RECHECK_SECONDS", 30, minimum=1)
# DDP method calls per user (per address before login) across all their sockets and processes,
# per method (sendMessage: Rocket.Chat's 5 a second).
REALTIME_METHOD_RATE = env_rate("REALTIME_METHOD_RATE", "20/s")
REALTIME_SEND_RATE = env_rate("REALTIME_SEND_RATE", "5/s")
# Presence: a user with a signed-in socket is online (or the status they chose). With REDIS_URL
# each socket is kept in Redis with a deadline this far ahead, pushed back every third of it by
# its process; the sockets of a process that died stop counting once it passes, and the next
# sweep (every live process sweeps as often) announces their users offline. Without REDIS_URL,
# kept in the one server process's memory.
PRESENCE_TTL_SECONDS = env_int("PRESENCE_TTL_SECONDS", 60, minimum=3)
# Login tokens with their users, and rooms with the caller's membership, kept in each process
# for at most this long while nothing they come from has been written (chat_project/
# access_cache/ says how every process learns of a write). 0 turns it off, the default without
# REDIS_URL, where no process can tell another of a write.
ACCESS_CACHE_SECONDS = env_int("ACCESS_CACHE_SECONDS", 30 if REDIS_URL else 0, minimum=0)
ACCESS_CACHE_ENTRIES = env_int("ACCESS_CACHE_ENTRIES", 20_000, minimum=1)
# Where the generation lives: Redis, shared by every process, or this process alone (the tests'
# in-process mode; only right for a single process).
ACCESS_CACHE_GENERATION = "redis" if REDIS_URL else "local"
ACCESS_CACHE_KEY = "chat:access-generation:" + str(_database["NAME"]).rsplit("/", 1)[-1]


# --- Django --------------------------------------------------------------------------------------

INSTALLED_APPS = [
    # django.contrib.admin on the product's site (chat_project/admin.py), its password checks
    # behind the login guard (accounts/admin_site.py).
    "accounts.apps.GuardedAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served here: /api/docs/ needs no CDN
    "django_ratelimit",
    "corsheaders",
    "chat_project",
    # Kept access answers; watches writes to the tables the models declare (its ready()).
    "chat_project.access_cache",
    "accounts",
    "permissions",
    "rooms",
]

MIDDLEWARE = [
    # Outermost, so that every response, whatever produced it, gets the request id and version
    # headers and, under /api/, the JSON error envelope.
    "chat_project.http.middleware.ApiEnvelopeMiddleware",
    # Before the rate limits: a preflight is answered without being counted, and a 429 still
    # carries the CORS headers a browser needs to let the page read it. Inert unless
    # CORS_ALLOWED_ORIGINS names an origin.
    "corsheaders.middleware.CorsMiddleware",
    # Next, so that a 429 is answered before anything else runs, and every /api/ answer,
    # errors included, carries the rate headers.
    "chat_project.http.ratelimit.ApiRateLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "chat_project.urls"
WSGI_APPLICATION = "chat_project.wsgi.application"
ASGI_APPLICATION = "chat_project.asgi.application"
APPEND_SLASH = False  # /api/ paths take an optional trailing slash themselves

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
# The only backend: Django's own logins (the admin's) check passwords through the API's login
# guard. Django's ModelBackend, checking them unguarded, is left out.
AUTHENTICATION_BACKENDS = ["accounts.backends.GuardedPasswordBackend"]
PASSWORD_HASHERS = [
    "accounts.hashers.RocketChatArgon2PasswordHasher",
    # Hashes in these formats still verify and are upgraded on the next login.
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Every way to set a password (users.register, users.create, users.update, bulk registration,
# the admin's forms, `manage.py changepassword`) checks it against these, with the user it is for.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "name", "email")},
    },
    {"NAME": "accounts.validators.PasswordWithoutUsernameValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every start without it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.LoginTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "chat_project.http.parsers.SafeJSONParser",
        "chat_project.http.parsers.FormOrJsonParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["chat_project.http.renderers.FastJSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "chat_project.http.negotiation.AlwaysJson",
    "EXCEPTION_HANDLER": "chat_project.http.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_SCHEMA_CLASS": "chat_project.http.schema.ApiSchema",
}

# The OpenAPI schema of every /api/ endpoint, at /api/schema/ (browsable at /api/docs/); the
# shared parts (error envelope, auth, rate headers) are in chat_project/http/schema.py.
SPECTACULAR_SETTINGS = {
    "TITLE": "Chat server API",
    "DESCRIPTION": "The Rocket.Chat REST API (0.1 under /api/, v1 under /api/v1/).",
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,  # request bodies: required text is non-empty (minLength 1)
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PREPROCESSING_HOOKS": ["chat_project.http.schema.only_api_endpoints"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "chat_project.http.schema.shared_parts",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# The Django admin's sessions live in the browser's cookie, signed with SECRET_KEY, never in the
# database: a dump of it signs no one in (docs/security.md). A password change (the session
# auth hash) or a deactivation ends such a session at its next request; a logout deletes the
# browser's cookie, and a copy taken earlier stops working SESSION_COOKIE_AGE after sign-in.
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=60)
SESSION_COOKIE_HTTPONLY = True


# --- TLS and browsers ----------------------------------------------------------------------------

# The default is a plain-HTTP server on localhost (`make run`). In production, terminate TLS in
# front of it and set HTTPS=true: cookies become secure-only and plain HTTP is redirected.
HTTPS = env_bool("HTTPS")
# Set when the proxy in front terminates TLS and sets X-Forwarded-Proto (and strips a client's
# own): only then is that header believed, and a request counts as secure by it.
TLS_PROXY = env_bool("TLS_PROXY")
if TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=HTTPS)
# A load balancer's probe often speaks plain HTTP to the server itself: never redirect it.
SECURE_REDIRECT_EXEMPT = [r"^api/health/?$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=HTTPS)
# HSTS cannot be taken back from browsers that saw it, so it is opt-in even with HTTPS=true.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
if not HTTPS:
    # Plain HTTP (the localhost default): secure-only cookies would never be sent back, a
    # redirect to https:// would lead nowhere, and HSTS is ignored over HTTP. `check --deploy`
    # warns about all four whatever the setup; with HTTPS=true they are live again.
    SILENCED_SYSTEM_CHECKS += ["security.W004", "security.W008", "security.W012", "security.W016"]

# Browsers may call the API from these origins (comma-separated, e.g. https://chat.example.com);
# none by default, so CORS stays off. Credentials travel in headers, never in cookies.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])
CORS_URLS_REGEX = r"^/api(/.*)?$"
CORS_ALLOW_HEADERS = (*cors_default_headers, "x-auth-token", "x-user-id", "x-request-id")
CORS_EXPOSE_HEADERS = [
    "X-Request-Id",
    "X-Version-Id",
    "X-Ratelimit-Limit",
    "X-Ratelimit-Remaining",
    "X-Ratelimit-Reset",
    "Retry-After",
]
CORS_ALLOW_CREDENTIALS = False
