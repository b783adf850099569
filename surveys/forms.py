"""A family's answer to one question, as its survey page sends it. The form only reads what was
sent (which options, which number, what text); whether it is an acceptable answer is
surveys.services.answer_save's to say."""

from __future__ import annotations

from django import forms

from surveys.models import Choice, Question
from surveys.services import MAX_TEXT_ANSWER_CHARS

SCALE_VALUES = ("1", "2", "3", "4", "5")
YES_NO_VALUES = ("yes", "no")


class AnswerForm(forms.Form):
    """One field, `<prefix>-answer`: the choice ids ticked, a scale's number, yes or no, or a
    short text. Empty is allowed here: an empty optional question is skipped, an empty required
    one refused by the service."""

    def __init__(self, data=None, *, question: Question, prefix: str):
        super().__init__(data, prefix=prefix)
        self.question = question
        self.choices = {str(choice.pk): choice for choice in question.choices.all()}
        kind = question.kind
        if kind == "single_choice":
            field = forms.ChoiceField(choices=self._offered(self.choices), required=False)
        elif kind == "multiple_choice":
            field = forms.MultipleChoiceField(choices=self._offered(self.choices), required=False)
        elif kind == "scale":
            field = forms.ChoiceField(choices=self._offered(SCALE_VALUES), required=False)
        elif kind == "yes_no":
            field = forms.ChoiceField(choices=self._offered(YES_NO_VALUES), required=False)
        else:
            field = forms.CharField(max_length=MAX_TEXT_ANSWER_CHARS, required=False)
        self.fields["answer"] = field

    @staticmethod
    def _offered(values) -> list[tuple[str, str]]:
        return [(value, value) for value in values]

    def sent(self) -> tuple[set[str], str]:
        """What the family sent, to show it again when it was refused: options, text."""
        raw = self.data.getlist(self.add_prefix("answer")) if self.data else []
        if self.question.kind == "short_text":
            return set(), raw[0] if raw else ""
        return set(raw), ""

    def is_empty(self) -> bool:
        """Nothing chosen or written (call after is_valid)."""
        return not self.cleaned_data.get("answer")

    def answer(self) -> dict:
        """The answer as surveys.services.answer_save takes it (call after is_valid)."""
        given = self.cleaned_data["answer"]
        if self.question.kind == "single_choice":
            return {"choices": [self.choices[given]] if given else []}
        if self.question.kind == "multiple_choice":
            return {"choices": self._chosen(given)}
        if self.question.kind in ("scale", "yes_no"):
            return {"value": given}
        return {"text": given}

    def _chosen(self, ids: list[str]) -> list[Choice]:
        return [choice for key, choice in self.choices.items() if key in ids]
