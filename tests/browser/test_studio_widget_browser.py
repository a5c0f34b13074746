"""The studio's Website widget page in Debian chromium: an editor enables the widget, a bad origin is named by its
line, the copy button puts the snippet on the clipboard, and the secret is revealed in place (htmx)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LiveApp

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_an_editor_enables_the_widget_and_copies_the_snippet(
    page: Any, log_in: Any, live_app: LiveApp, artifacts: Path
) -> None:
    log_in("editor")
    page.goto("/studio/")
    page.locator("a", has_text="Skyway Support").first.click()
    page.locator(".studio-nav a", has_text="Website widget").click()
    page.click("text=Enable the website widget")
    assert page.locator("text=No allowed origins").is_visible()

    page.fill("#id_allowed_origins", "https://shop.example.com\nftp://files.example.com")
    page.click("text=Save widget settings")
    assert "Line 2:" in page.locator("#field-allowed_origins .field-error").inner_text()
    page.screenshot(path=str(artifacts / "studio-widget-origin-error.png"), full_page=True)

    page.fill("#id_allowed_origins", "https://shop.example.com")
    page.click("text=Save widget settings")
    assert page.locator("text=Widget settings saved.").is_visible()
    assert page.locator("text=No allowed origins").count() == 0

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("text=Copy snippet")
    page.wait_for_selector("text=Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(f'<script src="{live_app.base_url}/static/widget/decorum.js" data-agent-key="pk_')
    assert copied.endswith(" async></script>")

    page.click("text=Reveal")
    secret = page.locator("input[id^=widget-secret-value]")
    secret.wait_for()
    page.locator("text=Copy secret").wait_for(state="visible")  # the copy button is wired once the fragment settles
    assert len(secret.input_value()) >= 32
    page.screenshot(path=str(artifacts / "studio-widget.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts / "studio-widget-phone.png"), full_page=True)
