"""SMS segment counts, held to Twilio's own calculator.

`segments_reference/cases.json` holds what the npm package `sms-segments-calculator` (the version
pinned in `segments_reference/package.json`) says about each text in `texts.json`. To add a text:
add it to texts.json, then `cd tests/messaging/segments_reference && npm ci && node make_cases.mjs`
and delete node_modules/. With REQUIRE_SERVICES=1 and node on the machine, the last test runs the
calculator again and checks that cases.json is what it says.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from messaging.channels.segments import SmsSegments, sms_segments

REFERENCE = Path(__file__).parent / "segments_reference"
CASES = json.loads((REFERENCE / "cases.json").read_text(encoding="utf-8"))
TEXTS = json.loads((REFERENCE / "texts.json").read_text(encoding="utf-8"))
BITS_PER_UNIT = {"GSM-7": 7, "UCS-2": 16}

NOTICE = "School pictures are on Thursday. Please send your child in a collared shirt. " * 10


def plain(length: int) -> str:
    return NOTICE[:length]


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda case: case["name"])
def test_count_agrees_with_twilios_calculator(case):
    counted = sms_segments(case["text"])

    assert counted.count == case["segmentsCount"]
    assert counted.encoding == case["encodingName"]
    # The calculator's message size is the bits of text without joining headers.
    assert counted.units * BITS_PER_UNIT[counted.encoding] == case["messageSize"]
    if counted.encoding == "GSM-7":  # in UCS-2 it counts user-perceived characters instead
        assert counted.units == case["numberOfCharacters"]


def test_reference_cases_are_for_the_texts_in_texts_json():
    assert [(case["name"], case["text"]) for case in CASES["cases"]] == [
        (text["name"], text["text"]) for text in TEXTS
    ]
    pinned = json.loads((REFERENCE / "package.json").read_text())["dependencies"]
    assert CASES["calculator"] == f"sms-segments-calculator@{pinned['sms-segments-calculator']}"


def test_160_plain_characters_are_one_segment_and_161_are_two():
    assert sms_segments(plain(160)) == SmsSegments(count=1, encoding="GSM-7", units=160)
    assert sms_segments(plain(161)) == SmsSegments(count=2, encoding="GSM-7", units=161)
    assert sms_segments(plain(306)).count == 2
    assert sms_segments(plain(307)).count == 3


def test_euro_sign_counts_twice_in_gsm():
    assert sms_segments(plain(158) + "€") == SmsSegments(count=1, encoding="GSM-7", units=160)
    assert sms_segments(plain(159) + "€") == SmsSegments(count=2, encoding="GSM-7", units=161)
    for extension_character in "^{}\\[~]|\f":
        assert sms_segments(extension_character).units == 2


def test_escape_pair_is_not_split_across_segments():
    # 306 septets would fill two segments of 153 exactly, but the euro sign's two septets cannot
    # start at the 153rd: the first segment ends after 152 and everything moves on by one.
    split_text = plain(152) + "€" + plain(152)

    assert sms_segments(split_text) == SmsSegments(count=3, encoding="GSM-7", units=306)


def test_emoji_forces_ucs2():
    assert sms_segments("See you at 6").encoding == "GSM-7"
    assert sms_segments("See you at 6 😀") == SmsSegments(count=1, encoding="UCS-2", units=15)


def test_emoji_takes_two_units_at_the_70_unit_limit():
    assert sms_segments(plain(68) + "😀") == SmsSegments(count=1, encoding="UCS-2", units=70)
    assert sms_segments(plain(69) + "😀") == SmsSegments(count=2, encoding="UCS-2", units=71)


def test_surrogate_pair_is_not_split_across_segments():
    # 134 units would fill two segments of 67, but the emoji cannot start at the 67th unit.
    assert sms_segments(plain(66) + "😀" + plain(66)).count == 3
    assert sms_segments(plain(65) + "😀" + plain(67)).count == 2


def test_letter_with_combining_accents_is_not_split_across_segments():
    e_with_dot_and_circumflex = "e\u0323\u0302"  # ệ as some Vietnamese keyboards type it

    assert sms_segments(plain(66) + e_with_dot_and_circumflex + plain(65)).count == 3


def test_spanish_keeps_gsm_for_enye_and_e_acute_but_not_for_a_acute():
    assert sms_segments("Señor Muñoz: ¿puede venir el miércoles?").encoding == "GSM-7"
    assert sms_segments("La clase de mañana está cancelada.").encoding == "UCS-2"
    assert sms_segments("La reunión es a las 6.").encoding == "UCS-2"


def test_curly_apostrophe_forces_ucs2_as_no_smart_encoding_is_applied():
    assert sms_segments("We're closed tomorrow.").encoding == "GSM-7"
    assert sms_segments("We’re closed tomorrow.").encoding == "UCS-2"


def test_chinese_fits_70_characters_in_one_segment():
    assert sms_segments("家" * 70) == SmsSegments(count=1, encoding="UCS-2", units=70)
    assert sms_segments("家" * 71).count == 2
    assert sms_segments("家" * 134).count == 2


def test_empty_text_is_one_gsm_segment():
    assert sms_segments("") == SmsSegments(count=1, encoding="GSM-7", units=0)


def test_twilios_calculator_still_gives_the_committed_cases(tmp_path):
    if os.environ.get("REQUIRE_SERVICES") != "1":
        pytest.skip(
            "runs Twilio's calculator from the npm registry: set REQUIRE_SERVICES=1 "
            "(needs node and npm)"
        )
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:  # .ci/run installs them: under CI their absence is a failure
        pytest.fail(f"REQUIRE_SERVICES=1 but node and npm are needed: {', '.join(missing)} missing")
    for name in ("package.json", "package-lock.json", "make_cases.mjs", "texts.json"):
        shutil.copy(REFERENCE / name, tmp_path / name)

    for command in (
        ["npm", "ci", "--no-audit", "--no-fund"],
        ["node", "make_cases.mjs", "texts.json", "cases.json"],
    ):
        finished = subprocess.run(
            command, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
        )
        assert finished.returncode == 0, f"{' '.join(command)} failed:\n{finished.stderr}"

    assert json.loads((tmp_path / "cases.json").read_text(encoding="utf-8")) == CASES
