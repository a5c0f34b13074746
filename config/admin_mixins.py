"""What the Django admin classes share."""

from __future__ import annotations

from django.http import HttpRequest


class ReadOnlyAdmin:
    """View only: the studio (or the API) is where these rows change, through services that validate the change,
    check the editor's revision, record it in the audit trail and move the draft revision."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
