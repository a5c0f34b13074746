"""API authentication (`Authorization: Bearer <api key>`) and the role each kind of operation needs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import HttpBearer

from agents.models import ApiKey
from agents.permissions import Role, user_has_role
from agents.services import api_key_authenticate
from behavior.models import AuditSource
from behavior.services.audit import Actor
from config.errors import PermissionDenied
from config.ratelimit import client_address, enforce_rate_limit

# Who may do what. Admin keys may do everything, so admin is implied everywhere.
BEHAVIOR_READ = (Role.EDITOR, Role.TESTER, Role.OPERATOR)
BEHAVIOR_WRITE = (Role.EDITOR,)
CONVERSATION_READ = (Role.TESTER, Role.OPERATOR)
CONVERSATION_WRITE = (Role.TESTER,)
CONVERSATION_OPERATE = (Role.TESTER, Role.OPERATOR)
# Test cases and evaluation runs: the sandbox roles (operators and outsiders are refused).
EVALUATION = (Role.TESTER, Role.EDITOR)
ADMIN_ONLY: tuple[str, ...] = ()


class ApiKeyAuth(HttpBearer):
    """Resolves the bearer token to a working ApiKey (request.auth) and makes its owner the request's user
    (request.user), holding the key's roles only, so object rights apply to keys as to people (a tester's key
    sees that tester's sessions only); anything else is a 401.

    Each key may make API_RATE_LIMIT_PER_MINUTE requests a minute; an address that keeps presenting
    unknown or revoked keys is refused after API_AUTH_FAILURES_PER_MINUTE attempts (both 429).
    """

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        key = api_key_authenticate(token)
        if key is None:
            enforce_rate_limit(
                f"auth-failures:{client_address(request)}",
                settings.API_AUTH_FAILURES_PER_MINUTE,
                "Too many requests with an invalid API key from this address.",
            )
            return None
        enforce_rate_limit(
            f"api-key:{key.prefix}", settings.API_RATE_LIMIT_PER_MINUTE, "This API key made too many requests."
        )
        request.user = key.user  # type: ignore[assignment]  # not the browser's session user: the key's owner
        return key


def api_key_of(request: HttpRequest) -> ApiKey:
    key = getattr(request, "auth", None)
    if not isinstance(key, ApiKey):  # only reachable if an operation were declared with auth=None
        raise PermissionDenied("This operation needs an API key.")
    return key


def api_require_role(request: HttpRequest, roles: tuple[str, ...]) -> ApiKey:
    """The request's API key, if it acts with the admin role or one of `roles`; PermissionDenied (403) otherwise."""
    key = api_key_of(request)
    if user_has_role(key.user, Role.ADMIN, *roles):
        return key
    allowed = sorted({Role.ADMIN.value, *(str(role) for role in roles)})
    raise PermissionDenied(
        f"This API key has the {key.role} role; this operation needs {' or '.join(allowed)}.",
        details={"role": key.role, "allowed_roles": allowed},
    )


def api_actor(request: HttpRequest) -> Actor:
    """Who makes the request's changes, for the audit trail: the key's user, through the API."""
    return Actor(user=api_user(request), source=AuditSource.API)


def api_user(request: HttpRequest) -> Any:
    """The user the request's API key acts as (recorded as author of versions, sessions and changes)."""
    return api_key_of(request).user
