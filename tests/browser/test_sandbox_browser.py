"""The sandbox in Debian chromium: log in, chat with the demo agent over the websocket while the reply streams,
read why it replied, flag and branch, take over as a human, and survive a dropped websocket."""

from __future__ import annotations

import re
import time
import urllib.error
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LiveApp
from tests.browser.responder import REPLY

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TURN_TIMEOUT_MS = 45_000

# Records the streaming bubble's text length at every DOM change, to prove the reply arrived in pieces.
WATCH_STREAM = """
() => {
  window.__streamLengths = [];
  const stream = document.getElementById("chat-stream");
  new MutationObserver(() => {
    const text = stream.querySelector(".streaming .bubble-text");
    if (text) window.__streamLengths.push(text.textContent.length);
  }).observe(stream, {subtree: true, childList: true, characterData: true});
}
"""

# Keeps every WebSocket the page opens, so a test can drop the connection.
CAPTURE_SOCKETS = """
window.__sockets = [];
const NativeWebSocket = window.WebSocket;
window.WebSocket = function (url, protocols) {
  const socket = protocols === undefined ? new NativeWebSocket(url) : new NativeWebSocket(url, protocols);
  window.__sockets.push(socket);
  return socket;
};
window.WebSocket.prototype = NativeWebSocket.prototype;
window.WebSocket.OPEN = NativeWebSocket.OPEN;
"""


def start_session(page: Any, *, customer: str) -> None:
    """From the sandbox page: start a draft session of the demo agent for `customer`, wait until live."""
    page.goto("/sandbox/")
    assert page.locator("#agent-select option:checked").inner_text() == "Skyway Support"
    value = page.locator("#id_customer option", has_text=customer).first.get_attribute("value")
    page.select_option("#id_customer", value=value)
    page.click("#start-session button[type=submit]")
    page.wait_for_url(re.compile(r"/sandbox/sessions/[0-9a-f-]+/$"))
    page.wait_for_selector("#connection[data-state=live]")


def send_as_customer(page: Any, text: str) -> None:
    page.fill("#composer-text", text)
    page.press("#composer-text", "Enter")


def wait_for_reply(page: Any, count: int = 1) -> Any:
    """The `count`-th final (non-preamble) agent reply, once the turn is over."""
    page.wait_for_function(
        """count => [...document.querySelectorAll('#chat-log .event.from-agent:not(.pending) .bubble-text')]
                 .filter(node => !node.closest('.event').querySelector('.badge')?.textContent.includes('preamble'))
                 .length >= count""",
        arg=count,
        timeout=TURN_TIMEOUT_MS,
    )
    page.wait_for_selector("#chat-status[data-state=ready]", timeout=TURN_TIMEOUT_MS)
    return page.locator("#chat-log .event.from-agent").last


