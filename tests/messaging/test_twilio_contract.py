"""The portal's texts against Twilio's own published API description: an OpenAPI mock server
(Stoplight Prism, pinned in twilio_contract/package.json) serves ../shared/testdata/twilio's
description on loopback and refuses any request that does not match it (401 without
credentials, 422 for a malformed message). A broadcast goes through it with the twilio SDK
exactly as it would to Twilio.

Needs node and npm (CI has them); it runs under REQUIRE_SERVICES=1 and skips elsewhere."""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from messaging.broadcasts import broadcast_create
from messaging.models import Delivery
from tests.conftest import REQUIRE_SERVICES, SHARED_TESTDATA

CONTRACT = Path(__file__).parent / "twilio_contract"
SPEC = SHARED_TESTDATA / "twilio" / "twilio_api_v2010.json"
ACCOUNT = "AC" + "1" * 32


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def twilio_described(tmp_path_factory):
    """Prism serving Twilio's API description; yields its base address."""
    if not REQUIRE_SERVICES and os.environ.get("TWILIO_CONTRACT") != "1":
        pytest.skip("runs Prism from the npm registry: set REQUIRE_SERVICES=1 (CI) to run it")
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing or not SPEC.exists():
        reason = f"needs node and npm and {SPEC}; missing: {missing or SPEC}"
        pytest.fail(reason) if REQUIRE_SERVICES else pytest.skip(reason)
    folder = tmp_path_factory.mktemp("prism")
    for name in ("package.json", "package-lock.json"):
        shutil.copy(CONTRACT / name, folder / name)
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"],
        cwd=folder,
        check=True,
        capture_output=True,
        timeout=300,
    )
    port = _free_port()
    log = (folder / "prism.log").open("w")
    command = [str(folder / "node_modules/.bin/prism"), "mock", "-h", "127.0.0.1", "-p"]
    prism = subprocess.Popen(
        [*command, str(port), str(SPEC)],
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/2010-04-01/Accounts.json", timeout=1)
            break
        except requests.ConnectionError:
            assert prism.poll() is None, (folder / "prism.log").read_text()[-2000:]
            time.sleep(0.5)
    else:
        prism.kill()
        pytest.fail("Prism did not start within two minutes")
    yield url
    prism.terminate()
    prism.wait(timeout=10)
    log.close()


@pytest.fixture
def twilio_settings(settings, twilio_described):
    settings.SMS_BACKEND = "twilio"
    settings.SMS_SEGMENTS_PER_SECOND = 0
    settings.TWILIO_ACCOUNT_SID = ACCOUNT
    settings.TWILIO_AUTH_TOKEN = "contract-token"
    settings.TWILIO_API_BASE_URL = twilio_described
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_FROM_NUMBER = "+16175550100"
    return settings


@pytest.mark.django_db
def test_a_broadcast_goes_out_as_twilios_api_description_says(
    always_open, twilio_settings, celery_eager, django_capture_on_commit_callbacks
):
    world = always_open
    with django_capture_on_commit_callbacks(execute=True):
        broadcast = broadcast_create(
            actor=world.users["school_admin"],
            school=world.north,
            subject="Picture day",
            body="Picture day is Friday. Wear your best smile! ¿Preguntas? Call us.",
            kind="school",
        )
    texts = Delivery.objects.filter(message__thread=broadcast.thread, channel="sms")
    assert texts.count() == 2
    assert {(text.status, text.provider_id[:2], text.error_code) for text in texts} == {
        ("sent", "SM", "")
    }
