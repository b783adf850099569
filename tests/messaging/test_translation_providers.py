"""The translation providers against stand-ins served over real HTTP: DeepL through the official
`deepl` package, and what the conversation tests leave out of LibreTranslate."""

import logging

import pytest
from django.core.exceptions import ImproperlyConfigured

from messaging.models import MessageTranslation
from messaging.services import message_post, thread_start
from messaging.translation import (
    DeepL,
    LibreTranslate,
    TranslationUnavailable,
    translation_provider,
)
from tests.fakes.deepl import serve as serve_deepl


@pytest.fixture
def fake_deepl(settings):
    """A DeepL stand-in on 127.0.0.1, and the portal pointed at it."""
    fake, server = serve_deepl()
    settings.TRANSLATION_PROVIDER = "deepl"
    settings.DEEPL_AUTH_KEY = fake.auth_key
    settings.DEEPL_SERVER_URL = fake.url
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def deepl_provider(fake_deepl):
    return translation_provider()


# ---- DeepL ----------------------------------------------------------------------------------


def test_deepl_is_chosen_by_settings_and_talks_to_the_configured_server(fake_deepl):
    provider = translation_provider()

    assert isinstance(provider, DeepL) and provider.name == "deepl"
    assert provider.translate(["Hello"], source="en", target="es") == ["[EN->ES] Hello"]
    assert len(fake_deepl.translations()) == 1


def test_deepl_without_server_url_lets_the_key_choose_free_or_pro(settings):
    settings.TRANSLATION_PROVIDER = "deepl"
    settings.DEEPL_SERVER_URL = ""

    settings.DEEPL_AUTH_KEY = "0000-free:fx"
    assert translation_provider().translator.server_url == "https://api-free.deepl.com"
    settings.DEEPL_AUTH_KEY = "0000-pro"
    assert translation_provider().translator.server_url == "https://api.deepl.com"


def test_deepl_without_a_key_is_a_configuration_error(settings):
    settings.TRANSLATION_PROVIDER = "deepl"
    settings.DEEPL_AUTH_KEY = ""

    with pytest.raises(ImproperlyConfigured, match="DEEPL_AUTH_KEY"):
        translation_provider()


def test_deepl_translates_a_batch_in_one_request_in_order(deepl_provider, fake_deepl):
    texts = ["Field trip on Friday.", "Bring a lunch.", "Wear good shoes."]

    translated = deepl_provider.translate(texts, source="en", target="vi")

    assert translated == [f"[EN->VI] {text}" for text in texts]
    (request,) = fake_deepl.translations()
    assert request["text"] == texts


@pytest.mark.parametrize(
    ("source", "target", "source_lang", "target_lang"),
    [
        ("en", "zh-hans", "EN", "ZH-HANS"),
        ("zh-hans", "en", "ZH", "EN-US"),
        ("es", "en", "ES", "EN-US"),
        ("ar", "es", "AR", "ES"),
        ("vi", "ar", "VI", "AR"),
        ("zh-Hans", "EN", "ZH", "EN-US"),  # BCP 47 is case-insensitive
    ],
)
def test_deepl_is_sent_its_own_codes_for_the_portal_languages(
    deepl_provider, fake_deepl, source, target, source_lang, target_lang
):
    assert deepl_provider.translate(["Hi"], source=source, target=target) is not None

    (request,) = fake_deepl.translations()
    assert (request["source_lang"], request["target_lang"]) == (source_lang, target_lang)


@pytest.mark.parametrize(("source", "target"), [("en", "so"), ("so", "en"), ("es", "tlh")])
def test_deepl_leaves_languages_it_does_not_speak_untranslated_without_asking(
    deepl_provider, fake_deepl, source, target
):
    assert deepl_provider.translate(["Hi"], source=source, target=target) is None
    assert fake_deepl.requests == []


@pytest.mark.parametrize("status", [429, 500, 503])
def test_deepl_busy_or_down_is_left_to_the_task_to_retry(deepl_provider, fake_deepl, status):
    fake_deepl.fail_with = status

    with pytest.raises(TranslationUnavailable, match=f"DeepL answered {status}"):
        deepl_provider.translate(["Hello"], source="en", target="es")
    assert len(fake_deepl.requests) == 1  # the package did not retry on its own


def test_deepl_unreachable_is_left_to_the_task_to_retry(fake_deepl):
    provider = DeepL(fake_deepl.auth_key, "http://127.0.0.1:9")  # nothing listens there

    with pytest.raises(TranslationUnavailable, match="DeepL did not answer"):
        provider.translate(["Hello"], source="en", target="es")


def test_deepl_refusing_the_key_says_a_person_must_act(deepl_provider, fake_deepl):
    fake_deepl.auth_key = "another-key"

    with pytest.raises(TranslationUnavailable, match=r"403.*a person must check DEEPL_AUTH_KEY"):
        deepl_provider.translate(["Hello"], source="en", target="es")


def test_deepl_quota_used_up_says_a_person_must_act(deepl_provider, fake_deepl):
    fake_deepl.fail_with = 456

    with pytest.raises(TranslationUnavailable, match=r"quota.*used up.*a person must"):
        deepl_provider.translate(["Hello"], source="en", target="es")


