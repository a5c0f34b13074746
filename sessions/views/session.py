"""One sandbox session: the chat page, one event as a fragment, posting as the customer or as the human
operator, switching the mode, branching from an edited message, regenerating a reply, flagging a message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from agents.selectors import llm_status
from config.html_errors import call_refusal
from config.htmx import HtmxHttpRequest
from sessions.models import Session, SessionMode
from sessions.selectors import (
    SessionAccess,
    event_shown_in_chat,
    session_access,
    session_chat_events,
    session_event,
    session_get_for_user,
    session_last_offset,
    session_last_status,
    sessions_visible_to,
)
from sessions.services.messages import customer_message_post, operator_message_post, session_mode_set
from sessions.services.sandbox import flag_create, session_branch, session_regenerate
from sessions.views.forms import FlagForm, MessageForm, ModeForm

# A refused message is given back in the composer; beyond this it is a paste gone wrong, not a message to fix.
MESSAGE_GIVEN_BACK_MAX_CHARS = 100_000


@require_GET
@login_required
def session_detail(request: HtmxHttpRequest, uid: str) -> HttpResponse:
    session, access = session_get_for_user(request.user, uid)
    context = session_context(request, session, access)
    if request.htmx and request.htmx.target == "session-controls":
        return render(request, "sessions/session.html#session-controls", context)
    return render(request, "sessions/session.html", context)


def session_context(request: HtmxHttpRequest, session: Session, access: SessionAccess) -> dict[str, Any]:
    visible = sessions_visible_to(request.user)
    parent = visible.filter(pk=session.parent_id).first() if session.parent_id else None
    return {
        "session": session,
        "access": access,
        "events": session_chat_events(session),
        "last_offset": session_last_offset(session),
        "status": session_last_status(session),
        "parent": parent,
        "branches": list(visible.filter(parent=session).order_by("created_at")),
        "llm": llm_status(session.agent),
        "max_chars": settings.MAX_CUSTOMER_MESSAGE_CHARS,
        "human_mode": session.mode == SessionMode.HUMAN,
        "panel": request.GET.get("panel") == "1",
    }


@require_GET
@login_required
def session_event_fragment(request: HtmxHttpRequest, uid: str, offset: int) -> HttpResponse:
    """One event as the chat renders it (the live chat fetches each new event's fragment)."""
    session, access = session_get_for_user(request.user, uid)
    event = session_event(session, offset=offset)
    if not event_shown_in_chat(event):
        return HttpResponse("")
    context = {"session": session, "access": access, "event": event, "max_chars": settings.MAX_CUSTOMER_MESSAGE_CHARS}
    return render(request, "sessions/session.html#event", context)


@require_POST
@login_required
def message_post(request: HtmxHttpRequest, uid: str) -> HttpResponse:
    """Post as the customer (the page sends over the websocket when it can; this is the fallback)."""
    session, _ = session_get_for_user(request.user, uid, need="chat")
    return _post_text(request, session, lambda text: customer_message_post(session, text=text), role="customer")


@require_POST
@login_required
def operator_message(request: HtmxHttpRequest, uid: str) -> HttpResponse:
    session, _ = session_get_for_user(request.user, uid, need="operate")
    return _post_text(
        request, session, lambda text: operator_message_post(session, text=text, user=request.user), role="operator"
    )


@require_POST
@login_required
def mode_set(request: HtmxHttpRequest, uid: str) -> HttpResponse:
    session, _ = session_get_for_user(request.user, uid, need="operate")
    form = ModeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Unknown mode.")
        return redirect("sandbox:session", uid=session.uid)
    _, refusal = call_refusal(lambda: session_mode_set(session, mode=form.cleaned_data["mode"], user=request.user))
    if refusal:
        messages.error(request, refusal)
    elif form.cleaned_data["mode"] == SessionMode.HUMAN:
        messages.success(request, "You took over: the agent stays silent.")
    else:
        messages.success(request, "Handed back to the agent.")
    return redirect("sandbox:session", uid=session.uid)


@require_POST
@login_required
def branch(request: HtmxHttpRequest, uid: str, offset: int) -> HttpResponse:
    """Edit the customer message at `offset`: a new session from that point, the original intact."""
    session, _ = session_get_for_user(request.user, uid, need="chat")
    form = MessageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_error(form))
        return redirect("sandbox:session", uid=session.uid)
    new_session, refusal = call_refusal(
        lambda: session_branch(session, offset=offset, text=form.cleaned_data["text"], user=request.user)
    )
    if new_session is None:
        messages.error(request, refusal)
        return redirect("sandbox:session", uid=session.uid)
    messages.success(request, f"Branched from message #{offset}; the original session is unchanged.")
    return _redirect(request, reverse("sandbox:session", kwargs={"uid": new_session.uid}))


@require_POST
@login_required
def regenerate(request: HtmxHttpRequest, uid: str, offset: int) -> HttpResponse:
    session, _ = session_get_for_user(request.user, uid, need="chat")
    new_session, refusal = call_refusal(lambda: session_regenerate(session, offset=offset, user=request.user))
    if new_session is None:
        messages.error(request, refusal)
        return redirect("sandbox:session", uid=session.uid)
    messages.success(request, f"Regenerating reply #{offset} in a new branch; the original session is unchanged.")
    return _redirect(request, reverse("sandbox:session", kwargs={"uid": new_session.uid}))


@require_POST
@login_required
def flag(request: HtmxHttpRequest, uid: str, offset: int) -> HttpResponse:
    session, access = session_get_for_user(request.user, uid, need="flag")
    form = FlagForm(request.POST)
    error = ""
    if not form.is_valid():
        error = _form_error(form)
    else:
        _, error = call_refusal(
            lambda: flag_create(session, offset=offset, reason=form.cleaned_data["reason"], user=request.user)
        )
    if request.htmx:
        context = {
            "session": session,
            "access": access,
            "event": session_event(session, offset=offset),
            "flag_error": error,
            "max_chars": settings.MAX_CUSTOMER_MESSAGE_CHARS,
        }
        return render(request, "sessions/session.html#event", context, status=422 if error else 200)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Message #{offset} flagged.")
    return redirect(reverse("sandbox:session", kwargs={"uid": session.uid}) + f"#event-{offset}")


def _post_text(request: HtmxHttpRequest, session: Session, post: Callable[[str], Any], *, role: str) -> HttpResponse:
    form = MessageForm(request.POST)
    error = _form_error(form) if not form.is_valid() else call_refusal(lambda: post(form.cleaned_data["text"]))[1]
    if request.htmx:
        # The message itself reaches the page over the websocket; only an error needs an answer here.
        return HttpResponse(error, status=422 if error else 204, content_type="text/plain; charset=utf-8")
    if error:
        context = session_context(request, session, session_access(request.user, session))
        composer_shown = context["access"].chat if role == "customer" else context["access"].operate
        if composer_shown and (role == "customer" or context["human_mode"]):
            # The page again with the refusal beside the composer and the text still in it (never lost or cut).
            text = str(request.POST.get("text", ""))[:MESSAGE_GIVEN_BACK_MAX_CHARS]
            context.update(composer_role=role, composer_error=error, composer_text=text)
            return render(request, "sessions/session.html", context, status=422)
        messages.error(request, error)
    return redirect(reverse("sandbox:session", kwargs={"uid": session.uid}) + "#composer")


def _redirect(request: HtmxHttpRequest, url: str) -> HttpResponse:
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _form_error(form: Any) -> str:
    return " ".join(message for errors in form.errors.values() for message in errors)
