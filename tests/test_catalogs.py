"""The interface catalogs in locale/ are complete, compiled and safe to format.

A family reading Spanish, Chinese, Vietnamese or Arabic must never meet an English fallback, a
stale .mo or a placeholder the code cannot fill. These tests read the .po and .mo files with
polib; only the last ones load Django's translation machinery (no database).
"""

import ast
import gettext as gettext_module
import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "locale"
LOCALES = ["es", "zh_Hans", "vi", "ar"]
PLURAL_FORMS = {"es": 3, "zh_Hans": 1, "vi": 1, "ar": 6}

# What a guardian sees: every message these files mark must be in every catalog, translated.
GUARDIAN_TEMPLATES = [
    ROOT / "templates" / "base.html",
    *(ROOT / "templates" / "portal").glob("*.html"),
    *(ROOT / "templates" / "messaging").rglob("*.html"),
    *(ROOT / "templates" / "messaging").rglob("*.txt"),  # email
    *(ROOT / "templates" / "supports").glob("*.html"),  # the family pages of the directory
    *(ROOT / "templates" / "surveys").glob("*.html"),  # a family's survey page
]
GUARDIAN_MODULES = [
    *(ROOT / "portal" / name for name in ("forms.py", "services.py", "sign_in.py", "views.py")),
    *(
        ROOT / "messaging" / name
        for name in (
            "forms.py",
            "models.py",
            "services.py",
            "views.py",
            "broadcasts.py",
            "broadcast_views.py",
            "channel_views.py",
            "delivery.py",  # texts and email
            "inbound.py",  # answers to keywords
        )
    ),
    *(
        ROOT / "supports" / name
        for name in ("views.py", "services.py", "sms.py", "followup.py", "selectors.py")
    ),
    *(
        ROOT / "surveys" / name
        for name in ("texts.py", "delivery_texts.py", "services.py", "family_views.py")
    ),
]

# %(name)s, %s, %d, ... but not a literal %%.
PLACEHOLDER = re.compile(r"%(?:\((?P<name>\w+)\))?[#0 +-]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa]")
LITERAL_PERCENT = re.compile(r"%%")
# A plural form used for one number only (Arabic 0, 1 and 2) may spell that number as a word.
COUNT_NAMES = {"counter", "count"}

GETTEXT_FUNCTIONS = {
    "_": (0, None, None),
    "gettext": (0, None, None),
    "gettext_lazy": (0, None, None),
    "gettext_noop": (0, None, None),
    "ngettext": (0, 1, None),
    "ngettext_lazy": (0, 1, None),
    "pgettext": (1, None, 0),
    "pgettext_lazy": (1, None, 0),
    "npgettext": (1, 2, 0),
    "npgettext_lazy": (1, 2, 0),
}  # function: (msgid index, msgid_plural index, msgctxt index)


def _po(locale: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / locale / "LC_MESSAGES" / "django.po"))


def _mo(locale: str) -> polib.MOFile:
    return polib.mofile(str(LOCALE / locale / "LC_MESSAGES" / "django.mo"))


def _translations(catalog) -> dict:
    """(context, msgid, msgid_plural) -> msgstr or the tuple of plural forms, translated only."""
    found = {}
    for entry in catalog:
        if entry.obsolete or "fuzzy" in getattr(entry, "flags", ()):
            continue
        if not (entry.msgstr or any(getattr(entry, "msgstr_plural", {}).values())):
            continue
        key = (entry.msgctxt, entry.msgid, entry.msgid_plural or None)
        if entry.msgid_plural:
            found[key] = tuple(entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural))
        else:
            found[key] = entry.msgstr
    return found


def _placeholders(text: str) -> list[str]:
    text = LITERAL_PERCENT.sub("", text)
    return sorted(match[0] for match in PLACEHOLDER.finditer(text))


def _single_number_forms(po: polib.POFile) -> set[int]:
    """The plural forms that the catalog's Plural-Forms formula picks for exactly one number."""
    formula = po.metadata["Plural-Forms"].split("plural=", 1)[1].rstrip(";")
    plural = gettext_module.c2py(formula)
    numbers_per_form: dict[int, int] = {}
    for n in range(10_000):
        form = plural(n)
        numbers_per_form[form] = numbers_per_form.get(form, 0) + 1
    return {form for form, count in numbers_per_form.items() if count == 1}


def _template_messages(path: Path) -> set[tuple]:
    """What makemessages extracts from a template, read with Django's own templatize."""
    source = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    messages = set()
    call = re.compile(r"\b(n?p?gettext|_)\(")
    literal = re.compile(r"""\s*(u?(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"))\s*,?""")
    for match in call.finditer(source):
        position, strings = match.end(), []
        while item := literal.match(source, position):
            strings.append(ast.literal_eval(item[1]))
            position = item.end()
        name = match[1]
        msgid_at, plural_at, context_at = GETTEXT_FUNCTIONS[name]
        messages.add(
            (
                strings[context_at] if context_at is not None else None,
                strings[msgid_at],
                strings[plural_at] if plural_at is not None else None,
            )
        )
    return messages


