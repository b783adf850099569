"""The production stack (docker-compose.yml, Dockerfile), .env.example and CI script hold together.

These read the files only: no Django, no database, no Docker engine. Compose's variable
substitution is mimicked just enough to see what each container would receive.
"""

import re
import shlex
import stat
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
APP_SERVICES = ("web", "worker", "beat")
REQUIRED_FROM_USER = ("SECRET_KEY", "ALLOWED_HOSTS", "PUBLIC_BASE_URL")
USER_ENVIRONMENT = {
    "SECRET_KEY": "k" * 64,
    "ALLOWED_HOSTS": "portal.example.org",
    "PUBLIC_BASE_URL": "https://portal.example.org",
}
WORKER_QUEUES = {"default", "sms", "email", "translation", "roster"}

_SUBSTITUTION = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|(?P<named>\w+))"
)


class MissingVariable(Exception):
    """Compose would refuse to start: a `${VAR:?message}` variable is unset or empty."""


def _substitute(text: str, environment: dict[str, str]) -> str:
    def replace(match: re.Match) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["named"]
        op, arg = match["op"], match["arg"]
        value = environment.get(name)
        unusable = value is None or (value == "" and op is not None and op.startswith(":"))
        if op and op.endswith("?") and unusable:
            raise MissingVariable(f"{name}: {arg}")
        if op and op.endswith("-") and unusable:
            return arg
        return value or ""

    return _SUBSTITUTION.sub(replace, text)


def _interpolate(node, environment: dict[str, str]):
    if isinstance(node, dict):
        return {key: _interpolate(value, environment) for key, value in node.items()}
    if isinstance(node, list):
        return [_interpolate(value, environment) for value in node]
    if isinstance(node, str):
        return _substitute(node, environment)
    return node


def _compose_raw() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _compose(environment: dict[str, str] | None = None) -> dict:
    """docker-compose.yml as compose would see it in a shell with `environment`."""
    return _interpolate(_compose_raw(), USER_ENVIRONMENT if environment is None else environment)


def _container_environment(service: dict) -> dict[str, str]:
    declared = service.get("environment") or {}
    if isinstance(declared, list):
        declared = dict(entry.split("=", 1) for entry in declared)
    return {name: str(value) for name, value in declared.items()}


def _command(service: dict) -> list[str]:
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def _dependencies(service: dict) -> dict[str, str]:
    """Service name -> the condition it is waited for with."""
    depends_on = service.get("depends_on") or {}
    if isinstance(depends_on, list):
        return dict.fromkeys(depends_on, "service_started")
    return {
        name: (spec or {}).get("condition", "service_started") for name, spec in depends_on.items()
    }


def _builds_from_local_dockerfile(service: dict) -> bool:
    build = service.get("build")
    if isinstance(build, str):
        context, dockerfile = build, "Dockerfile"
    elif isinstance(build, dict):
        context, dockerfile = build.get("context", "."), build.get("dockerfile", "Dockerfile")
    else:
        return False
    return (ROOT / context).resolve() == ROOT and (ROOT / context / dockerfile).is_file()


def _variables_read_by_settings() -> set[str]:
    settings = (ROOT / "portal" / "settings.py").read_text()
    return set(re.findall(r"\benv(?:\.\w+)?\(\s*[\"'](\w+)[\"']", settings))


