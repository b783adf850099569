"""Pages of announcements: staff compose one (checking its audience before sending) and list
and look at what they sent; admins see who sent what to whom; a family reads an announcement in
its language and answers the sender privately. Thin: parse, check, call broadcasts, render."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from messaging import broadcasts
from messaging.models import MAX_BODY_CHARS, Broadcast
from messaging.services import MessagingError
from portal import permissions
from portal.models import Guardian, Section

AUDIENCE = Broadcast.Audience
ROLE = permissions.ROLE
PAGE_SIZE = 25
RECIPIENTS_PAGE_SIZE = 100


class ComposeForm(forms.Form):
    school = forms.TypedChoiceField(label=_("School"), coerce=int)
    audience = forms.ChoiceField(label=_("Send to"), widget=forms.RadioSelect)
    sections = forms.TypedMultipleChoiceField(
        label=_("Classes"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    grade = forms.ChoiceField(label=_("Grade"), required=False)
    guardians = forms.TypedMultipleChoiceField(
        label=_("Families"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    body = forms.CharField(
        label=_("Announcement"),
        max_length=MAX_BODY_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Each family receives it in its own language, marked as machine translated."),
    )
    is_urgent = forms.BooleanField(label=_("Urgent: send even during quiet hours"), required=False)
    scheduled_at = forms.DateTimeField(
        label=_("Send later (school time)"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty to send at once."),
    )

    def __init__(self, *args, schools, audiences, sections, grades, guardians, may_urge, **kw):
        super().__init__(*args, **kw)
        self.schools = {school.pk: school for school in schools}
        self.fields["school"].choices = [(school.pk, school.name) for school in schools]
        if len(schools) == 1:
            self.fields["school"].widget = forms.HiddenInput()
            self.fields["school"].initial = schools[0].pk
        self.fields["audience"].choices = audiences
        self.fields["sections"].choices = sections
        self.fields["grade"].choices = [("", _("Choose a grade")), *grades]
        self.fields["guardians"].choices = guardians
        if not grades:
            del self.fields["grade"]
        if not may_urge:
            del self.fields["is_urgent"]

    def clean(self):
        data = super().clean()
        school = self.schools.get(data.get("school"))
        scheduled_at = data.get("scheduled_at")
        if school is not None and scheduled_at is not None:
            # The browser sends the school's wall-clock time; read it in the school's zone.
            naive = timezone.make_naive(scheduled_at)
            scheduled_at = timezone.make_aware(naive, zoneinfo.ZoneInfo(school.timezone))
            if scheduled_at <= timezone.now():
                self.add_error(
                    "scheduled_at", _("Choose a time ahead, or leave it empty to send at once.")
                )
            data["scheduled_at"] = scheduled_at
        return data

    def audience_arguments(self) -> dict:
        data = self.cleaned_data
        kind = data["audience"]
        sections = data["sections"] if kind in (AUDIENCE.SECTION, AUDIENCE.SECTIONS) else []
        guardians = data["guardians"] if kind == AUDIENCE.LIST else []
        return {
            "school": self.schools[data["school"]],
            "kind": kind,
            "sections": list(Section.objects.filter(pk__in=sections)),
            "grade": data.get("grade", "") if kind == AUDIENCE.GRADE else "",
            "guardians": list(Guardian.objects.filter(pk__in=guardians)),
        }

    def audience_key(self) -> str:
        """The audience as checked, so that "Send" goes to the families the sender saw."""
        arguments = self.audience_arguments()
        return ":".join(
            [
                str(arguments["school"].pk),
                arguments["kind"],
                ",".join(str(pk) for pk in sorted(s.pk for s in arguments["sections"])),
                arguments["grade"],
                ",".join(str(pk) for pk in sorted(g.pk for g in arguments["guardians"])),
            ]
        )


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your answer"), max_length=MAX_BODY_CHARS, widget=forms.Textarea(attrs={"rows": 4})
    )


def _compose_form(request) -> ComposeForm:
    """The compose form with what this staff member may choose: their schools, their classes
    (every class for counselors and admins), grades and families."""
    access = permissions.access_for(request.user)
    if access.staff_id is None or not access.roles:
        raise PermissionDenied
    options = broadcasts.audience_options(request.user)
    if not options.schools:
        raise PermissionDenied
    return ComposeForm(
        request.POST or None,
        initial={"audience": AUDIENCE.SECTION},
        schools=options.schools,
        audiences=options.audiences,
        sections=options.sections,
        grades=[(grade, grade) for grade in options.grades],
        guardians=options.guardians,
        may_urge=bool(access.schools_with(ROLE.ADMIN)),
    )


@require_GET
@login_required
def index(request):
    """Staff: the announcements they sent; admins: every announcement of their schools."""
    access = permissions.access_for(request.user)
    if not access.is_staff_member:
        raise PermissionDenied
    listed = broadcasts.broadcasts_for_staff(request.user).order_by("-created_at", "-pk")
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page") or 1)
    return render(
        request,
        "messaging/broadcasts/index.html",
        {
            "page": page,
            "shows_senders": access.is_superuser or bool(access.schools_with(ROLE.ADMIN)),
            "may_compose": access.staff_id is not None and bool(access.roles),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def compose(request):
    """Write an announcement: "Check audience" shows who it reaches before "Send" sends it."""
    form = _compose_form(request)
    audience, checked, preview = None, "", []
    if request.method == "POST" and form.is_valid():
        arguments = form.audience_arguments()
        key = form.audience_key()
        try:
            if request.POST.get("action") == "send" and request.POST.get("checked") == key:
                broadcast = broadcasts.broadcast_create(
                    actor=request.user,
                    subject=form.cleaned_data["subject"],
                    body=form.cleaned_data["body"],
                    is_urgent=form.cleaned_data.get("is_urgent", False),
                    scheduled_at=form.cleaned_data["scheduled_at"],
                    **arguments,
                )
                if broadcast.status == Broadcast.Status.SCHEDULED:
                    messages.success(request, _("Your announcement is scheduled."))
                else:
                    messages.success(request, _("Your announcement is on its way."))
                return redirect("broadcasts:detail", broadcast_id=broadcast.pk)
            if request.POST.get("action") == "send":
                messages.info(request, _("The audience changed: check it again, then send."))
            audience = broadcasts.broadcast_audience(actor=request.user, **arguments)
            checked = key
            preview = broadcasts.broadcast_preview(
                school=arguments["school"], body=form.cleaned_data["body"], audience=audience
            )
        except MessagingError as error:
            form.add_error(None, str(error))
    left = None
    access = permissions.access_for(request.user)
    if form.schools:
        school = next(iter(form.schools.values()))
        left = broadcasts.broadcasts_left_today(sender_id=access.staff_id, school=school)
    context = {
        "form": form,
        "audience": audience,
        "checked": checked,
        "left_today": left,
        "preview": preview,
        "preview_pending": any(family.text is None for family in preview),
    }
    if request.headers.get("X-Requested-With") == "fetch" and preview:
        return render(request, "messaging/_preview.html", context)
    return render(
        request,
        "messaging/broadcasts/compose.html",
        context,
        status=400 if form.errors else 200,
    )


@require_GET
@login_required
def detail(request, broadcast_id: int):
    """An announcement for its sender and the school's admins; admins also see who got it."""
    broadcast = get_object_or_404(broadcasts.broadcasts_for_staff(request.user), pk=broadcast_id)
    by_language = (
        broadcast.recipients.order_by()
        .values("guardian__preferred_language")
        .annotate(families=Count("pk"))
        .order_by("-families", "guardian__preferred_language")
    )
    context = {
        "broadcast": broadcast,
        "progress": broadcasts.broadcast_progress(broadcast),
        "sections": list(broadcast.sections.all()),
        "by_language": [
            (row["guardian__preferred_language"], row["families"]) for row in by_language
        ],
        "recipients": None,
    }
    if broadcasts.may_see_recipients(request.user, broadcast):
        recipients = broadcast.recipients.select_related("guardian", "student").order_by(
            "guardian__family_name", "guardian__given_name", "pk"
        )
        page = Paginator(recipients, RECIPIENTS_PAGE_SIZE).get_page(request.GET.get("page") or 1)
        statuses = broadcasts.delivery_statuses(
            broadcast, guardian_ids=[recipient.guardian_id for recipient in page]
        )
        for recipient in page:
            recipient.deliveries = statuses.get(recipient.guardian_id, [])
        context["recipients"] = page
    return render(request, "messaging/broadcasts/detail.html", context)


