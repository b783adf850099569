"""What the survey API shows: surveys and their questions, their texts in the reader's language
and every translation, and the results (`surveys.results`) as the results page shows them,
anonymity rule included.

Which surveys a reader gets is `selectors.surveys_for_staff`'s answer; these serializers shape
a row or a result. Texts come in the reader's language (the context's `language`), else in the
default language where nobody wrote one.
"""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from modeltranslation.utils import build_localized_fieldname
from rest_framework import serializers

from supports.serializers import InReaderLanguage
from surveys.models import Choice, Question, Survey

SURVEY_TEXTS = ("title", "introduction", "thank_you")


def translations_of(row, fields: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """By language, the texts written in it (languages with none left out)."""
    translated = {}
    for language in settings.MODELTRANSLATION_LANGUAGES:
        texts = {
            field: getattr(row, build_localized_fieldname(field, language)) or ""
            for field in fields
        }
        if any(texts.values()):
            translated[language] = texts
    return translated


class SurveyTextsSerializer(serializers.Serializer):
    title = serializers.CharField()
    introduction = serializers.CharField()
    thank_you = serializers.CharField()


class TextSerializer(serializers.Serializer):
    text = serializers.CharField()


class SurveySerializer(serializers.ModelSerializer):
    """A survey as the staff who may read it see it. Expects `invited`, `started` and
    `completed` annotated (`api.SurveyViewSet`)."""

    title = InReaderLanguage()
    introduction = InReaderLanguage()
    thank_you = InReaderLanguage()
    language = serializers.SerializerMethodField(
        help_text="The language `title`, `introduction` and `thank_you` are shown in: your "
        "interface language."
    )
    translations = serializers.SerializerMethodField(
        help_text="By language code, the texts written (or accepted) in it; languages with none "
        "are left out."
    )
    status = serializers.CharField(
        read_only=True, help_text="`draft`, `open` (taking answers) or `closed`."
    )
    audience = serializers.CharField(
        read_only=True,
        help_text="Who it goes to, as an announcement's: `section`, `sections`, `grade`, "
        "`school` or `list`.",
    )
    invited = serializers.IntegerField(read_only=True, help_text="Families invited.")
    started = serializers.IntegerField(
        read_only=True, help_text="Families that answered at least one question (completed too)."
    )
    completed = serializers.IntegerField(
        read_only=True, help_text="Families that answered to the end."
    )

    class Meta:
        model = Survey
        fields = [
            "id",
            "school",
            "created_by",
            "language",
            "title",
            "introduction",
            "thank_you",
            "translations",
            "audience",
            "by_sms",
            "on_web",
            "is_anonymous",
            "status",
            "opens_at",
            "closes_at",
            "created_at",
            "sent_at",
            "closed_at",
            "invited",
            "started",
            "completed",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "created_by": {"help_text": "The member of staff who built it."},
            "is_anonymous": {
                "help_text": "Answers keep no way back to a family; results never show a group "
                "of fewer than five families."
            },
            "opens_at": {"help_text": "Answers are taken from then; null: from when it is sent."},
            "closes_at": {"help_text": "It closes by itself then; null: when someone closes it."},
        }

    def get_language(self, survey: Survey) -> str:
        return self.context["language"]

    @extend_schema_field(serializers.DictField(child=SurveyTextsSerializer()))
    def get_translations(self, survey: Survey) -> dict:
        return translations_of(survey, SURVEY_TEXTS)


class ChoiceSerializer(serializers.ModelSerializer):
    text = InReaderLanguage()
    translations = serializers.SerializerMethodField(help_text="By language code, the text.")

    class Meta:
        model = Choice
        fields = ["id", "position", "text", "translations"]
        read_only_fields = fields
        extra_kwargs = {"position": {"help_text": "Its number; by SMS families reply with it."}}

    @extend_schema_field(serializers.DictField(child=TextSerializer()))
    def get_translations(self, choice: Choice) -> dict:
        return translations_of(choice, ("text",))


class QuestionSerializer(serializers.ModelSerializer):
    """A question in order, with its choices. Expects `choices` prefetched."""

    text = InReaderLanguage()
    translations = serializers.SerializerMethodField(help_text="By language code, the text.")
    kind = serializers.CharField(
        read_only=True,
        help_text="`single_choice`, `multiple_choice` (on the web only), `scale` (1 to 5), "
        "`yes_no` or `short_text`.",
    )
    choices = ChoiceSerializer(many=True, read_only=True)

    class Meta:
        model = Question
        fields = ["id", "position", "kind", "text", "translations", "is_required", "choices"]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField(child=TextSerializer()))
    def get_translations(self, question: Question) -> dict:
        return translations_of(question, ("text",))


