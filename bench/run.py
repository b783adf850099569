"""Run the portal's benchmarks against PostgreSQL: `make bench`, or `bench/run.py [name ...]`.

Every module `bench/bench_<name>.py` has a `run()` that prints its own figures as `name: value`
lines. With no argument all of them run, in file-name order; `bench/run.py roster_import` runs
only `bench_roster_import.py`. The database named by DATABASE_URL (which must be PostgreSQL) is
created when missing and migrated. A benchmark that raises has its traceback printed; the others
still run, and the exit status is 1.
"""

import importlib
import os
import sys
import traceback
from pathlib import Path
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "bench"
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}  # as django-environ reads them
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/portal_bench"


def database_config_or_exit() -> dict:
    """The parsed DATABASE_URL; exit 2 unless it names a PostgreSQL database."""
    import environ

    url = os.environ.get("DATABASE_URL", "")
    problem = None
    if urlsplit(url).scheme not in POSTGRES_SCHEMES:
        problem = f"benchmarks need PostgreSQL, but DATABASE_URL is {url or 'not set'}"
    else:
        try:
            return environ.Env.db_url_config(url)
        except ValueError as error:
            problem = f"DATABASE_URL cannot be read: {error}"
    print(
        f"bench/run.py: {problem}.\n"
        f"Set DATABASE_URL={DEFAULT_DATABASE_URL} (`make bench` sets it from BENCH_DATABASE_URL).",
        file=sys.stderr,
    )
    sys.exit(2)


def database_create_if_missing(config: dict) -> None:
    """CREATE DATABASE from the `postgres` maintenance database when it does not exist yet."""
    import psycopg2
    from psycopg2 import sql

    connection = psycopg2.connect(
        dbname="postgres",
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
    )
    try:
        connection.autocommit = True  # CREATE DATABASE refuses to run inside a transaction
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
                print(f"created database {config['NAME']}", file=sys.stderr)
    finally:
        connection.close()


def benchmark_names() -> list[str]:
    return sorted(path.stem.removeprefix("bench_") for path in BENCH_DIR.glob("bench_*.py"))


def main(argv: list[str]) -> int:
    available = benchmark_names()
    wanted = [name.removeprefix("bench_") for name in argv] or available
    unknown = [name for name in wanted if name not in available]
    if unknown:
        print(
            f"bench/run.py: no benchmark named {', '.join(unknown)} "
            f"(available: {', '.join(available)})",
            file=sys.stderr,
        )
        return 2

    config = database_config_or_exit()
    database_create_if_missing(config)

    sys.path.insert(0, str(REPO_ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    # Production runs with DEBUG off; with it on, every query would also be logged in memory.
    # Benchmarks that count queries do so themselves (CaptureQueriesContext).
    settings.DEBUG = False
    call_command("migrate", interactive=False, verbosity=0)

    failed = []
    for name in wanted:
        try:
            module = importlib.import_module(f"bench.bench_{name}")
            module.run()
        except Exception:
            traceback.print_exc()
            failed.append(name)
        sys.stdout.flush()
    if failed:
        print(f"bench/run.py: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
