"""The studio's admin area (admins only): users with their roles, and API keys (each owned by a user, shown
once when created, listed with its owner, role and last use, revocable)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agents.models import ApiKey
from agents.permissions import ALL_ROLES, Area, require_area, user_roles
from agents.selectors import api_key_get, api_key_list, user_get, user_list
from agents.services import api_key_create, api_key_revoke, user_create, user_update
from behavior.forms.admin import ApiKeyCreateForm, UserCreateForm, UserUpdateForm
from config.html_errors import form_call, form_status
from config.htmx import HtmxHttpRequest

PER_PAGE = 50
View = Callable[..., HttpResponse]


def admin_view(view: View) -> View:
    """Login, then the admin role (everyone else gets the styled 403)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        require_area(request.user, Area.ADMIN)
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _query(request: HttpRequest, *names: str) -> dict[str, str]:
    values = {name: (request.GET.get(name) or "").strip()[:200] for name in names}
    return {name: value for name, value in values.items() if value}


@require_GET
@admin_view
def admin_home(request: HtmxHttpRequest) -> HttpResponse:
    users = user_list()
    context = {
        "section": "home",
        "user_count": users.count(),
        "inactive_count": users.filter(is_active=False).count(),
        "key_count": api_key_list().filter(revoked_at__isnull=True).count(),
        "recent_keys": list(api_key_list()[:5]),
    }
    return render(request, "studio/admin/home.html", context)


# --------------------------------------------------------------------------------------------------- users


@require_GET
@admin_view
def admin_user_list(request: HtmxHttpRequest) -> HttpResponse:
    filters = _query(request, "q", "role")
    role = filters.get("role") if filters.get("role") in ALL_ROLES else None
    users = user_list(q=filters.get("q"), role=role)
    page = Paginator(users, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "section": "users",
        "page": page,
        "users": [(user, sorted(user_roles(user))) for user in page.object_list],
        "q": filters.get("q", ""),
        "role": role or "",
        "roles": sorted(ALL_ROLES),
        "query": urlencode(filters),
    }
    template = "studio/admin/user_list.html#user-table" if request.htmx else "studio/admin/user_list.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@admin_view
def admin_user_create(request: HtmxHttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = form_call(form, lambda: user_create(**form.service_data()))
        if created is not None:
            messages.success(request, f"User {created.get_username()} created.")
            return redirect("studio:admin-user-list")
    status = form_status(form) if request.method == "POST" else 200
    template = "studio/admin/user_form.html#user-form" if request.htmx else "studio/admin/user_form.html"
    return render(request, template, {"section": "users", "form": form, "subject": None}, status=status)


@require_http_methods(["GET", "POST"])
@admin_view
def admin_user_update(request: HtmxHttpRequest, user_id: int) -> HttpResponse:
    subject = user_get(user_id)
    held = sorted(role.name for role in subject.groups.all())
    form = UserUpdateForm(request.POST or None, initial={"roles": held, "is_active": subject.is_active})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        updated = form_call(
            form, lambda: user_update(subject, roles=data["roles"], is_active=data["is_active"], by=request.user)
        )
        if updated is not None:
            messages.success(request, f"User {subject.get_username()} saved.")
            return redirect("studio:admin-user-list")
    status = form_status(form) if request.method == "POST" else 200
    context = {
        "section": "users",
        "form": form,
        "subject": subject,
        "keys": list(api_key_list(user_id=subject.pk)),
        "is_self": subject.pk == request.user.pk,
    }
    template = "studio/admin/user_form.html#user-form" if request.htmx else "studio/admin/user_form.html"
    return render(request, template, context, status=status)


# ------------------------------------------------------------------------------------------------ API keys


@require_GET
@admin_view
def admin_key_list(request: HtmxHttpRequest) -> HttpResponse:
    filters = _query(request, "q", "state")
    keys = api_key_list(q=filters.get("q"))
    if filters.get("state") == "active":
        keys = keys.filter(revoked_at__isnull=True)
    elif filters.get("state") == "revoked":
        keys = keys.filter(revoked_at__isnull=False)
    page = Paginator(keys, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "section": "keys",
        "page": page,
        "keys": page.object_list,
        "q": filters.get("q", ""),
        "state": filters.get("state", ""),
        "query": urlencode(filters),
    }
    template = "studio/admin/key_list.html#key-table" if request.htmx else "studio/admin/key_list.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@admin_view
def admin_key_create(request: HtmxHttpRequest) -> HttpResponse:
    """Create a key and show it on the answer to this POST only: it is never stored or shown again."""
    form = ApiKeyCreateForm(request.POST or None, initial={"user": request.GET.get("user") or None})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        created = form_call(
            form,
            lambda: api_key_create(user=data["user"], name=data["name"], role=data["role"], created_by=request.user),
        )
        if created is not None:
            key, raw = created
            response = render(request, "studio/admin/key_created.html", {"section": "keys", "key": key, "raw": raw})
            response["Cache-Control"] = "no-store"
            return response
    status = form_status(form) if request.method == "POST" else 200
    template = "studio/admin/key_form.html#key-form" if request.htmx else "studio/admin/key_form.html"
    return render(request, template, {"section": "keys", "form": form}, status=status)


@require_POST
@admin_view
def admin_key_revoke(request: HtmxHttpRequest, key_id: int) -> HttpResponse:
    key: ApiKey = api_key_revoke(api_key_get(key_id))
    if request.htmx:
        return render(request, "studio/admin/key_list.html#key-row", {"key": key})
    messages.success(request, f"API key {key.name} (dec_{key.prefix}_…) revoked: it stops working at once.")
    if request.POST.get("next") == "user" and key.user_id is not None:
        return redirect("studio:admin-user-update", user_id=key.user_id)
    return redirect("studio:admin-key-list")