@require_GET
@login_required
def progress(request, broadcast_id: int):
    """The progress figures alone, which the announcement page asks for every few seconds."""
    broadcast = get_object_or_404(broadcasts.broadcasts_for_staff(request.user), pk=broadcast_id)
    return render(
        request,
        "messaging/broadcasts/_progress.html",
        {"broadcast": broadcast, "progress": broadcasts.broadcast_progress(broadcast)},
    )


@require_GET
@login_required
def received(request):
    """A family's announcements, newest first."""
    if not permissions.access_for(request.user).guardian_id:
        raise PermissionDenied
    page = Paginator(broadcasts.broadcasts_for_guardian(request.user), PAGE_SIZE).get_page(
        request.GET.get("page") or 1
    )
    return render(request, "messaging/broadcasts/received.html", {"page": page})


@require_http_methods(["GET", "POST"])
@login_required
def read(request, broadcast_id: int):
    """One announcement in the family's language, the original a tap away, and an answer that
    only the sender reads."""
    recipient = get_object_or_404(
        broadcasts.broadcasts_for_guardian(request.user).select_related("guardian"),
        broadcast_id=broadcast_id,
    )
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            thread = broadcasts.broadcast_reply(
                actor=request.user, broadcast=recipient.broadcast, body=form.cleaned_data["body"]
            )
        except MessagingError as error:
            form.add_error("body", str(error))
        else:
            messages.success(request, _("Your answer was sent."))
            return redirect("messaging:thread", thread_id=thread.pk)
    broadcasts.broadcast_mark_read(actor=request.user, broadcast=recipient.broadcast)
    language = recipient.guardian.preferred_language
    message = recipient.broadcast.thread.messages.order_by("created_at", "pk").first()
    translation = (
        message.translations.filter(language=language).first()
        if message is not None and message.language != language
        else None
    )
    return render(
        request,
        "messaging/broadcasts/read.html",
        {
            "recipient": recipient,
            "broadcast": recipient.broadcast,
            "message": message,
            "translation": translation,
            "language": language,
            "form": form,
        },
        status=400 if form.errors else 200,
    )
