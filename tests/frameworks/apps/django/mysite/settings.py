# Django defaults, but for the database: sessions in files (SESSION_FILE_PATH defaults to
# the system's temporary directory, so TMPDIR), and no database at all (a db.sqlite3 in
# the app is data, which the build log points out).
SECRET_KEY = "framework-suite-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.sessions"]
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware"]
ROOT_URLCONF = "mysite.urls"
SESSION_ENGINE = "django.contrib.sessions.backends.file"
DATABASES = {}
USE_TZ = True