def test_a_tester_chats_with_the_demo_agent_and_sees_why_it_replied(
    page: Any, log_in: Any, live_app: LiveApp, artifacts: Path
) -> None:
    log_in("tester")
    assert page.url.endswith("/sandbox/")  # the home page sends testers to the sandbox
    assert page.locator("#agent-select option:checked").inner_text() == "Skyway Support"
    page.screenshot(path=str(artifacts / "sandbox-01-start.png"), full_page=True)

    start_session(page, customer="Maria Lopez")
    page.evaluate(WATCH_STREAM)
    send_as_customer(page, "Hello! How much baggage can I bring?")
    page.wait_for_selector("#chat-log .event.from-customer .bubble-text >> text=How much baggage can I bring?")
    page.wait_for_selector("#chat-stream .streaming", timeout=TURN_TIMEOUT_MS)
    page.screenshot(path=str(artifacts / "sandbox-02-streaming.png"))
    reply = wait_for_reply(page)
    assert reply.locator(".bubble-text").inner_text() == REPLY
    lengths = page.evaluate("window.__streamLengths")
    assert len(set(lengths)) >= 3, f"the reply did not stream in pieces: {lengths}"
    assert page.locator("#chat-stream .streaming").count() == 0  # the stream bubble gave way to the message
    assert page.locator("#chat-log .event-tool").count() >= 1  # the tool-fed variable's call, inline
    page.screenshot(path=str(artifacts / "sandbox-03-replied.png"))

    reply.locator("a.why").click()
    matched = page.locator("#panel article.guideline").filter(has_text="baggage-allowance")
    matched.wait_for()
    assert "The customer asks how much baggage they may bring" in matched.locator(".rationale").inner_text()
    assert re.fullmatch(r"0\.\d\d", matched.locator(".score").inner_text())
    assert re.search(r"/studio/agents/\d+/guidelines/\d+/$", matched.locator("a.guideline-key").get_attribute("href"))
    outcomes = matched.locator(".outcomes").inner_text()
    assert "Condition held" in outcomes and "Active" in outcomes  # matched and resolved, labelled apart
    panel = page.locator("#panel")
    assert "active after relationships" in panel.locator(".funnel").inner_text()
    assert "matching" in panel.locator("table").first.inner_text()  # the LLM calls
    assert int(panel.locator(".token-total").inner_text().split()[0]) > 0
    assert panel.locator(".stages li").count() >= 3
    page.screenshot(path=str(artifacts / "sandbox-04-explained.png"))
    panel.locator(".stages").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "sandbox-04b-explained-calls-and-timings.png"))


def test_flagging_a_reply_and_editing_a_message_into_a_branch(
    page: Any, log_in: Any, live_app: LiveApp, artifacts: Path
) -> None:
    log_in("tester")
    start_session(page, customer="James Carter")
    original_url = page.url
    send_as_customer(page, "How much baggage can I bring?")
    reply = wait_for_reply(page)

    reply.locator("details.flag summary").click()
    reply.locator("input[name=reason]").fill("   ")  # passes the browser's `required`, not the server
    reply.locator("details.flag button[type=submit]").click()
    page.wait_for_selector("details.flag[open] .error >> text=Say why you flag this message.")
    reply = page.locator("#chat-log .event.from-agent").last  # the fragment was swapped in
    reply.locator("input[name=reason]").fill("Should mention the Standard fare price")
    reply.locator("details.flag button[type=submit]").click()
    page.wait_for_selector(".flag-note >> text=Should mention the Standard fare price")

    customer_message = page.locator("#chat-log .event.from-customer").first
    customer_message.locator("details.edit summary").click()
    customer_message.locator("textarea[name=text]").fill("Hi! How many bags can I bring on a Flex fare?")
    customer_message.locator("details.edit button[type=submit]").click()
    page.wait_for_url(lambda url: url != original_url and "/sandbox/sessions/" in url)
    assert "Branched from" in page.locator(".branch-info").first.inner_text()
    page.wait_for_selector("#connection[data-state=live]")
    branch_reply = wait_for_reply(page)
    assert branch_reply.locator(".bubble-text").inner_text() == REPLY
    assert page.locator("#chat-log .event.from-customer .bubble-text").all_inner_texts() == [
        "Hi! How many bags can I bring on a Flex fare?"
    ]
    page.screenshot(path=str(artifacts / "sandbox-05-branch.png"))

    page.locator(".branch-info a").first.click()
    page.wait_for_url(original_url + "#event-1")
    assert page.locator("#chat-log .event.from-customer .bubble-text").all_inner_texts() == [
        "How much baggage can I bring?"
    ]
    assert "Branches of this session" in page.content()
    page.goto(page.locator("a", has_text="Flags").first.get_attribute("href"))
    assert page.locator("#flag-list").get_by_text("Should mention the Standard fare price").count() == 1
    page.screenshot(path=str(artifacts / "sandbox-07-flags.png"))
    page.goto("/sandbox/")
    rows = page.locator("#session-list tbody tr")
    assert rows.count() >= 2
    assert page.locator("#session-list .badge", has_text="branch").count() >= 1
    page.screenshot(path=str(artifacts / "sandbox-08-sessions.png"))


