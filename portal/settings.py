"""Settings for the school–family portal, read from the environment (django-environ).

With no environment at all the portal runs on its embedded default: an SQLite file, Celery tasks
run eagerly in-process, console SMS and email. Production sets DEBUG=0 and the variables listed
in .env.example; `manage.py check --deploy` is then clean.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# ---- Core -------------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=True)
if DEBUG:
    SECRET_KEY = env("SECRET_KEY", default="django-insecure-local-only-do-not-deploy")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
else:
    SECRET_KEY = env("SECRET_KEY", default="")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("Set SECRET_KEY to a random value of 50 characters or more.")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("Set ALLOWED_HOSTS to the host names the portal answers on.")
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "modeltranslation",  # before django.contrib.admin, as django-modeltranslation requires
    "portal.admin_apps.PortalAdminConfig",  # Django's admin with the portal's own site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from here, not a CDN: works offline
    "django_celery_beat",
    "phonenumber_field",
    "axes",
    "portal",
    "messaging",
    "supports",
    "surveys",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.middleware.SessionPolicyMiddleware",
    "portal.middleware.SchoolTimezoneMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
AUTH_USER_MODEL = "portal.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# ---- Database ---------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'portal.sqlite3'}")
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# ---- Redis: Celery broker and cache -----------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_DB_REUSE_MAX = 200  # tasks a worker process runs on one database connection
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "portal.tasks.roster_import_task": {"queue": "roster"},
    "portal.tasks.sign_in_code_send": {"queue": "sms_urgent"},  # ahead of announcements
    "messaging.tasks.message_translate_task": {"queue": "translation"},
    "messaging.tasks.preview_translate_task": {"queue": "translation"},
    "supports.tasks.translation_suggest_task": {"queue": "translation"},
    "surveys.results_tasks.survey_answers_translate": {"queue": "translation"},
    "messaging.tasks.inbound_sms_route_task": {"queue": "sms_urgent"},
    "surveys.tasks.survey_translate_and_dispatch_task": {"queue": "translation"},
    # messaging.tasks.delivery_send_task goes to sms, sms_urgent or email, chosen per delivery
}
# A message written while Redis is down must not hang the page: the sweeper hands it over later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {  # the database scheduler adds these at start; edit others in the admin
    "broadcasts-send-due": {"task": "messaging.tasks.broadcasts_send_due", "schedule": 60.0},
    "check-ins-run-due": {"task": "messaging.tasks.check_ins_run_due", "schedule": 900.0},
    "threads-overdue-check": {"task": "messaging.tasks.threads_overdue_check", "schedule": 900.0},
    "deliveries-sweep": {"task": "messaging.tasks.deliveries_sweep_task", "schedule": 60.0},
    "help-requests-follow-up": {
        "task": "supports.followup_tasks.help_requests_follow_up",
        "schedule": 900.0,
    },
    "survey-reminders-send": {"task": "surveys.tasks.survey_reminders_send", "schedule": 900.0},
    "surveys-close-due": {"task": "surveys.tasks.surveys_close_due", "schedule": 300.0},
}
CELERY_TIMEZONE = "UTC"
BROKER_CHECK_TIMEOUT_SECONDS = 2  # how long /readyz waits for the broker

if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# ---- Sign-in and passwords --------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out sign-in
    "portal.auth_backends.EmailBackend",  # staff: email and password
    "django.contrib.auth.backends.ModelBackend",  # the Django admin's own accounts by username
]
LOGIN_URL = "sign_in"
LOGIN_URL_PATH = "/sign-in/"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "front_page"
STAFF_SESSION_IDLE_SECONDS = 30 * 60
STAFF_SESSION_MAX_SECONDS = 12 * 60 * 60
FAMILY_SESSION_SECONDS = 30 * 24 * 60 * 60  # a family's own phone
SESSION_COOKIE_AGE = STAFF_SESSION_IDLE_SECONDS  # until a sign-in says otherwise
# django-axes: five wrong passwords for one account from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "portal/sign_in_locked.html"

# ---- Languages and time -----------------------------------------------------------------------
LANGUAGE_CODE = "en"
# Languages of the interface (gettext catalogs in locale/).
LANGUAGES = [
    ("en", _("English")),
    ("es", _("Spanish")),
    ("zh-hans", _("Simplified Chinese")),
    ("vi", _("Vietnamese")),
    ("ar", _("Arabic")),
]
# Languages a family may choose as its home language: messages and support texts reach them in it.
# BCP 47 codes, compared case-insensitively (zh-Hans is stored as zh-hans, as Django spells it).
FAMILY_LANGUAGES = [
    *LANGUAGES,
    ("so", _("Somali")),
]
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_LANGUAGES = tuple(code for code, _name in FAMILY_LANGUAGES)
MODELTRANSLATION_TRANSLATION_FILES = (
    "messaging.translated_fields",
    "supports.translated_fields",
    "surveys.translated_fields",
)
MODELTRANSLATION_FALLBACK_LANGUAGES = ()  # a missing translation is missing, never English
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

# ---- Phones -----------------------------------------------------------------------------------
PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_REGION = env("PHONE_DEFAULT_REGION", default="US")

# ---- Static files -----------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
WHITENOISE_USE_FINDERS = DEBUG  # locally, serve straight from the apps; in production, collected
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# ---- API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # A token (`manage.py api_token EMAIL`, for district dashboards) or the portal's own session.
    # Token first, so that a request with neither is told 401 and how to authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["portal.api_permissions.IsPortalUser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # Counted in the cache (Redis in production, shared by every web process). DRF checks them
    # after authentication and permission, so "anon" limits the public schema and docs; "user"
    # lets a dashboard page through 15,000 rows (300 pages) in a minute.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"anon": "30/minute", "user": "300/minute"},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "School–family portal API",
    "DESCRIPTION": (
        "Read the schools, sections, students and guardians you may see, and who you are; read "
        "and write the conversations you take part in; staff send and follow announcements and "
        "read message templates, families read the announcements they received and answer. "
        "Authenticate with the portal's session or with `Authorization: Token <key>` (staff ask "
        "an administrator for one). Every list shows only what your roles allow; any other id "
        "answers 404."
    ),
    "VERSION": "1",
    # The schema and its docs are public: they describe endpoints, never data, and every endpoint
    # they describe still asks for a sign-in, so a district's developers can read them before
    # they hold a token.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI and ReDoc from drf-spectacular-sidecar's static files: no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# ---- Email ------------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="portal@localhost")
# For an Anymail EMAIL_BACKEND (e.g. anymail.backends.sendgrid.EmailBackend): the provider's keys.
ANYMAIL = {
    "SENDGRID_API_KEY": env("SENDGRID_API_KEY", default=""),
    "MAILGUN_API_KEY": env("MAILGUN_API_KEY", default=""),
    "MAILGUN_SENDER_DOMAIN": env("MAILGUN_SENDER_DOMAIN", default=""),
}

# ---- SMS and translation (used by the messaging app) ------------------------------------------
SMS_BACKEND = env("SMS_BACKEND", default="console")
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
# With DEBUG (the demo), a fixed token lets the phone simulator sign its answers like Twilio.
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="demo-token-not-secret" if DEBUG else "")
TWILIO_MESSAGING_SERVICE_SID = env("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_API_BASE_URL = env("TWILIO_API_BASE_URL", default="https://api.twilio.com")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER", default="")  # used when no Messaging Service
TWILIO_TIMEOUT_SECONDS = env.float("TWILIO_TIMEOUT_SECONDS", default=10.0)
# Segments a second one sender may hand to Twilio: long code 1, toll-free 3, short code 100.
SMS_SENDER_KIND = env("SMS_SENDER_KIND", default="long_code")
# 0: no pace (the default of the console and memory backends).
SMS_SEGMENTS_PER_SECOND = env.float(
    "SMS_SEGMENTS_PER_SECOND",
    default=(
        {"long_code": 1.0, "toll_free": 3.0, "short_code": 100.0}.get(SMS_SENDER_KIND, 1.0)
        if SMS_BACKEND == "twilio"
        else 0.0
    ),
)
SMS_VALIDITY_SECONDS = env.int("SMS_VALIDITY_SECONDS", default=4 * 3600)  # then Twilio drops it
SIGN_IN_SMS_VALIDITY_SECONDS = 600  # a sign-in code is worthless after ten minutes
PHONE_SIMULATOR = env.bool("PHONE_SIMULATOR", default=False)  # also on wherever DEBUG is
PHONE_SIMULATOR_LOG = env("PHONE_SIMULATOR_LOG", default=str(BASE_DIR / "var" / "phone.jsonl"))
DELIVERY_LEASE_SECONDS = env.int("DELIVERY_LEASE_SECONDS", default=600)  # then the sweeper acts
# Then a family gets the original with a note.
TRANSLATION_WAIT_SECONDS = env.int("TRANSLATION_WAIT_SECONDS", default=600)
TRANSLATION_PROVIDER = env("TRANSLATION_PROVIDER", default="none")
LIBRETRANSLATE_URL = env("LIBRETRANSLATE_URL", default="http://127.0.0.1:5000")
LIBRETRANSLATE_API_KEY = env("LIBRETRANSLATE_API_KEY", default="")
DEEPL_AUTH_KEY = env("DEEPL_AUTH_KEY", default="")
DEEPL_SERVER_URL = env("DEEPL_SERVER_URL", default="")  # empty: chosen by the key (":fx" is Free)
BROADCASTS_PER_STAFF_PER_DAY = env.int("BROADCASTS_PER_STAFF_PER_DAY", default=10)
# Days after a help request is closed that the family is asked by text whether it got the help.
HELP_FOLLOW_UP_DAYS = env.int("HELP_FOLLOW_UP_DAYS", default=3)

# ---- Roster import ----------------------------------------------------------------------------
ROSTER_UPLOAD_MAX_BYTES = env.int("ROSTER_UPLOAD_MAX_BYTES", default=50 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# ---- Security (production) --------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx and forms read it from the page, never from JavaScript storage
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PUBLIC_BASE_URL])

# ---- Logging: no phone number or message body is ever logged ----------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {  # Django's own, for runserver's request lines
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    # A survey link's token opens a family's survey: the loggers that write request paths
    # ("Not Found: /s/<token>/", runserver's request lines) write `/s/…` instead.
    "filters": {"hide_survey_tokens": {"()": "surveys.log_filters.HideSurveyTokens"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["hide_survey_tokens"],
        },
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},  # a line for every sign-in otherwise
        "deepl": {"level": "WARNING"},  # at DEBUG it would log the texts families wrote
        "twilio": {"level": "WARNING"},  # at INFO the SDK logs the numbers it texts
        "django.request": {"filters": ["hide_survey_tokens"]},
        "django.security.csrf": {"filters": ["hide_survey_tokens"]},
        "django.server": {
            "handlers": ["django.server"],
            "filters": ["hide_survey_tokens"],
            "level": "INFO",
            "propagate": False,
        },
    },
}