def _env_example() -> list[tuple[str, str, str]]:
    """(name, value, comment line above it) for each variable of .env.example."""
    entries, previous = [], ""
    for line in (ROOT / ".env.example").read_text().splitlines():
        stripped = line.strip()
        match = re.fullmatch(r"(?:export\s+)?(\w+)=(.*)", stripped)
        if match:
            entries.append((match[1], match[2], previous))
        previous = stripped
    return entries


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, with continuation lines joined and comments dropped."""
    instructions, pending = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.strip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, arguments = pending.strip().partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def _runs_migrations(service: dict) -> bool:
    command = " ".join(_command(service))
    return bool(re.search(r"manage\.py migrate\b", command))


# ---- docker-compose.yml -------------------------------------------------------------------------


def test_compose_defines_the_whole_stack():
    services = _compose()["services"]

    assert {"db", "redis", "libretranslate", "web", "worker", "beat"} <= services.keys()
    assert "version" not in _compose_raw(), "the Compose spec has no version key"


@pytest.mark.parametrize("service_name", APP_SERVICES)
def test_portal_services_run_the_local_image_wired_to_the_stack(service_name):
    compose = _compose()
    service = compose["services"][service_name]
    environment = _container_environment(service)
    db_environment = _container_environment(compose["services"]["db"])

    assert _builds_from_local_dockerfile(service)
    database = urlsplit(environment["DATABASE_URL"])
    assert database.scheme in {"postgres", "postgresql", "pgsql"}
    assert database.hostname == "db"
    assert database.username == db_environment["POSTGRES_USER"]
    assert database.password == db_environment["POSTGRES_PASSWORD"]
    assert database.path.lstrip("/") == db_environment["POSTGRES_DB"]
    assert urlsplit(environment["REDIS_URL"]).hostname == "redis"
    translator = urlsplit(environment["LIBRETRANSLATE_URL"])
    assert (translator.hostname, translator.port) == ("libretranslate", 5000)
    assert environment["DEBUG"].lower() in {"0", "false", "off", "no"}
    for name in REQUIRED_FROM_USER:
        assert environment[name] == USER_ENVIRONMENT[name]


@pytest.mark.parametrize("name", REQUIRED_FROM_USER)
@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
def test_compose_refuses_to_start_without_the_deployment_secrets(name, value):
    environment = {key: val for key, val in USER_ENVIRONMENT.items() if key != name}
    if value is not None:
        environment[name] = value

    with pytest.raises(MissingVariable, match=name):
        _compose(environment)


def test_worker_consumes_every_queue():
    command = _command(_compose()["services"]["worker"])

    assert command[:1] == ["celery"]
    assert "worker" in command
    queues = set()
    for position, part in enumerate(command):
        if part in {"-Q", "--queues"}:
            queues |= set(command[position + 1].split(","))
        elif part.startswith("--queues="):
            queues |= set(part.removeprefix("--queues=").split(","))
    assert queues >= WORKER_QUEUES


def test_beat_runs_the_celery_scheduler():
    command = _command(_compose()["services"]["beat"])

    assert command[:1] == ["celery"]
    assert "beat" in command


def test_web_starts_once_the_database_and_redis_are_healthy_and_migrated():
    services = _compose()["services"]
    web = services["web"]
    waits_for = _dependencies(web)

    assert waits_for.get("db") == "service_healthy"
    assert waits_for.get("redis") == "service_healthy"
    for name in ("db", "redis"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    migrators = [
        name
        for name, condition in waits_for.items()
        if condition == "service_completed_successfully" and _runs_migrations(services[name])
    ]
    assert migrators or _runs_migrations(web), "nothing runs `manage.py migrate` before web"
    assert "8000" in " ".join(str(port) for port in web.get("ports", []))


def test_compose_passes_the_portal_only_variables_its_settings_read():
    settings_variables = _variables_read_by_settings()
    services = _compose()["services"]
    portal_services = [
        name for name, service in services.items() if _builds_from_local_dockerfile(service)
    ]

    assert set(APP_SERVICES) <= set(portal_services)
    for name in portal_services:
        passed = set(_container_environment(services[name]))
        assert passed <= settings_variables, f"{name} gets {passed - settings_variables}"


# ---- .env.example -------------------------------------------------------------------------------


def test_env_example_documents_exactly_the_variables_settings_read():
    entries = _env_example()
    names = [name for name, _value, _comment in entries]

    assert len(names) == len(set(names)), "a variable is listed twice"
    assert set(names) == _variables_read_by_settings()
    undocumented = [name for name, _value, comment in entries if not comment.startswith("#")]
    assert not undocumented, f"no one-line comment above {undocumented}"


def test_env_example_holds_no_usable_secret():
    values = {name: value for name, value, _comment in _env_example()}

    assert values["SECRET_KEY"] == ""
    for name in ("TWILIO_AUTH_TOKEN", "DEEPL_AUTH_KEY"):
        assert values[name] == ""


# ---- Dockerfile ---------------------------------------------------------------------------------


def test_image_serves_gunicorn_as_an_unprivileged_user():
    instructions = _dockerfile_instructions()
    by_keyword = {}
    for keyword, arguments in instructions:
        by_keyword.setdefault(keyword, []).append(arguments)

    assert instructions[0][0] == "FROM" and instructions[0][1].startswith("python:3.11-slim")
    entry = " ".join(by_keyword.get("ENTRYPOINT", [])[-1:] + by_keyword.get("CMD", [])[-1:])
    assert "gunicorn" in entry and "portal.wsgi" in entry
    user = by_keyword["USER"][-1].split(":")[0]
    assert user not in {"root", "0"}
    assert "/healthz" in by_keyword["HEALTHCHECK"][-1]
    assert any(re.search(r"\bDEBUG=0\b", env) for env in by_keyword["ENV"])


def test_image_build_leaves_out_local_state_and_secrets():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}

    assert {".venv", "var", ".git", ".env"} <= ignored


# ---- .ci/run ------------------------------------------------------------------------------------


def test_ci_script_runs_the_test_suite_and_fails_on_errors():
    script = ROOT / ".ci" / "run"
    lines = [line.strip() for line in script.read_text().splitlines()]
    code = [line for line in lines if line and not line.startswith("#")]

    assert script.stat().st_mode & stat.S_IXUSR, ".ci/run is not executable"
    assert lines[0] in {"#!/usr/bin/env bash", "#!/bin/bash"}
    assert "set -euo pipefail" in code
    assert any(re.search(r"\bmake\b.*\btest\b", line) for line in code)


def test_settings_variables_are_found_where_these_tests_look():
    # Guards the pattern the tests above rely on: settings read the environment with env(...).
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"} <= _variables_read_by_settings()
