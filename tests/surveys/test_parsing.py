"""Reading a family's SMS answer, as families really type it, in each family language."""

import pytest

from surveys import parsing
from surveys.parsing import Reading, answer_read

UNCLEAR = Reading("unclear")


def choice(number: str) -> Reading:
    return Reading("choice", number)


def scale(number: str) -> Reading:
    return Reading("scale", number)


YES = Reading("yes_no", "yes")
NO = Reading("yes_no", "no")
SKIP = Reading("skip")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # digits, dressed the ways people dress them
        ("2", choice("2")),
        ("2.", choice("2")),
        (" 2 ", choice("2")),
        ("#2", choice("2")),
        ("2)", choice("2")),
        ("(2)", choice("2")),
        ("( 2 )", choice("2")),
        ("2\n", choice("2")),
        ("02", choice("2")),
        ("2️⃣", choice("2")),
        ("２", choice("2")),
        ("٢", choice("2")),
        ("۲", choice("2")),
        ("\u200f٣", choice("3")),
        ("10", choice("10")),
        # en
        ("two", choice("2")),
        ("TWO!", choice("2")),
        ("One", choice("1")),
        ("ten", choice("10")),
        # es
        ("dos", choice("2")),
        ("Uno.", choice("1")),
        ("una", choice("1")),
        ("DIEZ", choice("10")),
        # vi
        ("hai", choice("2")),
        ("Một", choice("1")),
        ("mot", choice("1")),
        ("bốn", choice("4")),
        ("mười", choice("10")),
        ("muoi", choice("10")),
        # zh-hans
        ("二", choice("2")),
        ("两", choice("2")),
        ("三。", choice("3")),
        ("十", choice("10")),
        # ar
        ("اثنان", choice("2")),
        ("إثنان", choice("2")),
        ("اثنين", choice("2")),
        ("ثلاثة", choice("3")),
        ("ثلاثه", choice("3")),
        ("عشرة", choice("10")),
        # so
        ("labo", choice("2")),
        ("LABA", choice("2")),
        ("kow", choice("1")),
        ("toban", choice("10")),
    ],
)
def test_single_choice_reads_the_number_however_it_is_written(text, expected):
    assert answer_read(text, question_kind="single_choice", choices=10) == expected


@pytest.mark.parametrize(
    ("text", "choices"),
    [
        ("4", 3),
        ("four", 3),
        ("cuatro", 3),
        ("bốn", 3),
        ("四", 3),
        ("٤", 3),
        ("afar", 3),
        ("0", 3),
        ("11", 10),
        ("99999999999999999999", 10),
    ],
)
def test_single_choice_out_of_range_is_unclear(text, choices):
    assert answer_read(text, question_kind="single_choice", choices=choices) == UNCLEAR


def test_single_choice_beyond_ten_reads_digits():
    assert answer_read("12", question_kind="single_choice", choices=12) == choice("12")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4", scale("4")),
        ("4/5", UNCLEAR),
        ("*5*", scale("5")),
        ("four", scale("4")),
        ("cuatro", scale("4")),
        ("năm", scale("5")),
        ("nam", scale("5")),
        ("五", scale("5")),
        ("٤", scale("4")),
        ("أربعة", scale("4")),
        ("اربعه", scale("4")),
        ("shan", scale("5")),
        ("1", scale("1")),
        ("6", UNCLEAR),
        ("0", UNCLEAR),
        ("six", UNCLEAR),
        ("六", UNCLEAR),
        ("lix", UNCLEAR),
        ("-", UNCLEAR),
        ("3.5", UNCLEAR),
        ("3 4", UNCLEAR),
    ],
)
def test_scale_reads_one_to_five(text, expected):
    assert answer_read(text, question_kind="scale") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # en
        ("yes", YES),
        ("YES!", YES),
        ("Y", YES),
        ("no", NO),
        ("N.", NO),
        # es
        ("sí", YES),
        ("si", YES),
        ("¡Sí!", YES),
        ("SI", YES),
        ("No.", NO),
        # vi
        ("có", YES),
        ("co", YES),
        ("CÓ", YES),
        ("không", NO),
        ("khong", NO),
        ("KHÔNG!", NO),
        # zh-hans
        ("是", YES),
        ("是的", YES),
        ("对！", YES),
        ("不", NO),
        ("否", NO),
        ("没有。", NO),
        # ar
        ("نعم", YES),
        ("نعم.", YES),
        ("\u200fنعم؟", YES),
        ("لا", NO),
        ("لا،", NO),
        # so
        ("haa", YES),
        ("Haa", YES),
        ("maya", NO),
        # numbers: 1 is yes, 2 is no
        ("1", YES),
        ("2", NO),
        ("٢", NO),
        ("(1)", YES),
        ("3", UNCLEAR),
        ("0", UNCLEAR),
    ],
)
def test_yes_no_reads_yes_and_no_in_every_language(text, expected):
    assert answer_read(text, question_kind="yes_no") == expected


