"""Liveness and readiness: is the process up, and can it reach its database and broker?"""

from django.conf import settings
from django.db import connection
from kombu import Connection


def database_is_reachable() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def broker_is_reachable() -> bool:
    timeout = settings.BROKER_CHECK_TIMEOUT_SECONDS
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=timeout) as broker:
            broker.ensure_connection(max_retries=1, timeout=timeout)
        return True
    except Exception:
        return False
