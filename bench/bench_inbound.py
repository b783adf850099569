"""Texts from families arriving at the inbound webhook (`POST /sms/twilio/inbound/`) of the portal
served by gunicorn on PostgreSQL, against a bare Django view on the same server
(bench/inbound_urls.py: it reads the form and answers empty TwiML; nothing else).

A load generator on loopback keeps CONCURRENCY keep-alive connections busy, each sending the next
of a list of requests made beforehand: a form as Twilio posts it, a new MessageSid each, signed
for the exact URL (so signing costs the generator nothing while it measures). Each URL gets
WARM_UP_SECONDS first, not counted, then MEASURE_SECONDS. The routing task each text queues
goes to Redis database REDIS_DB with no worker to take it; its queue is emptied afterwards.
Figures:

    inbound.req_per_s            webhook requests answered 2xx a second
    inbound.bare_view_req_per_s  bare view requests answered 2xx a second
    inbound.ratio_to_bare_view   req_per_s / bare_view_req_per_s
    inbound.errors               webhook requests answered otherwise, or not at all

A `inbound.warning:` line follows when the texts stored are not the ones the webhook accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import redis
from django.conf import settings
from django.db import connection
from twilio.request_validator import RequestValidator

from messaging.models import InboundSms

# gunicorn: one process a core with 4 threads each (gthread), so a request waiting on Postgres or
# Redis leaves the core to another, and connections stay open as Twilio's do (sync workers close
# each one). Not yet measured against 4 sync workers.
GUNICORN_WORKERS = 2
GUNICORN_THREADS = 4
CONCURRENCY = 8  # connections the load generator keeps busy
WARM_UP_SECONDS = 2
MEASURE_SECONDS = 12
REQUESTS_MADE = 60_000  # per URL; more than either can answer in WARM_UP + MEASURE seconds
REDIS_DB = 15  # kept apart from the tests' and the demo's database 0
AUTH_TOKEN = "bench-inbound-token"  # noqa: S105 (signs this benchmark's requests only)
SECRET_KEY = "bench-only-" + "x" * 50
WEBHOOK_PATH = "/sms/twilio/inbound/"
BARE_PATH = "/bench/bare/"
ROUTING_QUEUE = "sms_urgent"  # messaging.tasks.inbound_sms_route_task's


@dataclass
class LoadResult:
    ok: int = 0  # 2xx answers while measuring
    errors: int = 0  # other answers, or none, while measuring
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _requests_signed(port: int, path: str, count: int, first: int) -> list[bytes]:
    """`count` whole HTTP requests for `path`, as Twilio posts a family's text."""
    url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    validator = RequestValidator(AUTH_TOKEN)
    made = []
    for number in range(first, first + count):
        sid = f"SM{number:032x}"
        form = {
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": "AC" + "0" * 32,
            "From": f"+1617200{number % 10_000:04d}",
            "To": "+16175550100",
            "Body": "Thank you, we will be there",
            "NumSegments": "1",
            "NumMedia": "0",
            "ApiVersion": "2010-04-01",
        }
        body = urlencode(form).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"X-Twilio-Signature: {validator.compute_signature(url, form)}\r\n"
            "User-Agent: TwilioProxy/1.1\r\n\r\n"
        )
        made.append(head.encode() + body)
    return made


async def _answer_status(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Reads one response; returns its status and whether the server keeps the connection."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionResetError("closed before answering")
    status = int(status_line.split()[1])
    length, keeps = 0, not status_line.startswith(b"HTTP/1.0")
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection":
            keeps = value != "close"
    await reader.readexactly(length)
    return status, keeps


async def _load(port: int, made: list[bytes]) -> tuple[LoadResult, int]:
    """Sends `made` in order over CONCURRENCY connections, WARM_UP_SECONDS then
    MEASURE_SECONDS; returns what the measured part got, and how many 2xx in all."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    measure_from = started + WARM_UP_SECONDS
    stop_at = measure_from + MEASURE_SECONDS
    result = LoadResult(seconds=MEASURE_SECONDS)
    ok_in_all = 0
    queue = iter(made)

    async def connection_loop() -> None:
        nonlocal ok_in_all
        reader = writer = None
        while (now := loop.time()) < stop_at:
            request = next(queue, None)
            if request is None:
                raise RuntimeError("REQUESTS_MADE ran out: make more")
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request)
                status, keeps = await _answer_status(reader)
            except (OSError, ValueError, asyncio.IncompleteReadError):
                status, keeps = 0, False
            is_ok = 200 <= status < 300
            ok_in_all += is_ok
            if now >= measure_from and loop.time() <= stop_at:
                result.ok += is_ok
                result.errors += not is_ok
            if not keeps and writer is not None:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    await asyncio.gather(*(connection_loop() for _ in range(CONCURRENCY)))
    return result, ok_in_all


def _gunicorn_environment(port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings_bench",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DEBUG": "0",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "SECURE_SSL_REDIRECT": "0",
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "LOG_LEVEL": "WARNING",
    }


@contextlib.contextmanager
def _gunicorn(port: int, log_path: Path):
    """gunicorn serving the portal with the bare view beside it, ready when this enters.
    --preload: Django loads once, before the fork, so no worker is still starting when measured."""
    command = [sys.executable, "-m", "gunicorn", "portal.wsgi:application",
               "--bind", f"127.0.0.1:{port}", "--workers", str(GUNICORN_WORKERS),
               "--worker-class", "gthread", "--threads", str(GUNICORN_THREADS),
               "--keep-alive", "30", "--log-level", "warning",
               "--preload"]  # fmt: skip
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            env=_gunicorn_environment(port),
            cwd=settings.BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        ping = _requests_signed(port, BARE_PATH, 1, first=10**9)[0]
        while not _answers(port, ping):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _answers(port: int, request: bytes) -> bool:
    """Whether the server answers `request` 200 within a second."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as client:
            client.sendall(request)
            return client.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def _routing_queue_purge() -> None:
    client = redis.Redis.from_url(f"redis://127.0.0.1:6379/{REDIS_DB}")
    try:
        client.delete(ROUTING_QUEUE)
    finally:
        client.close()


def _texts_delete() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {InboundSms._meta.db_table} CASCADE")


def run() -> None:
    port = _free_port()
    _texts_delete()
    _routing_queue_purge()
    webhook_requests = _requests_signed(port, WEBHOOK_PATH, REQUESTS_MADE, first=0)
    bare_requests = _requests_signed(port, BARE_PATH, REQUESTS_MADE, first=REQUESTS_MADE)
    with tempfile.TemporaryDirectory(prefix="inbound-bench-") as temp:
        with _gunicorn(port, Path(temp) / "gunicorn.log"):
            webhook, webhook_ok = asyncio.run(_load(port, webhook_requests))
            bare, _bare_ok = asyncio.run(_load(port, bare_requests))
        stored = InboundSms.objects.count()
    _texts_delete()
    _routing_queue_purge()

    print(f"inbound.req_per_s: {webhook.per_second:.1f}")
    print(f"inbound.bare_view_req_per_s: {bare.per_second:.1f}")
    print(f"inbound.ratio_to_bare_view: {webhook.per_second / bare.per_second:.3f}")
    print(f"inbound.errors: {webhook.errors}")
    if stored != webhook_ok:
        print(f"inbound.warning: {webhook_ok} texts accepted but {stored} stored")
    if bare.errors:
        print(f"inbound.warning: the bare view failed {bare.errors} requests")
