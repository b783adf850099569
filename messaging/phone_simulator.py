"""The demo's phone simulator: a log of the texts the console backend "sent" and the answers
typed on the simulator page, read back per phone. Only where DEBUG or PHONE_SIMULATOR is on;
the log is a file (PHONE_SIMULATOR_LOG) so the web process and a worker share it."""

from __future__ import annotations

import datetime
import json
import threading
import uuid
from collections import defaultdict
from pathlib import Path

from django.conf import settings

_lock = threading.Lock()


def is_enabled() -> bool:
    return bool(settings.DEBUG or settings.PHONE_SIMULATOR)


def _log() -> Path:
    return Path(settings.PHONE_SIMULATOR_LOG)


def _append(entry: dict) -> None:
    path = _log()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    with _lock, path.open("a", encoding="utf-8") as log:
        log.write(line)


def record_text(*, to: str, body: str, sender: str) -> None:
    """A text the console backend "sent" to a family's phone."""
    if is_enabled():
        _append(
            {
                "at": datetime.datetime.now(datetime.UTC).isoformat(),
                "phone": to,
                "portal": sender or portal_default_number(),
                "body": body,
                "from_family": False,
            }
        )


def record_answer(*, from_phone: str, body: str) -> None:
    """An answer typed on the simulator page as that family."""
    _append(
        {
            "at": datetime.datetime.now(datetime.UTC).isoformat(),
            "phone": from_phone,
            "portal": portal_number(from_phone),
            "body": body,
            "from_family": True,
        }
    )


def conversations() -> dict[str, list[dict]]:
    """Every phone the simulator has seen, most recent first, with its texts in order."""
    path = _log()
    if not path.exists():
        return {}
    by_phone: dict[str, list[dict]] = defaultdict(list)
    with path.open(encoding="utf-8") as log:
        for line in log:
            if line.strip():
                entry = json.loads(line)
                by_phone[entry["phone"]].append(entry)
    return dict(sorted(by_phone.items(), key=lambda item: item[1][-1]["at"], reverse=True))


def portal_default_number() -> str:
    return settings.TWILIO_FROM_NUMBER or "+15005550006"


def portal_number(phone: str) -> str:
    """The portal number a family's texts came from, which its answer goes back to."""
    texts = conversations().get(phone, [])
    return texts[-1]["portal"] if texts else portal_default_number()


def new_sid() -> str:
    return "SM" + uuid.uuid4().hex
