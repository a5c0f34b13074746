"""The operators' inbox (operator role; admins too): the lists page (waiting, mine, all live conversations) and
one conversation's page (history, the cause of the handoff, internal notes, take / reply / hand back)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from agents.permissions import Area, Role, user_roles
from config.access import area_required
from config.html_errors import call_refusal
from config.htmx import HtmxHttpRequest
from sessions.inbox.selectors import (
    customer_label,
    handoff_current,
    inbox_live,
    inbox_mine,
    inbox_rows,
    inbox_waiting,
    operator_notes,
)
from sessions.models import Session, SessionMode
from sessions.selectors import (
    SessionAccess,
    session_chat_events,
    session_get_for_user,
    session_last_offset,
    session_last_status,
)
from sessions.services.handoff import NOTE_MAX_CHARS, handoff_return, handoff_take, operator_note_create
from sessions.services.messages import operator_message_post
from sessions.views.trace import trace_context

ROWS_PER_SECTION = 20
PAGE = "inbox/list.html"
CONVERSATION = "inbox/conversation.html"


class NoteForm(forms.Form):
    text = forms.CharField(max_length=NOTE_MAX_CHARS, strip=True)


class HandBackForm(forms.Form):
    note = forms.CharField(max_length=NOTE_MAX_CHARS, required=False, strip=True)


class ReplyForm(forms.Form):
    text = forms.CharField(max_length=settings.MAX_CUSTOMER_MESSAGE_CHARS, strip=True)


@require_GET
@login_required
@area_required(Area.INBOX)
def inbox_list(request: HtmxHttpRequest) -> HttpResponse:
    """Three lists, each paginated on its own (`waiting`, `mine`, `live` page parameters)."""
    sections: list[dict[str, Any]] = []
    for key, title, sessions, empty in (
        (
            "waiting",
            "Waiting for a human",
            inbox_waiting(request.user),
            "Nobody is waiting. New requests for a human appear here at once.",
        ),
        ("mine", "Mine", inbox_mine(request.user), "You handle no conversation right now. Take one from the lists."),
        (
            "live",
            "All live conversations",
            inbox_live(request.user),
            "No customer talked to an agent in the last 24 hours.",
        ),
    ):
        page = Paginator(sessions, ROWS_PER_SECTION).get_page(request.GET.get(key))
        sections.append(
            {"key": key, "title": title, "page": page, "rows": inbox_rows(page.object_list), "empty": empty}
        )
    waiting_count = sections[0]["page"].paginator.count
    template = f"{PAGE}#inbox-lists" if request.htmx else PAGE
    return render(request, template, {"sections": sections, "waiting_count": waiting_count})


@require_GET
@login_required
@area_required(Area.INBOX)
def conversation(request: HtmxHttpRequest, uid: str) -> HttpResponse:
    session, access = session_get_for_user(request.user, uid, need="operate")
    context = _conversation_context(request, session, access)
    # The chat script (static/sandbox/session.js) refreshes the controls region after a change of owner.
    if request.htmx and request.htmx.target == "session-controls":
        return render(request, f"{CONVERSATION}#session-controls", context)
    if request.htmx and request.htmx.target == f"handoff-{session.uid}":
        return render(request, f"{CONVERSATION}#handoff-cause", context)
    return render(request, CONVERSATION, context)


@require_POST
@login_required
@area_required(Area.INBOX)
def take(request: HtmxHttpRequest, uid: str) -> HttpResponse:
    session, _ = session_get_for_user(request.user, uid, need="operate")
    _, refusal = call_refusal(lambda: handoff_take(session, user=request.user))
    if refusal:
        messages.error(request, refusal)
    else:
        messages.success(request, "You took the conversation: the agent stays silent until you hand it back.")
    return _back(request, session)


@require_POST
@login_required
@area_required(Area.INBOX)
def hand_back(request: HtmxHttpRequest, uid: str) -> HttpResponse:
    session, _ = session_get_for_user(request.user, uid, need="operate")
    form = HandBackForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_error(form))
        return _back(request, session)
    handoff_return(session, user=request.user, note=form.cleaned_data["note"])  # not the owner: 403 page
    messages.success(request, "Handed back to the agent.")
    return _back(request, session)


@require_POST
@login_required
@area_required(Area.INBOX)
def reply(request: HtmxHttpRequest, uid: str) -> HttpResponse:
    """Reply as the human (the page sends over the websocket when it can; this is the plain-form way)."""
    session, _ = session_get_for_user(request.user, uid, need="operate")
    form = ReplyForm(request.POST)
    error = (
        _form_error(form)
        if not form.is_valid()
        else call_refusal(lambda: operator_message_post(session, text=form.cleaned_data["text"], user=request.user))[1]
    )
    if request.htmx:
        return HttpResponse(error, status=422 if error else 204, content_type="text/plain; charset=utf-8")
    if error:
        messages.error(request, error)
    return redirect(reverse("inbox:session", kwargs={"uid": session.uid}) + "#composer")


@require_POST
@login_required
@area_required(Area.INBOX)
def note_create(request: HtmxHttpRequest, uid: str) -> HttpResponse:
    session, _ = session_get_for_user(request.user, uid, need="operate")
    form = NoteForm(request.POST)
    error = ""
    if not form.is_valid():
        error = _form_error(form)
    else:
        _, error = call_refusal(
            lambda: operator_note_create(session, user=request.user, text=form.cleaned_data["text"])
        )
    if request.htmx:
        context = {
            **_notes_context(session),
            "note_error": error,
            "note_text": "" if not error else request.POST.get("text", ""),
        }
        return render(
            request, f"{CONVERSATION}#operator-notes", {"session": session, **context}, status=422 if error else 200
        )
    if error:
        messages.error(request, error)
    return redirect(reverse("inbox:session", kwargs={"uid": session.uid}) + "#notes")


def _conversation_context(request: HtmxHttpRequest, session: Session, access: SessionAccess) -> dict[str, Any]:
    user = request.user
    owner = session.assigned_to
    is_admin = Role.ADMIN in user_roles(user)
    mine = session.mode == SessionMode.HUMAN and session.assigned_to_id == user.pk
    cause = handoff_current(session)
    cause_trace = trace_context(session, cause.trace) if cause is not None and cause.trace is not None else None
    return {
        "session": session,
        "access": access,
        "customer": customer_label(session),
        "events": session_chat_events(session),
        "last_offset": session_last_offset(session),
        "status": session_last_status(session),
        "cause": cause,
        "cause_trace": cause_trace,
        "cause_turn": cause.handoff.turn if cause is not None else None,
        "owner": owner,
        "owner_name": (owner.get_full_name() or owner.get_username()) if owner is not None else "",
        "mine": mine,
        "may_reply": session.mode == SessionMode.HUMAN and (mine or is_admin) and session.closed_at is None,
        "may_hand_back": session.mode in (SessionMode.WAITING, SessionMode.HUMAN)
        and (mine or is_admin or owner is None),
        "may_take": session.mode in (SessionMode.AUTO, SessionMode.WAITING) and session.closed_at is None,
        "max_chars": settings.MAX_CUSTOMER_MESSAGE_CHARS,
        "note_max_chars": NOTE_MAX_CHARS,
        **_notes_context(session),
    }


def _notes_context(session: Session) -> dict[str, Any]:
    return {"notes": operator_notes(session)}


def _back(request: HtmxHttpRequest, session: Session) -> HttpResponse:
    return redirect("inbox:session", uid=session.uid)


def _form_error(form: forms.Form) -> str:
    return " ".join(str(message) for errors in form.errors.values() for message in errors)
