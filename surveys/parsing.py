"""Reading a family's SMS answer to one survey question.

Families answer from basic phones, in their own language, and seldom in the exact form a question
asks for. `answer_read` reads one answer forgivingly and says what it understood:

- Case, Unicode form (NFC), accents and Arabic vowel or hamza marks do not matter: "SÍ" = "si",
  "khong" = "không", "إثنان" = "اثنان". Spaces, punctuation and symbols around the answer are
  ignored: "#2", "(2)", "2)", "2.", "¡Sí!", "是。", "نعم؟".
- A number is written in digits of any script ("2", "٢") or as a word from `NUMBER_WORDS`
  ("two", "dos", "hai", "二", "两", "اثنان", "labo"), one to ten.
- A word from `SKIP_WORDS` ("SKIP", "SALTAR", "BỎ QUA", "跳过", "تخطي", "KA BOOD") skips the
  question, whatever its kind.
- single_choice: a number from 1 to `choices`  -> Reading("choice", "2")
- scale:         a number from 1 to 5          -> Reading("scale", "4")
- yes_no:        a word from `YES_NO_WORDS`, or 1 for yes and 2 for no -> Reading("yes_no", "no")
- short_text:    the text without surrounding spaces -> Reading("text", "Thank you!")
- Anything else, a number out of range or an empty text included, is Reading("unclear"), so that
  the caller can ask again.

STOP, START and the other carrier keywords are handled before this code runs.

To teach it a language, add a table to `NUMBER_WORDS`, `YES_NO_WORDS` and `SKIP_WORDS`, spelled as
a family would write the word with its accents; the bare spelling comes for free. A word that would
mean two things across the tables is refused when the module loads.
"""

import unicodedata
from dataclasses import dataclass
from typing import TypeVar

QUESTION_KINDS = ("single_choice", "scale", "yes_no", "short_text")
SCALE_TOP = 5  # a scale question runs from 1 to this

NUMBER_WORDS: dict[str, dict[str, int]] = {
    "en": {
        "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
        "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    },
    "es": {
        "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
        "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10,
    },
    "vi": {
        "một": 1, "hai": 2, "ba": 3, "bốn": 4, "năm": 5,
        "sáu": 6, "bảy": 7, "tám": 8, "chín": 9, "mười": 10,
    },
    "zh-hans": {
        "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
        "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
    },
    "ar": {
        "واحد": 1, "واحدة": 1, "اثنان": 2, "اثنين": 2, "ثلاثة": 3, "ثلاث": 3,
        "أربعة": 4, "أربع": 4, "خمسة": 5, "خمس": 5, "ستة": 6, "ست": 6,
        "سبعة": 7, "سبع": 7, "ثمانية": 8, "ثمان": 8, "تسعة": 9, "تسع": 9, "عشرة": 10, "عشر": 10,
    },
    "so": {
        "kow": 1, "hal": 1, "laba": 2, "labo": 2, "saddex": 3, "afar": 4, "shan": 5,
        "lix": 6, "toddoba": 7, "todoba": 7, "siddeed": 8, "sideed": 8, "sagaal": 9, "toban": 10,
    },
}  # fmt: skip

YES_NO_WORDS: dict[str, dict[str, str]] = {
    "en": {"yes": "yes", "y": "yes", "no": "no", "n": "no"},
    "es": {"sí": "yes", "no": "no"},
    "vi": {"có": "yes", "không": "no"},
    "zh-hans": {
        "是": "yes", "是的": "yes", "对": "yes",
        "不": "no", "不是": "no", "否": "no", "没有": "no",
    },
    "ar": {"نعم": "yes", "لا": "no"},
    "so": {"haa": "yes", "maya": "no"},
}  # fmt: skip

SKIP_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("skip",),
    "es": ("saltar",),
    "vi": ("bỏ qua",),
    "zh-hans": ("跳过",),
    "ar": ("تخطي",),
    "so": ("ka bood",),
}

YES_NO_BY_NUMBER = {1: "yes", 2: "no"}


@dataclass(frozen=True)
class Reading:
    kind: str  # "choice", "scale", "yes_no", "text", "skip" or "unclear"
    value: str = ""  # the choice or scale number ("2"), "yes"/"no", or the free text


UNCLEAR = Reading("unclear")
SKIP = Reading("skip")

# Letters folded to a plainer one that families use in their place: Vietnamese đ, Arabic tā'
# marbūṭa and alif maqṣūra; the Arabic tatweel only stretches a word.
_LETTER_FOLDS = str.maketrans({"đ": "d", "ة": "ه", "ى": "ي", "ـ": None})
_MARKS = ("Mn", "Me")  # accents, vowel and hamza marks, variation selectors, the keycap in "2️⃣"
_AROUND = ("P", "S", "Z", "C")  # punctuation, symbols, spaces, invisible marks such as RLM


def _folded(text: str) -> str:
    """The form in which answers and known words are compared."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    bare = "".join(char for char in decomposed if unicodedata.category(char) not in _MARKS)
    letters = unicodedata.normalize("NFC", bare).translate(_LETTER_FOLDS)
    start, end = 0, len(letters)
    while start < end and unicodedata.category(letters[start])[0] in _AROUND:
        start += 1
    while end > start and unicodedata.category(letters[end - 1])[0] in _AROUND:
        end -= 1
    return " ".join(letters[start:end].split())


T = TypeVar("T")


def _meanings(tables: dict[str, dict[str, T]]) -> dict[str, T]:
    meanings: dict[str, T] = {}
    for language, table in tables.items():
        for word, meaning in table.items():
            if meanings.setdefault(_folded(word), meaning) != meaning:
                raise ValueError(f"{word!r} ({language}) would mean two things")
    return meanings


_NUMBER_BY_WORD = _meanings(NUMBER_WORDS)
_YES_NO_BY_WORD = _meanings(YES_NO_WORDS)
_SKIPS = frozenset(_folded(word) for words in SKIP_WORDS.values() for word in words)


def _number(answer: str) -> int | None:
    if answer.isdecimal() and len(answer) <= 9:
        return int(answer)  # int() reads every script's digits: "٢" and "２" are 2
    return _NUMBER_BY_WORD.get(answer)


def _numbered(answer: str, *, kind: str, top: int) -> Reading:
    number = _number(answer)
    if number is None or not 1 <= number <= top:
        return UNCLEAR
    return Reading(kind, str(number))


def answer_read(text: str, *, question_kind: str, choices: int = 0) -> Reading:
    """What a family's SMS `text` answers to a question of `question_kind` (see the module)."""
    if question_kind not in QUESTION_KINDS:
        raise ValueError(f"unknown question kind {question_kind!r}")
    if question_kind == "single_choice" and choices < 1:
        raise ValueError("a single-choice question needs at least one choice")
    answer = _folded(text)
    if answer in _SKIPS:
        return SKIP
    if question_kind == "single_choice":
        return _numbered(answer, kind="choice", top=choices)
    if question_kind == "scale":
        return _numbered(answer, kind="scale", top=SCALE_TOP)
    if question_kind == "yes_no":
        meaning = _YES_NO_BY_WORD.get(answer) or YES_NO_BY_NUMBER.get(_number(answer) or 0)
        return Reading("yes_no", meaning) if meaning else UNCLEAR
    free_text = unicodedata.normalize("NFC", text).strip()
    return Reading("text", free_text) if free_text else UNCLEAR