def test_taking_over_as_a_human_and_handing_back(page: Any, log_in: Any, live_app: LiveApp, artifacts: Path) -> None:
    log_in("tester")
    start_session(page, customer="Maria Lopez")
    page.click("#take-over")
    page.wait_for_selector("#operator-composer")
    page.wait_for_selector("#connection[data-state=live]")
    send_as_customer(page, "Can I talk to a person?")
    page.wait_for_selector("#chat-log .event.from-customer")
    page.fill("#operator-text", "Hi Maria, Sam from Skyway here. How can I help?")
    page.press("#operator-text", "Enter")
    human = page.locator("#chat-log .event.from-human_operator .bubble-text")
    human.wait_for()
    assert human.inner_text() == "Hi Maria, Sam from Skyway here. How can I help?"
    page.wait_for_timeout(1500)  # the agent stays silent while a human owns the session
    assert page.locator("#chat-log .event.from-agent").count() == 0
    page.screenshot(path=str(artifacts / "sandbox-06-human-mode.png"))
    page.click("#hand-back")
    page.wait_for_selector("#take-over")
    assert page.locator("#operator-composer").count() == 0


def test_the_chat_resumes_after_the_websocket_drops(page: Any, log_in: Any, live_app: LiveApp) -> None:
    page.add_init_script(CAPTURE_SOCKETS)
    log_in("tester")
    start_session(page, customer="Maria Lopez")
    page.evaluate("window.__sockets.forEach(socket => socket.close())")
    page.wait_for_selector("#connection[data-state=reconnecting]")
    # Sent around the reconnect: over the new socket, or (while it is down) as a form post that reloads the page.
    send_as_customer(page, "How much baggage can I bring?")
    wait_for_reply(page)
    page.evaluate("window.__sockets.forEach(socket => socket.close())")
    page.wait_for_selector("#connection[data-state=live]", timeout=20_000)
    send_as_customer(page, "Thanks! And how much baggage on a Flex fare?")
    wait_for_reply(page, count=2)
    offsets = page.eval_on_selector_all("#chat-log .event", "nodes => nodes.map(node => node.dataset.offset)")
    assert len(offsets) == len(set(offsets)), f"an event is shown twice: {offsets}"
    assert offsets == sorted(offsets, key=int)
    assert page.locator("#chat-log .event.from-customer").count() == 2


def test_a_rewind_through_the_api_removes_the_deleted_events_from_an_open_chat(
    page: Any, log_in: Any, live_app: LiveApp, artifacts: Path
) -> None:
    log_in("tester")
    start_session(page, customer="Maria Lopez")
    send_as_customer(page, "How much baggage can I bring?")
    wait_for_reply(page)
    uid = re.search(r"/sandbox/sessions/([0-9a-f-]+)/$", page.url).group(1)  # type: ignore[union-attr]
    key = live_app.manage("create_api_key", "--name", "rewind-test", "--role", "tester", "--user", "tester").strip()

    deleted = None
    for _attempt in range(20):  # the turn may still be finishing its post-reply analysis (409 until then)
        try:
            deleted = live_app.api("DELETE", f"/sessions/{uid}/events?from=2", key)
            break
        except urllib.error.HTTPError as refused:
            assert refused.code == 409, refused.read()
            time.sleep(0.5)
    assert deleted is not None

    assert deleted["deleted"] >= 1
    page.wait_for_function("() => document.querySelectorAll('#chat-log .event').length === 1")
    send_as_customer(page, "And on a Flex fare?")
    wait_for_reply(page)
    page.screenshot(path=str(artifacts / "sandbox-after-rewind.png"), full_page=True)
    offsets = page.eval_on_selector_all("#chat-log .event", "nodes => nodes.map(node => +node.dataset.offset)")
    assert offsets[:2] == [1, 2] and offsets == sorted(set(offsets)), offsets
    customer_texts = page.locator("#chat-log .event.from-customer .bubble-text").all_inner_texts()
    assert customer_texts == ["How much baggage can I bring?", "And on a Flex fare?"]
