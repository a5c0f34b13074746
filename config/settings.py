"""Decorum settings, read from the environment.

With no environment variables at all the app runs on the embedded default: a SQLite file in DATA_DIR,
the in-memory channel layer, and turns executed in a background thread of the web process.
Set DATABASE_URL and REDIS_URL for production (PostgreSQL, channels-redis, Celery workers on Redis).
"""

from __future__ import annotations

from pathlib import Path

from config.env import (
    ConfigurationError,
    database_from_url,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_prices,
    env_str,
    redis_url_valid,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("DECORUM_DATA_DIR", str(BASE_DIR / "data")))

DATABASE_URL = env_str("DATABASE_URL")
REDIS_URL = redis_url_valid(env_str("REDIS_URL")) if env_str("REDIS_URL") else ""
EMBEDDED = not DATABASE_URL and not REDIS_URL

DEBUG = env_bool("DEBUG", default=EMBEDDED)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not EMBEDDED and not DEBUG:
        raise ConfigurationError("SECRET_KEY must be set when DATABASE_URL or REDIS_URL is set")
    SECRET_KEY = "decorum-embedded-insecure-key-change-me"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "template_partials",
    "agents",
    "behavior",
    "sessions.apps.ConversationsConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files, before anything that touches the session
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "config.html_errors.DomainErrorPageMiddleware",
]

ROOT_URLCONF = "config.urls"
# The studio opens a sandbox session in a side panel (an iframe of our own pages); other sites may not frame us.
X_FRAME_OPTIONS = "SAMEORIGIN"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

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
                "config.context_processors.navigation",
            ],
            "libraries": {"decorum": "config.templatetags"},
            # Every template (includes and partials too) has the studio's role and formatting filters.
            "builtins": ["config.templatetags"],
        },
    },
]

if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL)}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "decorum.sqlite3",
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# With Redis: "pubsub" (default) fans events out with Redis pub/sub, one subscription per web process;
# "lists" is channels-redis' queue layer, which pops one message per Redis round trip under a per-process
# lock (bench/realtime_bench.py, 200 sockets on one daphne: events reached clients ~10 s late with "lists",
# ~0.3 s with "pubsub"). Events are in the database either way: a client that misses one gets it on resume.
CHANNEL_LAYER = env_str("CHANNEL_LAYER", "pubsub")
if CHANNEL_LAYER not in {"pubsub", "lists"}:
    raise ConfigurationError(f"CHANNEL_LAYER={CHANNEL_LAYER!r} must be pubsub or lists")
if REDIS_URL and CHANNEL_LAYER == "pubsub":
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    }
elif REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # Consumers block on Redis for up to 5 s per read (BZPOPMIN); redis-py's default 5 s socket timeout
            # would end an idle websocket with an error, so reads get more time than that.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}], "capacity": 1500, "expiry": 30},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Celery: with REDIS_URL, turns run in `celery worker`; without it, the same task code runs in a
# background thread of the web process (TURNS_IN_PROCESS).
TURNS_IN_PROCESS = env_bool("TURNS_IN_PROCESS", default=not REDIS_URL)
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("TURN_TIME_LIMIT_SECONDS", 300, minimum=10)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 60}
# A running turn whose claim is older than this is presumed dead (worker lost): it may be re-claimed or
# failed by `sweep_turns`. Longer than the task time limit, shorter than the broker's redelivery timeout.
TURN_STALE_SECONDS = env_int("TURN_STALE_SECONDS", CELERY_TASK_TIME_LIMIT + 30, minimum=15)
TURN_MAX_ATTEMPTS = env_int("TURN_MAX_ATTEMPTS", 2, minimum=1, maximum=10)
TURN_THREADS = env_int("TURN_THREADS", 4, minimum=1, maximum=64)  # in-process turn threads (TURNS_IN_PROCESS)
# Threads per web process for the websocket consumers' database work (each holds one connection while busy).
WEBSOCKET_DATABASE_THREADS = env_int("WEBSOCKET_DATABASE_THREADS", 12, minimum=1, maximum=64)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files are served by WhiteNoise from every web process (daphne serves none itself). With DEBUG off they
# come from STATIC_ROOT, which `manage.py collectstatic` fills (scripts/run, tests/e2e/run_e2e.sh and the README's
# production steps run it) with content-hashed, gzipped copies: pages link the hashed names, which are cached for
# ten years as immutable; an unhashed name is cached for a minute. With DEBUG on (the embedded default) they are
# read straight from static/ and the apps on every request, unhashed. STATIC_MANIFEST overrides the choice.
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "staticfiles")))
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", default=not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
WHITENOISE_AUTOREFRESH = not STATIC_MANIFEST

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Request limits: the API answers 413 above API_MAX_BODY_BYTES.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("API_MAX_BODY_BYTES", 2 * 1024 * 1024, minimum=1024)
MAX_CUSTOMER_MESSAGE_CHARS = env_int("MAX_CUSTOMER_MESSAGE_CHARS", 4000, minimum=1)
# Request rates (config/ratelimit.py), per minute; 0 turns a limit off. Counted in the "default" cache:
# process memory in the embedded default, Redis in production (shared by every web process).
API_RATE_LIMIT_PER_MINUTE = env_int("API_RATE_LIMIT_PER_MINUTE", 600, minimum=0)
API_AUTH_FAILURES_PER_MINUTE = env_int("API_AUTH_FAILURES_PER_MINUTE", 30, minimum=0)
RATE_LIMIT_CACHE = "default"