# ---- Results (surveys.results) ----------------------------------------------------------------


class DayCountSerializer(serializers.Serializer):
    day = serializers.DateField(help_text="A day in the school's time zone.")
    completed = serializers.IntegerField(help_text="Families that completed that day.")
    completed_so_far = serializers.IntegerField()


class ResponseRateSerializer(serializers.Serializer):
    """`surveys.results.ResponseRate`. Rates are of the families invited (null when none)."""

    invited = serializers.IntegerField()
    started = serializers.IntegerField(
        help_text="Answered at least one question, completed ones included."
    )
    completed = serializers.IntegerField()
    completed_first_hour = serializers.IntegerField(
        help_text="Completed within an hour of their own invitation."
    )
    completed_first_day = serializers.IntegerField(
        help_text="Completed within 24 hours of their own invitation."
    )
    started_rate = serializers.FloatField(allow_null=True)
    completed_rate = serializers.FloatField(allow_null=True)
    first_hour_rate = serializers.FloatField(allow_null=True)
    first_day_rate = serializers.FloatField(allow_null=True)
    by_day = DayCountSerializer(many=True)


class OptionCountSerializer(serializers.Serializer):
    key = serializers.CharField(
        help_text="A choice's id, `1` to `5` (scale), `yes` or `no`, or `written`: replies "
        "that fit no option, kept as the family wrote them."
    )
    label = serializers.CharField(help_text="In your language.")
    count = serializers.IntegerField(help_text="Families.")
    share = serializers.FloatField(
        allow_null=True, help_text="Of the families that answered the question, 0 to 1."
    )


class QuestionResultSerializer(serializers.Serializer):
    question = serializers.IntegerField(source="question_id")
    position = serializers.IntegerField()
    kind = serializers.CharField()
    text = serializers.CharField(help_text="In your language.")
    answered = serializers.IntegerField(help_text="Families that answered (a skip is not).")
    skipped = serializers.IntegerField()
    written = serializers.IntegerField(
        help_text="Answers given as words: a short text's, or replies kept as written."
    )
    mean = serializers.FloatField(allow_null=True, help_text="A scale question's average.")
    options = OptionCountSerializer(
        many=True,
        help_text="Each choice (several choices: a family counts once under each it ticked), "
        "value or yes/no; empty for a short-text question.",
    )


class GroupSerializer(serializers.Serializer):
    key = serializers.CharField(
        help_text="A language code, a grade or a class (section) id; empty for not known."
    )
    label = serializers.CharField()
    respondents = serializers.IntegerField(
        allow_null=True, help_text="Families that answered; null when the group is hidden."
    )
    invited = serializers.IntegerField(allow_null=True, help_text="Named surveys only.")
    completed = serializers.IntegerField(allow_null=True, help_text="Named surveys only.")
    hidden = serializers.CharField(
        help_text="Anonymous surveys: `small` for a group of fewer than five families, "
        "`complement` for one held back so that a small group cannot be worked out from the "
        "totals; empty when shown."
    )
    questions = QuestionResultSerializer(many=True, help_text="Empty when the group is hidden.")


class BreakdownSerializer(serializers.Serializer):
    by = serializers.CharField()
    groups = GroupSerializer(many=True)


class SurveyResultsSerializer(serializers.Serializer):
    """`surveys.results.SurveyResults`: the figures of the results page."""

    survey = serializers.IntegerField(source="survey_id")
    is_anonymous = serializers.BooleanField()
    is_hidden = serializers.BooleanField(
        help_text="An anonymous survey with fewer than five respondents: no answer is shown."
    )
    respondents = serializers.IntegerField(
        allow_null=True, help_text="Families with at least one answer; null when hidden."
    )
    response = ResponseRateSerializer()
    questions = QuestionResultSerializer(many=True)
    breakdowns = serializers.DictField(
        child=BreakdownSerializer(),
        help_text="By `language`, `grade` and (named surveys only) `section`.",
    )
