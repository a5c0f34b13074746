"""What every page's frame needs: the top navigation, filtered by the user's roles."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from agents.permissions import Area, user_may_open

NAVIGATION = (
    (Area.STUDIO, "studio:agent-list"),
    (Area.SANDBOX, "sandbox:home"),
    (Area.INBOX, "inbox:list"),
    (Area.ADMIN, "studio:admin-home"),
)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items: list[dict[str, Any]] = []
    for area, url_name in NAVIGATION:
        if not user_may_open(user, area):
            continue
        items.append({"area": str(area), "label": area.label, "url": reverse(url_name), "active": False})
    # The longest matching prefix is the current area (the admin pages live under the studio's path).
    current = max(
        (item for item in items if request.path.startswith(str(item["url"]))),
        key=lambda item: len(str(item["url"])),
        default=None,
    )
    if current is not None:
        current["active"] = True
    return {"nav_items": items}
