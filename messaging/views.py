"""Pages of messaging: inboxes, a thread, a new thread. Thin: they read through the selectors,
write through the services, and answer 404 for a thread that is not the reader's."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from messaging import selectors, services
from messaging.forms import (
    CheckInForm,
    InboxFilterForm,
    LoopInForm,
    MessageForm,
    NewThreadForm,
    ReassignForm,
    TemplateChoiceForm,
)
from messaging.models import MessageTemplate, Thread
from portal import permissions
from portal.languages import family_language_choices
from portal.models import Staff


def _thread_or_404(user, thread_id: int, **options) -> selectors.ThreadView:
    try:
        return selectors.thread_for_reader(user, thread_id, **options)
    except Thread.DoesNotExist:
        raise Http404 from None


@require_GET
@login_required
def inbox(request):
    access = permissions.access_for(request.user)
    page_number = request.GET.get("page") or 1
    if not access.staff_id:
        if not access.guardian_id:
            raise Http404
        page = selectors.threads_for_guardian(request.user, page_number)
        return render(request, "messaging/family_inbox.html", {"page": page})
    sections = permissions.sections_visible_to(request.user).values_list("pk", "name")
    form = InboxFilterForm(
        request.GET or None, sections=list(sections), languages=family_language_choices()
    )
    filters = selectors.InboxFilters()
    if form.is_valid():
        data = form.cleaned_data
        filters = selectors.InboxFilters(
            section=data["section"],
            language=data["language"],
            channel=data["channel"],
            is_waiting=data["waiting"],
            is_archived=data["archived"],
            search=data["q"].strip(),
        )
    waiting, page = selectors.inbox_for_staff(request.user, filters, page_number)
    return render(
        request, "messaging/staff_inbox.html", {"form": form, "waiting": waiting, "page": page}
    )


def _colleagues(view: selectors.ThreadView) -> list[tuple[int, str]]:
    present = view.thread.participants.filter(staff__isnull=False).values("staff_id")
    colleagues = (
        Staff.objects.filter(
            memberships__school=view.thread.school, memberships__is_active=True, is_active=True
        )
        .exclude(pk__in=present)
        .distinct()
        .order_by("family_name")
    )
    return [(person.pk, str(person)) for person in colleagues]


@require_http_methods(["GET", "POST"])
@login_required
def thread(request, thread_id: int):
    view = _thread_or_404(request.user, thread_id)
    if view.thread.kind == Thread.Kind.BROADCAST and not view.is_staff_reader:
        # a family reads an announcement, and answers it, on the announcement's own page
        return redirect("broadcasts:read", broadcast_id=view.thread.broadcast.pk)
    form = MessageForm(request.POST or None)
    if request.method == "POST" and request.POST.get("action") == "preview":
        return _thread_preview(request, view, form)
    if request.method == "POST" and form.is_valid():
        try:
            services.message_post(
                actor=request.user,
                thread=view.thread,
                body=form.cleaned_data["body"],
                is_internal=view.is_staff_reader and form.cleaned_data["is_internal"],
            )
        except services.MessagingError as error:
            form.add_error("body", str(error))
        else:
            return redirect("messaging:thread", thread_id=thread_id)
    if request.method == "GET":
        services.thread_mark_read(actor=request.user, thread=view.thread)
    context = {"view": view, "form": form}
    if view.is_staff_reader:
        context["loop_in_form"] = LoopInForm(colleagues=_colleagues(view))
        context["check_in"] = view.thread.check_ins.filter(is_active=True).first()
        context["check_in_form"] = CheckInForm()
    return render(request, "messaging/thread.html", context, status=400 if form.errors else 200)


def _thread_preview(request, view: selectors.ThreadView, form: MessageForm):
    """The reply as each family of the thread will receive it; nothing is sent."""
    if not view.is_staff_reader:
        raise Http404
    context = {"view": view, "form": form}
    if form.is_valid() and not form.cleaned_data["is_internal"]:
        previews = selectors.previews_for_thread(
            user=request.user, thread=view.thread, body=form.cleaned_data["body"]
        )
        context.update(preview=previews, preview_pending=any(p.text is None for p in previews))
    if request.headers.get("X-Requested-With") == "fetch":
        return render(request, "messaging/_preview.html", context)
    context["loop_in_form"] = LoopInForm(colleagues=_colleagues(view))
    context["check_in"] = view.thread.check_ins.filter(is_active=True).first()
    context["check_in_form"] = CheckInForm()
    return render(request, "messaging/thread.html", context, status=400 if form.errors else 200)


@require_GET
@login_required
def thread_updates(request, thread_id: int):
    """The messages after `after`, as HTML for the thread page to append without a reload."""
    after = request.GET.get("after", "0")
    view = _thread_or_404(request.user, thread_id, after_id=int(after) if after.isdigit() else 0)
    return render(request, "messaging/_messages.html", {"view": view})


@require_POST
@login_required
def loop_in(request, thread_id: int):
    view = _thread_or_404(request.user, thread_id)
    form = LoopInForm(request.POST, colleagues=_colleagues(view))
    if form.is_valid():
        colleague = get_object_or_404(Staff, pk=form.cleaned_data["staff"])
        try:
            services.participant_add(actor=request.user, thread=view.thread, staff=colleague)
        except services.MessagingError as error:
            messages.error(request, str(error))
    return redirect("messaging:thread", thread_id=thread_id)


@require_POST
@login_required
def archive(request, thread_id: int):
    view = _thread_or_404(request.user, thread_id)
    try:
        services.thread_archive(actor=request.user, thread=view.thread)
    except services.MessagingError as error:
        messages.error(request, str(error))
        return redirect("messaging:thread", thread_id=thread_id)
    return redirect("messaging:inbox")


@require_http_methods(["GET", "POST"])
@login_required
def new_thread(request, student_id: int):
    """Staff write to a student's families; a family writes to one of the child's contacts or to
    the office."""
    student = get_object_or_404(permissions.students_visible_to(request.user), pk=student_id)
    access = permissions.access_for(request.user)
    as_staff = bool(access.staff_id)
    if as_staff:
        links = student.guardian_links.filter(
            is_active=True, may_receive_messages=True, guardian__is_active=True
        ).select_related("guardian")
        choices = [(str(link.guardian_id), str(link.guardian)) for link in links]
    else:
        directory = permissions.staff_visible_to(request.user).order_by("family_name")
        choices = [
            ("office", str(_("School office"))),
            *((str(person.pk), str(person)) for person in directory),
        ]
    templates = (
        list(
            MessageTemplate.objects.filter(
                Q(school=student.school) | Q(school__isnull=True), is_active=True
            )
        )
        if as_staff
        else []
    )
    template_id = request.POST.get("template") or request.GET.get("template") or ""
    template = next((t for t in templates if str(t.pk) == template_id), None)
    initial = {}
    language = student.school.default_language
    texts = template and services.template_for(template=template, language=language)
    if texts:
        initial = {
            "template": template.pk,
            "subject": texts[0],
            "body": services.template_fill(
                texts[1], student=student, school=student.school, language=language
            ),
        }
    form = NewThreadForm(request.POST or None, initial=initial, recipient_choices=choices)
    preview = []
    wants_preview = request.method == "POST" and request.POST.get("action") == "preview"
    if wants_preview and as_staff and form.is_valid():
        ids = [int(value) for value in form.cleaned_data["recipients"] if value.isdigit()]
        preview = selectors.previews_for_new_thread(
            user=request.user,
            student=student,
            guardians=list(permissions.guardians_visible_to(request.user).filter(pk__in=ids)),
            body=form.cleaned_data["body"],
            template=template,
        )
        context = {"preview": preview, "preview_pending": any(p.text is None for p in preview)}
        if request.headers.get("X-Requested-With") == "fetch":
            return render(request, "messaging/_preview.html", context)
    elif request.method == "POST" and not wants_preview and form.is_valid():
        chosen = form.cleaned_data["recipients"]
        ids = [int(value) for value in chosen if value.isdigit()]
        try:
            created = services.thread_start(
                actor=request.user,
                student=student,
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                guardians=list(permissions.guardians_visible_to(request.user).filter(pk__in=ids))
                if as_staff
                else [],
                staff=[] if as_staff else list(Staff.objects.filter(pk__in=ids)),
                template=template,
            )
        except services.MessagingError as error:
            form.add_error(None, str(error))
        else:
            return redirect("messaging:thread", thread_id=created.pk)
    template_form = (
        TemplateChoiceForm(initial={"template": template_id}, templates=templates)
        if templates
        else None
    )
    return render(
        request,
        "messaging/new_thread.html",
        {
            "form": form,
            "student": student,
            "as_staff": as_staff,
            "template_form": template_form,
            "preview": preview,
            "preview_pending": any(family.text is None for family in preview),
        },
    )


@require_POST
@login_required
def check_in(request, thread_id: int):
    """Sets (or, with `stop`, ends) the thread's weekly check-in."""
    view = _thread_or_404(request.user, thread_id)
    try:
        if "stop" in request.POST:
            services.check_in_stop(actor=request.user, thread=view.thread)
        else:
            form = CheckInForm(request.POST)
            if not form.is_valid():
                raise services.MessagingError(_("Choose a day and an end date."))
            services.check_in_schedule(
                actor=request.user,
                thread=view.thread,
                weekday=form.cleaned_data["weekday"],
                ends_on=form.cleaned_data["ends_on"],
            )
    except services.MessagingError as error:
        messages.error(request, str(error))
    return redirect("messaging:thread", thread_id=thread_id)


