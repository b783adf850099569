"""A real Redis and a real Celery worker, each in its own process group, for tests that stop the
broker or kill the worker in the middle of a broadcast.

`RedisServer` runs `redis-server` on a spare port with no persistence, so stopping it loses what
it held, as a crashed broker does. `CeleryWorker` runs `celery -A portal worker` on the portal's
queues with the environment it is given; `kill` is a SIGKILL to its whole process group (the
main process and its prefork children), the way an out-of-memory killer or a lost machine ends it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")
QUEUES = "sms,sms_urgent,email,translation,default"


def spare_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _end_group(process: subprocess.Popen | None) -> None:
    """SIGKILL a process started with start_new_session=True and everything it forked."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@dataclass
class RedisServer:
    port: int
    folder: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_seconds: float = 10) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self.answers():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        """Ends the server at once; what it held is gone (no persistence)."""
        _end_group(self.process)
        self.process = None

    def answers(self) -> bool:
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def waiting(self, queues: str = QUEUES) -> int:
        """Tasks waiting in the broker's queues (not those a worker has already taken)."""
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        try:
            return sum(client.llen(name) for name in queues.split(","))
        finally:
            client.close()


@dataclass
class CeleryWorker:
    name: str
    env: dict[str, str]
    log_path: Path
    concurrency: int = 2
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def hostname(self) -> str:
        return f"{self.name}@faults"

    def start(self, app, timeout_seconds: float = 45) -> None:
        """Starts the worker and waits until it answers a ping through the broker, that is
        until it consumes; `app` is the Celery app pointed at the same broker."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                str(CELERY),
                "-A",
                "portal",
                "worker",
                "-Q",
                QUEUES,
                "--concurrency",
                str(self.concurrency),
                "--pool",
                "prefork",
                "-l",
                "warning",
                "-n",
                self.hostname,
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited at start:\n{self.log_tail()}")
            with contextlib.suppress(Exception):  # the broker may still be coming up
                if app.control.ping(destination=[self.hostname], timeout=0.5):
                    return
        raise RuntimeError(f"the worker did not answer a ping in time:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes: nothing is acknowledged or cleaned up."""
        _end_group(self.process)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
