"""The sandbox composer in Debian chromium: a paste over the message limit is kept whole, the counter turns red
and sending explains the limit; a whitespace-only message says why it was not sent; neither reaches the server.
A message within the limit is then sent as usual."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LiveApp
from tests.browser.test_sandbox_browser import start_session

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LIMIT = 4000  # settings.MAX_CUSTOMER_MESSAGE_CHARS in the live app (the default)
PHONE = {"width": 390, "height": 844}


def watch_what_is_sent(page: Any) -> list[str]:
    """The texts the page sends as the customer, over the websocket or by posting the form."""
    sent: list[str] = []

    def on_socket(socket: Any) -> None:
        def on_frame(payload: Any) -> None:
            try:
                frame = json.loads(payload if isinstance(payload, str) else payload.decode())
            except ValueError:
                return
            if frame.get("type") == "message":
                sent.append(str(frame.get("text")))

        socket.on("framesent", on_frame)

    page.on("websocket", on_socket)
    page.on(
        "request",
        lambda request: (
            sent.append("POST " + request.url)
            if request.method == "POST" and request.url.endswith("/messages/")
            else None
        ),
    )
    return sent


def counter_state(page: Any) -> dict[str, Any]:
    return dict(
        page.eval_on_selector(
            "#composer .counter",
            """counter => ({hidden: counter.hidden, text: counter.textContent, over: counter.classList.contains('over'),
                          color: getComputedStyle(counter).color})""",
        )
    )


def test_a_long_paste_is_kept_and_explained_and_a_blank_message_says_why(
    page: Any, log_in: Any, live_app: LiveApp, artifacts: Path
) -> None:
    sent = watch_what_is_sent(page)
    log_in("tester")
    start_session(page, customer="Maria Lopez")
    field = page.locator("#composer-text")
    error = page.locator("#composer .composer-error")

    # Short text: no counter.
    field.click()
    page.keyboard.insert_text("Hello")
    assert counter_state(page)["hidden"] is True

    # Near the limit: the counter appears, not yet red.
    field.fill("")
    page.keyboard.insert_text("n" * int(LIMIT * 0.85))
    near = counter_state(page)
    assert near["hidden"] is False and near["over"] is False and near["text"] == f"{int(LIMIT * 0.85)} / {LIMIT}"

    # A paste over the limit: kept whole, the counter red.
    pasted = "p" * (LIMIT + 250)
    field.fill("")
    page.keyboard.insert_text(pasted)
    assert field.input_value() == pasted, "the paste was cut"
    over = counter_state(page)
    assert over["hidden"] is False and over["over"] is True and over["text"] == f"{LIMIT + 250} / {LIMIT}"
    assert over["color"] == "rgb(180, 35, 24)", over["color"]  # --error

    # Sending explains the limit and keeps the text.
    page.press("#composer-text", "Enter")
    assert "at most 4000 characters" in error.inner_text() and "Shorten it by 250" in error.inner_text()
    assert field.input_value() == pasted
    page.screenshot(path=str(artifacts / "sandbox-composer-too-long.png"))
    page.set_viewport_size(PHONE)
    page.locator("#composer").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "sandbox-composer-too-long-phone.png"))
    page.set_viewport_size({"width": 1440, "height": 900})

    # Whitespace only: says why.
    field.fill("")
    page.keyboard.insert_text("   \n  \t ")
    page.click("#composer button[type=submit]")
    assert "only spaces and line breaks" in error.inner_text()
    page.screenshot(path=str(artifacts / "sandbox-composer-blank.png"))

    page.wait_for_timeout(500)
    assert sent == [], f"a refused message reached the server: {[text[:40] for text in sent]}"
    assert page.locator("#chat-log .event.from-customer").count() == 0

    # Typing a real message clears the refusal, and it is sent.
    field.fill("")
    page.keyboard.insert_text("Where is my bag?")
    assert error.inner_text() == ""
    page.press("#composer-text", "Enter")
    page.wait_for_selector("#chat-log .event.from-customer")
    assert sent == ["Where is my bag?"]
    assert field.input_value() == ""