@require_POST
@login_required
def translation_flag(request, thread_id: int, message_id: int):
    view = _thread_or_404(request.user, thread_id)
    message = get_object_or_404(view.thread.messages.filter(is_internal=False), pk=message_id)
    try:
        services.translation_flag(actor=request.user, message=message)
    except services.MessagingError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Thank you. A colleague who speaks your language will look at it.")
        )
    return redirect("messaging:thread", thread_id=thread_id)


def _school_staff_choices(school_ids) -> list[tuple[int, str]]:
    staff = (
        Staff.objects.filter(
            memberships__school__in=school_ids, memberships__is_active=True, is_active=True
        )
        .distinct()
        .order_by("family_name", "given_name")
    )
    return [(person.pk, str(person)) for person in staff]


@require_GET
@login_required
def overdue(request):
    """For admins: every family waiting past the school's answer target, with a way to give the
    conversation to someone who can answer."""
    access = permissions.access_for(request.user)
    schools = access.schools_with("admin")
    if not schools and not access.is_superuser:
        raise Http404
    rows = selectors.overdue_for_admin(request.user)
    form = ReassignForm(colleagues=_school_staff_choices({row.thread.school_id for row in rows}))
    return render(request, "messaging/overdue.html", {"rows": rows, "form": form})


@require_POST
@login_required
def reassign(request, thread_id: int):
    view = _thread_or_404(request.user, thread_id)
    form = ReassignForm(request.POST, colleagues=_school_staff_choices([view.thread.school_id]))
    if form.is_valid():
        try:
            services.thread_reassign(
                actor=request.user,
                thread=view.thread,
                staff=Staff.objects.get(pk=form.cleaned_data["staff"]),
            )
        except services.MessagingError as error:
            messages.error(request, str(error))
    return redirect("messaging:overdue")