def _module_messages(path: Path) -> set[tuple]:
    """What makemessages extracts from a Python module: gettext calls with literal arguments."""
    messages = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        if node.func.id not in GETTEXT_FUNCTIONS:
            continue
        msgid_at, plural_at, context_at = GETTEXT_FUNCTIONS[node.func.id]
        arguments = [arg.value if isinstance(arg, ast.Constant) else None for arg in node.args]
        if len(arguments) <= msgid_at or not isinstance(arguments[msgid_at], str):
            continue
        messages.add(
            (
                arguments[context_at] if context_at is not None else None,
                arguments[msgid_at],
                arguments[plural_at] if plural_at is not None else None,
            )
        )
    return messages


def test_every_interface_language_has_a_catalog():
    interface = {translation.to_locale(code) for code, _name in settings.LANGUAGES}
    assert interface - {"en"} == set(LOCALES)
    assert Path(settings.LOCALE_PATHS[0]) == LOCALE


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_is_fully_translated_and_nothing_is_fuzzy(locale):
    po = _po(locale)
    assert not po.metadata_is_fuzzy, "a fuzzy header is left out of the .mo, Plural-Forms with it"
    assert po.metadata["Language"] == locale
    assert f"nplurals={PLURAL_FORMS[locale]};" in po.metadata["Plural-Forms"].replace(" ", "")
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []
    for entry in po.translated_entries():
        if entry.msgid_plural:
            assert len(entry.msgstr_plural) == PLURAL_FORMS[locale], entry.msgid
            assert all(entry.msgstr_plural.values()), entry.msgid


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_a_guardian_sees_is_translated(locale):
    translated = _translations(_po(locale))
    wanted = set()
    for path in GUARDIAN_TEMPLATES:
        wanted |= _template_messages(path)
    for path in GUARDIAN_MODULES:
        wanted |= _module_messages(path)
    assert len(wanted) > 50  # the extraction found the pages' messages at all
    missing = sorted(msgid for _context, msgid, _plural in wanted - translated.keys())
    assert missing == [], "run `make messages`, translate, then compilemessages"


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalog_matches_its_source(locale):
    po, mo = _po(locale), _mo(locale)
    assert _translations(mo) == _translations(po), "run `manage.py compilemessages`"
    assert mo.metadata.get("Plural-Forms") == po.metadata["Plural-Forms"]


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders_of_the_source(locale):
    po = _po(locale)
    single_number_forms = _single_number_forms(po)
    for entry in po.translated_entries():
        source = _placeholders(entry.msgid)
        if not entry.msgid_plural:
            assert _placeholders(entry.msgstr) == source, entry.msgid
            forms = {0: entry.msgstr}
        else:
            assert _placeholders(entry.msgid_plural) == source, entry.msgid
            forms = entry.msgstr_plural
            for index, text in forms.items():
                found = _placeholders(text)
                if index in single_number_forms:
                    spelled_out = [p for p in source if p not in found]
                    assert all(
                        re.fullmatch(r"%\((\w+)\)[sd]", p)[1] in COUNT_NAMES for p in spelled_out
                    ), (entry.msgid, index)
                    assert set(found) <= set(source), (entry.msgid, index)
                else:
                    assert found == source, (entry.msgid, index)
        if "python-format" in entry.flags:
            values = {
                match["name"]: 7 for match in PLACEHOLDER.finditer(entry.msgid) if match["name"]
            }
            for text in forms.values():
                text % values  # raises on a broken or stray % sign


@pytest.mark.parametrize(
    ("language", "locale"), [("es", "es"), ("zh-hans", "zh_Hans"), ("vi", "vi"), ("ar", "ar")]
)
def test_django_finds_the_compiled_catalog(language, locale):
    wanted = _po(locale).find("Sign in").msgstr
    with translation.override(language):
        assert translation.gettext("Sign in") == wanted != "Sign in"


def test_spanish_sign_in_reads_in_spanish():
    with translation.override("es"):
        assert translation.gettext("Sign in") == "Iniciar sesión"


def test_arabic_plurals_follow_the_arabic_plural_rule():
    """Proves the Plural-Forms header reached the .mo: a fuzzy header falls back to n != 1."""

    def students(n):
        return translation.ngettext("%(counter)s student", "%(counter)s students", n) % {
            "counter": n
        }

    with translation.override("ar"):
        assert students(1) == "طالب واحد"
        assert students(2) == "طالبان"
        assert students(5) == "5 طلاب"
        assert students(11) == "11 طالبًا"
        assert students(100) == "100 طالب"
