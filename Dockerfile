# Production image of the school–family portal. By default it serves the web app with gunicorn;
# docker-compose.yml runs the same image as the Celery worker, Celery beat and the one-shot migrate.
# Configuration comes from the environment at run time (.env.example lists every variable).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# msgfmt, to compile the interface's gettext catalogs below.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies in a layer of their own, rebuilt only when pyproject.toml changes (no dev extras).
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself, installed in place: settings find templates/, locale/ and the static root
# beside the packages (BASE_DIR), so the code stays in /app rather than in site-packages.
COPY . .
RUN pip install --no-deps -e .

# Static files and catalogs are built into the image. The key and host exist for this step only:
# DEBUG=0 settings refuse to load without them, and nothing served ever sees them.
RUN export DEBUG=0 ALLOWED_HOSTS=build.invalid \
        SECRET_KEY=build-time-only-key-for-collectstatic-never-used-to-serve-a-request \
    && python manage.py collectstatic --no-input \
    && if [ -n "$(find . -path ./var -prune -o -name '*.po' -print -quit)" ]; then \
           python manage.py compilemessages --ignore 'var/*'; \
       fi

# Run as an unprivileged user that owns nothing but var/ (where an SQLite file would go).
RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin portal \
    && chown portal:portal /app/var
USER 10001:10001

ENV DEBUG=0 \
    WEB_CONCURRENCY=3
EXPOSE 8000

# /healthz answers only for an allowed host, so the probe names the first one (".a.org" -> "a.org").
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; host = os.environ.get('ALLOWED_HOSTS', '').split(',')[0].strip().lstrip('*.') or 'localhost'; u.urlopen(u.Request('http://127.0.0.1:8000/healthz', headers={'Host': host}), timeout=4)"]

# gunicorn takes its worker count from WEB_CONCURRENCY. No access log: query strings may carry
# phone numbers, and the portal logs none.
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", \
     "--timeout", "30", "--graceful-timeout", "30", \
     "--max-requests", "1000", "--max-requests-jitter", "100"]