def test_deepl_refusing_a_request_gives_its_reason(deepl_provider, fake_deepl):
    fake_deepl.fail_with = 400

    with pytest.raises(TranslationUnavailable, match=r"refused the request \(400\).*asked by"):
        deepl_provider.translate(["Hello"], source="en", target="es")


def test_deepl_key_goes_in_the_header_and_never_in_logs_or_errors(
    deepl_provider, fake_deepl, caplog
):
    caplog.set_level(logging.DEBUG)

    deepl_provider.translate(["Hello"], source="en", target="es")
    fake_deepl.fail_with = 503
    with pytest.raises(TranslationUnavailable) as unavailable:
        deepl_provider.translate(["Hello"], source="en", target="es")

    _path, headers, body = fake_deepl.requests[0]
    assert headers["Authorization"] == f"DeepL-Auth-Key {fake_deepl.auth_key}"
    assert fake_deepl.auth_key not in str(body)
    assert caplog.records  # the package does log each request...
    assert fake_deepl.auth_key not in caplog.text  # ...but never the key
    error = unavailable.value
    assert fake_deepl.auth_key not in f"{error} {error.__cause__} {error.__cause__.__cause__}"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Gracias, maestra.", "es"),
        ("Cảm ơn cô.", "vi"),
        ("谢谢老师。", "zh-hans"),
        ("Thank you.", "en"),
    ],
)
def test_deepl_detects_the_language_it_read(deepl_provider, fake_deepl, text, language):
    assert deepl_provider.detect(text) == language

    (request,) = fake_deepl.translations()
    assert "source_lang" not in request and request["target_lang"] == "EN-US"


def test_deepl_english_made_while_detecting_is_not_bought_twice(deepl_provider, fake_deepl):
    assert deepl_provider.detect("Gracias, maestra.") == "es"

    assert deepl_provider.translate(["Gracias, maestra."], source="es", target="en") == [
        "[ES->EN-US] Gracias, maestra."
    ]
    assert deepl_provider.translate(["Gracias, maestra."], source="es", target="vi") == [
        "[ES->VI] Gracias, maestra."
    ]
    assert len(fake_deepl.translations()) == 2  # the detection, and Vietnamese


# ---- DeepL in a conversation ----------------------------------------------------------------


@pytest.fixture
def eager(celery_eager, django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def _teacher_writes_to_the_mother(world, eager):
    with eager(execute=True):
        return thread_start(
            actor=world.users["teacher"],
            student=world.ana,
            guardians=[world.parent],
            subject="Ana's math",
            body="Ana did well on her test.",
        )


@pytest.mark.django_db
def test_a_spanish_reply_to_an_english_school_costs_one_deepl_call(world, fake_deepl, eager):
    world.parent.preferred_language = "es"
    world.parent.save()
    thread = _teacher_writes_to_the_mother(world, eager)

    with eager(execute=True):
        reply = message_post(actor=world.users["parent"], thread=thread, body="Gracias, maestra.")

    english = reply.translations.get(language="en")
    assert english.text == "[ES->EN-US] Gracias, maestra." and english.provider == "deepl"
    assert [r["target_lang"] for r in fake_deepl.translations()] == ["ES", "EN-US"]


@pytest.mark.django_db
def test_a_somali_family_reads_the_original_with_deepl(world, fake_deepl, eager):
    world.parent.preferred_language = "so"
    world.parent.save()

    thread = _teacher_writes_to_the_mother(world, eager)

    assert not MessageTranslation.objects.filter(message__thread=thread).exists()
    assert fake_deepl.requests == []


# ---- LibreTranslate -------------------------------------------------------------------------


def test_libretranslate_sends_the_api_key_when_one_is_set(fake_libretranslate, settings):
    settings.LIBRETRANSLATE_API_KEY = "libre-key"
    provider = translation_provider()

    provider.translate(["Hello"], source="en", target="es")
    provider.detect("Hola")

    assert [body["api_key"] for _path, body in fake_libretranslate.requests] == ["libre-key"] * 2


def test_libretranslate_without_a_key_sends_none(fake_libretranslate):
    translation_provider().translate(["Hello"], source="en", target="es")

    (request,) = fake_libretranslate.translations()
    assert "api_key" not in request


def test_libretranslate_is_sent_zh_for_simplified_chinese(fake_libretranslate):
    provider = translation_provider()

    assert provider.translate(["Hello"], source="en", target="zh-hans") == ["[en->zh] Hello"]
    provider.translate(["你好"], source="zh-hans", target="en")

    assert [(r["source"], r["target"]) for r in fake_libretranslate.translations()] == [
        ("en", "zh"),
        ("zh", "en"),
    ]


def test_libretranslate_unsure_detection_is_no_answer(fake_libretranslate):
    # The stand-in answers "en" at 30% confidence for words it does not know.
    assert translation_provider().detect("Okay, see you then") is None


def test_libretranslate_refusing_a_request_is_unavailable(fake_libretranslate):
    fake_libretranslate.fail_with = 400

    with pytest.raises(TranslationUnavailable, match=r"refused the request \(400\)"):
        translation_provider().translate(["Hello"], source="en", target="es")


def test_libretranslate_unreachable_is_unavailable():
    provider = LibreTranslate("http://127.0.0.1:9")

    with pytest.raises(TranslationUnavailable, match="LibreTranslate did not answer"):
        provider.translate(["Hello"], source="en", target="es")