# Evaluations (behavior/evaluations): attempts of a run go concurrently up to its concurrency (at most
# EVAL_MAX_CONCURRENCY); in the embedded default they run in EVAL_THREADS threads of the web process, with Redis as
# Celery tasks. The simulated customer and the judge use EVAL_MODEL (the agent's own model when empty).
EVAL_THREADS = env_int("EVAL_THREADS", 4, minimum=1, maximum=64)
EVAL_MAX_CONCURRENCY = env_int("EVAL_MAX_CONCURRENCY", 16, minimum=1, maximum=64)
EVAL_DEFAULT_CONCURRENCY = env_int("EVAL_DEFAULT_CONCURRENCY", 4, minimum=1, maximum=EVAL_MAX_CONCURRENCY)
EVAL_ATTEMPT_TIME_LIMIT = env_int("EVAL_ATTEMPT_TIME_LIMIT_SECONDS", 1800, minimum=30)
EVAL_MODEL = env_str("EVAL_MODEL", "")
# Dollars per million tokens, for the cost estimates of runs (and analytics); extend or override with
# LLM_PRICES_JSON='{"my-model": {"prompt": 1.0, "completion": 2.0}}'.
LLM_PRICES: dict[str, dict[str, float]] = {
    "gpt-4o-mini": {"prompt": 0.15, "completion": 0.60},
    "gpt-4o": {"prompt": 2.50, "completion": 10.00},
    "gpt-4.1-mini": {"prompt": 0.40, "completion": 1.60},
    "gpt-4.1": {"prompt": 2.00, "completion": 8.00},
    **env_prices("LLM_PRICES_JSON"),
}

# Outbound webhooks: attempts back off exponentially (base * 2^n, capped) up to WEBHOOK_MAX_ATTEMPTS. Private and
# loopback receivers are refused in production unless allowed.
WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 10.0, minimum=0.5)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8, minimum=1, maximum=30)
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 10, minimum=1)
WEBHOOK_RETRY_MAX_SECONDS = env_int("WEBHOOK_RETRY_MAX_SECONDS", 3600, minimum=1)
WEBHOOKS_ALLOW_PRIVATE_HOSTS = env_bool("WEBHOOKS_ALLOW_PRIVATE_HOSTS", default=EMBEDDED or DEBUG)
CELERY_BEAT_SCHEDULE = {
    "webhooks-sweep": {"task": "sessions.webhooks_sweep", "schedule": 60.0},
    "turns-sweep": {"task": "sessions.turns_sweep", "schedule": 60.0},
    "evals-recover-stale": {"task": "behavior.evals_recover_stale", "schedule": 300.0},
}

# The website widget (docs/widget.md): customer tokens, per-address and per-session limits; 0 turns a limit off.
WIDGET_TOKEN_MAX_AGE_SECONDS = env_int("WIDGET_TOKEN_MAX_AGE_SECONDS", 7 * 24 * 3600, minimum=60)
WIDGET_REQUESTS_PER_MINUTE_PER_IP = env_int("WIDGET_REQUESTS_PER_MINUTE_PER_IP", 120, minimum=0)
WIDGET_MESSAGES_PER_MINUTE_PER_SESSION = env_int("WIDGET_MESSAGES_PER_MINUTE_PER_SESSION", 20, minimum=0)
WIDGET_NEW_SESSIONS_PER_HOUR_PER_IP = env_int("WIDGET_NEW_SESSIONS_PER_HOUR_PER_IP", 20, minimum=0)
WIDGET_CONNECTIONS_PER_IP = env_int("WIDGET_CONNECTIONS_PER_IP", 10, minimum=0)
WIDGET_LONG_POLL_MAX_SECONDS = env_int("WIDGET_LONG_POLL_MAX_SECONDS", 25, minimum=0)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "decorum",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "decorum"}}

# LLM configuration: off unless configured. Named base-URL profiles come from LLM_PROFILE_<NAME>_BASE_URL/_API_KEY
# (agents/llm/factory.py); OPENAI_STRUCTURED_OUTPUT=json_object suits servers without json_schema support.
OPENAI_API_KEY = env_str("OPENAI_API_KEY")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL")
OPENAI_TIMEOUT_SECONDS = env_float("OPENAI_TIMEOUT_SECONDS", 60.0, minimum=0.1)
OPENAI_MAX_RETRIES = env_int("OPENAI_MAX_RETRIES", 3, minimum=0, maximum=10)
DEFAULT_LLM_MODEL = env_str("DEFAULT_LLM_MODEL", "gpt-4o-mini")
OPENAI_EMBEDDING_MODEL = env_str("OPENAI_EMBEDDING_MODEL", "text-embedding-3-small")
OPENAI_EMBEDDING_DIMENSIONS = env_int("OPENAI_EMBEDDING_DIMENSIONS", 1536, minimum=1, maximum=8192)
EMBEDDER = env_str("EMBEDDER", "local")  # local (MiniLM on onnxruntime) | openai | hashing
if EMBEDDER not in {"local", "openai", "hashing"}:
    raise ConfigurationError(f"EMBEDDER={EMBEDDER!r} must be one of local, openai, hashing")
# Modules whose @tool functions are the Python tools agents may call (comma-separated in the env).
DECORUM_TOOL_MODULES = env_list("DECORUM_TOOL_MODULES", ["behavior.demo.tools"])

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Django's default config gives the "django" logger a console handler of its own; routing it only through
    # ours avoids every request line being printed twice.
    "loggers": {
        "django": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO"), "propagate": False},
        "django.channels.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "daphne": {"level": "WARNING"},
    },
}
