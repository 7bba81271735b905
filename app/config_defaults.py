"""Default settings; override in instance/config.py or with MATRICA_<NAME> variables."""
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent

SQLALCHEMY_DATABASE_URI = None  # default: sqlite in the instance folder; DATABASE_URL overrides
SQLALCHEMY_ENGINE_OPTIONS: dict = {}
# A pooled connection to a database server is checked (one round trip) before use when it has
# been idle longer than this many seconds: one that was in use a moment ago is not (as
# HikariCP's "alive bypass window"). A connection found dead is replaced before the request
# uses it. An embedded SQLite file is never checked.
DATABASE_PING_AFTER_IDLE = 1.0
SECRET_KEY = None

# Flask-Babel looks in app/translations unless given an absolute path.
BABEL_TRANSLATION_DIRECTORIES = str(_ROOT / "translations")
BABEL_DEFAULT_LOCALE = "en"
# Times are stored in UTC and shown in the users' time zone: Central European Time in every
# country of the region (MATRICA_BABEL_DEFAULT_TIMEZONE names another, e.g. Europe/Sofia).
BABEL_DEFAULT_TIMEZONE = "Europe/Belgrade"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = True
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SECURE = True
REMEMBER_COOKIE_SAMESITE = "Lax"
PERMANENT_SESSION_LIFETIME = 8 * 3600
# A signed-in session ends at sign-out (on every node: sessions are rows in the database), when
# the password changes, after SESSION_LIFETIME seconds however busy, and after
# SESSION_IDLE_TIMEOUT seconds without a request (OWASP ASVS 3.3).
SESSION_LIFETIME = 12 * 3600
SESSION_IDLE_TIMEOUT = 30 * 60
PREFERRED_URL_SCHEME = "https"

WTF_CSRF_TIME_LIMIT = 8 * 3600
WTF_CSRF_HEADERS = ["X-CSRFToken"]

# Login rate limiting: in memory by default; a Redis URI shares counters between nodes.
RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_LOGIN = "10 per minute;50 per hour"          # attempts per address
RATELIMIT_LOGIN_ACCOUNT = "5 per minute;20 per hour"   # attempts per address and account
# Failed attempts on one account from any address, after which each attempt on it waits
# LOGIN_SLOWDOWN_SECONDS before its answer (never refused: the right password still works).
LOGIN_SLOWDOWN_AFTER = "10 per 15 minutes"
LOGIN_SLOWDOWN_SECONDS = 1.0
# Behind a reverse proxy: how many proxies set X-Forwarded-For/-Proto/-Host/-Port/-Prefix
# (Werkzeug's ProxyFix). 0 trusts none of those headers.
PROXY_FIX = 0
RATELIMIT_HEADERS_ENABLED = False
RATELIMIT_STRATEGY = "moving-window"

PASSWORD_HASH_METHOD = "scrypt"
MAX_CONTENT_LENGTH = 12 * 1024 * 1024  # uploads: a questionnaire workbook is far smaller
INVITATION_MAX_AGE = 7 * 24 * 3600
PASSWORD_RESET_MAX_AGE = 2 * 3600

# Outgoing mail: links are sent by SMTP when MAIL_SERVER is set, otherwise logged
# and shown to the admin who asked for them.
MAIL_SERVER = None
MAIL_PORT = 587
MAIL_USE_TLS = True
MAIL_USERNAME = None
MAIL_PASSWORD = None
MAIL_SENDER = "matrica@localhost"

# Extra check at start: an unreachable database is one clear line and exit 1.
CHECK_DATABASE_ON_START = True

# Background jobs (Huey): a SQLite queue in the instance folder by default; a Redis URL
# (redis://host:6379/0) shares one queue between nodes. Consumers: `flask --app wsgi worker`.
HUEY_URL = None
HUEY_IMMEDIATE = False       # run tasks at once, in the caller (tests)
# Exports: up to EXPORT_AT_ONCE responses are written during the request and downloaded at
# once; more go to a worker with a progress page. Finished files are kept EXPORT_KEEP_HOURS,
# in the database, or in EXPORT_DIRECTORY when it is set (a directory all nodes share).
EXPORT_AT_ONCE = 200
EXPORT_KEEP_HOURS = 24
EXPORT_DIRECTORY = None
EXPORT_S3_URL = None        # s3://bucket/prefix: finished exports in an S3-compatible store (boto3)
EXPORT_S3_ENDPOINT = None   # the store's URL when it is not Amazon S3 (MinIO, Ceph, Garage…)

# Evidence documents, the answers to image, audio, video and file questions: at most
# EVIDENCE_MAX_BYTES each, with an extension EVIDENCE_TYPES allows for the question's type (and
# content that is what the extension says). Kept in the database by default, or in
# EVIDENCE_DIRECTORY (a directory all nodes share, never inside app/static), or in an
# S3-compatible store when EVIDENCE_S3_URL names a bucket (s3://bucket/prefix).
# MATRICA_EVIDENCE_TYPES__file="pdf docx" changes one list.
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
EVIDENCE_TYPES = {
    "image": "jpg jpeg png gif webp",
    "audio": "mp3 m4a ogg oga opus wav",
    "video": "mp4 m4v mov webm ogv",
    "file": "pdf doc docx odt rtf txt csv xls xlsx ods ppt pptx odp jpg jpeg png",
}
EVIDENCE_DIRECTORY = None
EVIDENCE_S3_URL = None
EVIDENCE_S3_ENDPOINT = None
