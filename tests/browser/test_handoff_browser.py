"""Handoff in Debian chromium with two browser contexts, a customer on a site that embeds the widget and an
operator in the inbox: the customer asks for a person, the inbox shows it live (no reload), the operator takes
it and replies (the widget shows the human's message with their name), hands it back with a note, and the agent
answers the customer's next message. Screenshots of the inbox and the conversation page, desktop and phone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import DEMO_PASSWORD, LiveApp
from tests.browser.responder import REPLY
from tests.browser.widget_host import HostSite, host_site

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AGENT = "Skyway Support"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TURN_TIMEOUT_MS = 45_000
OPERATOR_REPLY = "Hi, Dana here from Skyway. I can add the extra bag for you."
NOTE = "Extra bag added to the booking; confirm the allowance if asked."
SET_OPERATOR_NAME = (
    "from django.contrib.auth import get_user_model; "
    "get_user_model().objects.filter(username='operator').update(first_name='Dana', last_name='Reyes')"
)


@pytest.fixture(scope="module")
def site(live_app: LiveApp) -> Iterator[HostSite]:
    with host_site(live_app.base_url) as running:
        yield running


@pytest.fixture
def contexts(chromium: Any) -> Iterator[Any]:
    """Fresh browser contexts; any page error or console error in them fails the test."""
    opened: list[Any] = []
    errors: list[str] = []

    def open_context(*, base_url: str | None = None, viewport: dict[str, int] = DESKTOP) -> Any:
        context = chromium.new_context(viewport=viewport, base_url=base_url)
        context.set_default_timeout(20_000)
        opened.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        return page

    yield open_context
    for context in opened:
        context.close()
    assert not errors, f"a page logged errors: {errors}"


def log_in_as_operator(page: Any) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_load_state()


def widget_send(page: Any, text: str) -> None:
    page.locator("#dw-input").fill(text)
    page.locator("#dw-input").press("Enter")


def wait_for_agent_replies(page: Any, count: int) -> None:
    page.wait_for_function(
        """count => {
          const log = document.getElementById("decorum-widget").shadowRoot.getElementById("dw-log");
          const replies = [...log.querySelectorAll('.dw-msg[data-source=agent][data-offset]')]
            .filter(node => node.textContent.includes("Happy to help"));
          return replies.length >= count && !log.querySelector(".dw-streaming");
        }""",
        arg=count,
        timeout=TURN_TIMEOUT_MS,
    )


def test_a_customer_asks_for_a_person_an_operator_takes_it_replies_and_hands_it_back(
    live_app: LiveApp, site: HostSite, contexts: Any, artifacts: Path
) -> None:
    key = json.loads(live_app.manage("widget_key", AGENT, "--origin", site.origin))
    live_app.manage("shell", "-c", SET_OPERATOR_NAME)

    # The operator watches the inbox; nobody waits yet.
    inbox = contexts(base_url=live_app.base_url)
    log_in_as_operator(inbox)
    inbox.goto("/inbox/")
    inbox.wait_for_selector("#inbox[data-connection=live]", state="attached")
    assert "Nobody is waiting." in inbox.locator("#inbox-waiting").inner_text()
    assert not inbox.title().startswith("(")

    # The customer talks to the agent, then asks for a person.
    customer = contexts(viewport=DESKTOP)
    customer.goto(site.add_page("/help", public_key=key["public_key"]))
    customer.wait_for_selector("#decorum-widget[data-state=ready]", state="attached")
    customer.locator("#dw-launcher").click()
    widget_send(customer, "Hello! How much baggage can I bring?")
    wait_for_agent_replies(customer, 1)
    customer.locator("#dw-handoff").click()
    customer.wait_for_selector("#decorum-widget[data-mode=waiting]", state="attached")

    # The inbox shows it at once, without a reload, and counts it in the title.
    row = inbox.locator("#inbox-waiting .inbox-row").first
    row.wait_for(state="visible", timeout=15_000)
    assert inbox.evaluate("performance.getEntriesByType('navigation').length") == 1  # still the first load
    line = " ".join(row.inner_text().split())
    assert line.startswith(f"Website visitor · {AGENT} · Widget · waiting")
    assert "Customer: Hello! How much baggage can I bring?" in line or "Agent: Happy to help" in line
    inbox.wait_for_function("document.title.startsWith('(1) Inbox')")
    inbox.screenshot(path=str(artifacts / "inbox-list-desktop.png"), full_page=True)
    inbox.set_viewport_size(PHONE)
    inbox.screenshot(path=str(artifacts / "inbox-list-phone.png"), full_page=True)
    inbox.set_viewport_size(DESKTOP)

    # The operator opens it: the cause of the handoff is shown, then takes it.
    row.locator("a").click()
    inbox.wait_for_selector("#chat[data-connection=live]", state="attached")
    assert "The customer asked for a human" in inbox.locator(".inbox-side").inner_text()
    inbox.locator("#take").click()
    inbox.locator("#operator-text").wait_for(state="visible")
    inbox.wait_for_selector("#chat[data-connection=live]", state="attached")
    customer.wait_for_selector("#decorum-widget[data-mode=human]", state="attached", timeout=15_000)

    # Typing is shown to the customer with the operator's name; the reply comes from Dana.
    inbox.locator("#operator-text").press_sequentially("Hi, Dana", delay=30)
    customer.wait_for_selector("#dw-typing[data-who=operator]", timeout=10_000)
    assert "Dana" in customer.locator("#dw-typing").inner_text()
    inbox.locator("#operator-text").fill(OPERATOR_REPLY)
    inbox.locator("#operator-text").press("Enter")
    human = customer.locator("#dw-log .dw-msg[data-source=human_operator]").first
    human.wait_for(state="visible", timeout=15_000)
    assert human.locator(".dw-text").inner_text() == OPERATOR_REPLY
    assert "Dana" in human.locator(".dw-author").inner_text()
    inbox.wait_for_selector(f"#chat-log .from-human_operator:has-text('{OPERATOR_REPLY}')")

    # An internal note, never shown to the customer.
    inbox.locator("#note-text").fill("Frequent flyer, be generous.")
    inbox.locator("#note-form button[type=submit]").click()
    inbox.wait_for_selector("#operator-notes .note-text:has-text('Frequent flyer, be generous.')")
    inbox.screenshot(path=str(artifacts / "inbox-conversation-desktop.png"))
    inbox.set_viewport_size(PHONE)
    inbox.screenshot(path=str(artifacts / "inbox-conversation-phone.png"), full_page=True)
    inbox.set_viewport_size(DESKTOP)

    # Hand back with a note; the agent answers the customer's next message.
    inbox.locator("#hand-back-note").fill(NOTE)
    inbox.locator("#hand-back").click()
    inbox.locator("#take").wait_for(state="visible")
    customer.wait_for_selector("#decorum-widget[data-mode=auto]", state="attached", timeout=15_000)
    widget_send(customer, "Thanks! And how much baggage can I bring on the way back?")
    wait_for_agent_replies(customer, 2)
    replies = customer.locator("#dw-log .dw-msg[data-source=agent][data-offset] .dw-text").all_inner_texts()
    assert replies[-1] == REPLY
    shown = customer.locator("#dw-log").inner_text()
    assert NOTE not in shown and "Frequent flyer" not in shown
    customer.screenshot(path=str(artifacts / "inbox-widget-after-handback-desktop.png"))
