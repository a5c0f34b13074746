"""What the studio's tests share: the htmx header that asks for a fragment instead of a page, the hostile texts
every page must show as text, and the check that they do."""

from __future__ import annotations

HX = {"HTTP_HX_REQUEST": "true"}
HOSTILE_TEXTS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")


def assert_shown_as_text(html: str, text: str) -> None:
    """`text` appears escaped in `html` and never as live markup."""
    from django.utils.html import escape

    assert text not in html, f"{text!r} reached the page unescaped"
    assert escape(text) in html, f"{text!r} is not on the page at all"