def test_accents_and_case_do_not_matter_in_either_unicode_form():
    composed = "kh\u00f4ng"  # ô as one code point
    decomposed = "kho\u0302ng"  # o + combining circumflex, as some phones send it
    assert answer_read(composed, question_kind="yes_no") == NO
    assert answer_read(decomposed, question_kind="yes_no") == NO
    assert answer_read("SI\u0301", question_kind="yes_no") == YES


@pytest.mark.parametrize(
    "text",
    ["SKIP", "skip", "Skip.", "SALTAR", "saltar", "BỎ QUA", "bo qua", "bỏ  qua", "跳过", "تخطي",
     "تخطى", "KA BOOD", "ka bood"],
)  # fmt: skip
@pytest.mark.parametrize("question_kind", ["single_choice", "scale", "yes_no", "short_text"])
def test_skip_words_skip_every_kind_of_question(text, question_kind):
    assert answer_read(text, question_kind=question_kind, choices=3) == SKIP


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Thank you for asking!  ", Reading("text", "Thank you for asking!")),
        ("Gracias, todo bien", Reading("text", "Gracias, todo bien")),
        ("kho\u0302ng sao", Reading("text", "không sao")),
        ("谢谢老师", Reading("text", "谢谢老师")),
        ("شكراً جزيلاً", Reading("text", "شكراً جزيلاً")),
        ("Mahadsanid", Reading("text", "Mahadsanid")),
        ("2", Reading("text", "2")),
        ("yes", Reading("text", "yes")),
        ("", UNCLEAR),
        ("   \n ", UNCLEAR),
    ],
)
def test_short_text_is_the_text_itself(text, expected):
    assert answer_read(text, question_kind="short_text") == expected


@pytest.mark.parametrize(
    ("text", "question_kind"),
    [
        ("", "single_choice"),
        ("   ", "scale"),
        ("?", "yes_no"),
        ("maybe", "yes_no"),
        ("quizás", "yes_no"),
        ("yes no", "yes_no"),
        ("yes 2", "yes_no"),
        ("option 2", "single_choice"),
        ("2 or 3", "single_choice"),
        ("2,3", "single_choice"),
        ("the second one", "single_choice"),
        ("²", "single_choice"),
        ("yes", "single_choice"),
        ("STOP", "yes_no"),
        ("skipping", "scale"),
        ("bood", "scale"),
    ],
)
def test_anything_else_is_unclear(text, question_kind):
    assert answer_read(text, question_kind=question_kind, choices=3) == UNCLEAR


def test_number_words_read_in_yes_no_as_one_and_two():
    assert answer_read("one", question_kind="yes_no") == YES
    assert answer_read("dos", question_kind="yes_no") == NO


def test_every_language_table_counts_one_to_ten():
    for language, table in parsing.NUMBER_WORDS.items():
        assert set(table.values()) == set(range(1, 11)), language


def test_every_family_language_has_yes_no_and_skip_words():
    languages = {"en", "es", "vi", "zh-hans", "ar", "so"}
    assert set(parsing.NUMBER_WORDS) == languages
    assert set(parsing.SKIP_WORDS) == languages
    for language, table in parsing.YES_NO_WORDS.items():
        assert set(table.values()) == {"yes", "no"}, language
    assert set(parsing.YES_NO_WORDS) == languages


def test_a_word_that_would_mean_two_things_is_refused():
    with pytest.raises(ValueError, match="two things"):
        parsing._meanings({"en": {"one": 1}, "xx": {"ONE": 2}})


@pytest.mark.parametrize(
    ("question_kind", "choices"), [("rating", 0), ("single_choice", 0), ("single_choice", -1)]
)
def test_a_question_it_cannot_read_against_is_a_programming_error(question_kind, choices):
    with pytest.raises(ValueError):
        answer_read("1", question_kind=question_kind, choices=choices)
