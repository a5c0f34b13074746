"""The website widget in Debian chromium, embedded by a customer's site on another origin under a strict CSP:
it loads, streams a reply, keeps its history over a reload, refuses a site not on the key's list, checks signed
identities, forgets a customer on shutdown, falls back to long-polling, and works with the keyboard and on a
phone."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LiveApp
from tests.browser.responder import REPLY
from tests.browser.widget_host import HostSite, host_site, identity_signature

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AGENT = "Skyway Support"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TURN_TIMEOUT_MS = 45_000
SHADOW = "document.getElementById('decorum-widget').shadowRoot"

# Records the streaming bubble's text length at every change, to prove the reply arrived in pieces.
WATCH_STREAM = f"""
() => {{
  window.__streamLengths = [];
  const log = {SHADOW}.getElementById("dw-log");
  new MutationObserver(() => {{
    const text = log.querySelector(".dw-streaming .dw-text");
    if (text) window.__streamLengths.push(text.textContent.length);
  }}).observe(log, {{subtree: true, childList: true, characterData: true}});
}}
"""
# Every CSP violation the page reports (the console says so too, which fails the test on its own).
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", event => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
}, true);
"""
NO_WEBSOCKET = "Object.defineProperty(window, 'WebSocket', {value: undefined, configurable: true});"


@pytest.fixture(scope="module")
def site(live_app: LiveApp) -> Iterator[HostSite]:
    with host_site(live_app.base_url) as running:
        yield running


@pytest.fixture
def widget_key(live_app: LiveApp, site: HostSite) -> Callable[..., dict[str, Any]]:
    """Set the demo agent's widget key up (origins, enforce); its public key and identity secret."""

    def configure(*, origins: tuple[str, ...] | None = None, enforce: bool = False) -> dict[str, Any]:
        arguments = ["widget_key", AGENT]
        for origin in origins if origins is not None else (site.origin,):
            arguments += ["--origin", origin]
        if enforce:
            arguments.append("--enforce")
        return json.loads(live_app.manage(*arguments))

    return configure


@pytest.fixture
def open_page(chromium: Any, artifacts: Path) -> Iterator[Callable[..., Any]]:
    """Open a URL in a fresh browser context (no storage); any page error or console error fails the test,
    except those a test says it expects."""
    contexts: list[Any] = []
    errors: list[str] = []

    def run(
        url: str,
        *,
        viewport: dict[str, int] = DESKTOP,
        init_script: str = "",
        expected_errors: tuple[str, ...] = (),
    ) -> Any:
        context = chromium.new_context(viewport=viewport)
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.add_init_script(WATCH_CSP + init_script)
        page.on("pageerror", lambda error: errors.append(str(error)))

        def on_console(message: Any) -> None:
            if message.type == "error" and not any(part in message.text for part in expected_errors):
                errors.append(message.text)

        page.on("console", on_console)
        page.goto(url)
        return page

    yield run
    for context in contexts:
        context.close()
    assert not errors, f"the page logged errors: {errors}"


# ---------------------------------------------------------------- helpers


def wait_until_ready(page: Any) -> None:
    page.wait_for_selector("#decorum-widget[data-state=ready]", state="attached")
    page.locator("#dw-launcher").wait_for(state="visible")


def open_widget(page: Any) -> None:
    page.locator("#dw-launcher").click()
    page.locator("#dw-panel").wait_for(state="visible")


def send(page: Any, text: str) -> None:
    page.locator("#dw-input").fill(text)
    page.locator("#dw-input").press("Enter")


def wait_for_replies(page: Any, count: int = 1) -> list[str]:
    """The texts of the stored agent replies (not the greeting), once `count` are shown and none streams."""
    page.wait_for_function(
        f"""count => {{
          const log = {SHADOW}.getElementById("dw-log");
          const replies = [...log.querySelectorAll('.dw-msg[data-source=agent][data-offset]')]
            .filter(node => node.textContent.startsWith("Happy to help"));
          return replies.length >= count && !log.querySelector(".dw-streaming");
        }}""",
        arg=count,
        timeout=TURN_TIMEOUT_MS,
    )
    page.locator("#dw-typing").wait_for(state="hidden", timeout=TURN_TIMEOUT_MS)
    return page.locator("#dw-log .dw-msg[data-source=agent][data-offset] .dw-text").all_inner_texts()


def shown_offsets(page: Any) -> list[int]:
    return page.evaluate(f"[...{SHADOW}.querySelectorAll('#dw-log [data-offset]')].map(node => +node.dataset.offset)")


def customer_texts(page: Any) -> list[str]:
    return page.locator("#dw-log .dw-msg[data-source=customer] .dw-text").all_inner_texts()


def stored_state(page: Any, public_key: str) -> Any:
    raw = page.evaluate("key => window.localStorage.getItem(key)", "decorum:" + public_key)
    return json.loads(raw) if raw else None


def widget_call(live_app: LiveApp, path: str, *, origin: str, key: str) -> tuple[int, dict[str, Any]]:
    """A POST to a widget endpoint as a browser on `origin` would send it: (status, JSON answer)."""
    request = urllib.request.Request(
        live_app.url("/widget/v1/" + path),
        data=b"{}",
        method="POST",
        headers={"Origin": origin, "X-Decorum-Key": key, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"{}")


# ---------------------------------------------------------------- tests


def test_the_widget_loads_on_another_origin_and_streams_a_reply_that_survives_a_reload(
    open_page: Any, site: HostSite, widget_key: Any, artifacts: Path
) -> None:
    key = widget_key()
    url = site.add_page("/help", public_key=key["public_key"], attributes={"greeting": "Hi! Ask me about baggage."})
    page = open_page(url)
    chunks: list[dict[str, Any]] = []
    page.on(
        "websocket",
        lambda socket: socket.on(
            "framereceived", lambda frame: chunks.append(json.loads(frame)) if '"chunk"' in frame else None
        ),
    )
    wait_until_ready(page)
    assert page.locator("#dw-panel").is_hidden()
    page.screenshot(path=str(artifacts / "widget-01-launcher-desktop.png"))

    open_widget(page)
    assert page.locator("#dw-log .dw-greeting .dw-text").inner_text() == "Hi! Ask me about baggage."
    assert page.locator("#dw-title").inner_text() == AGENT
    page.wait_for_selector("#decorum-widget[data-connection]", state="attached")
    page.evaluate(WATCH_STREAM)
    page.evaluate("window.__messages = []; Decorum('on', 'message', message => window.__messages.push(message))")
    send(page, "Hello! How much baggage can I bring?")
    page.wait_for_selector("#decorum-widget[data-connection=live]", state="attached")
    page.wait_for_selector("#dw-log .dw-streaming", timeout=TURN_TIMEOUT_MS)
    page.screenshot(path=str(artifacts / "widget-02-streaming-desktop.png"))
    replies = wait_for_replies(page)
    assert replies[-1] == REPLY
    lengths = page.evaluate("window.__streamLengths")
    assert len(set(lengths)) >= 3, f"the reply did not stream in pieces: {lengths}"
    assert len(chunks) >= 3 and all(chunk["type"] == "chunk" for chunk in chunks)
    assert customer_texts(page) == ["Hello! How much baggage can I bring?"]
    heard = page.evaluate("window.__messages")
    assert heard[0]["source"] == "customer" and heard[-1]["text"] == REPLY
    page.screenshot(path=str(artifacts / "widget-03-replied-desktop.png"))
    before = shown_offsets(page)
    saved = stored_state(page, key["public_key"])
    assert saved["session"] and saved["token"] and saved["offset"] >= max(before)

    page.reload()
    wait_until_ready(page)
    page.locator("#dw-panel").wait_for(state="visible")  # it was open: it stays open
    page.wait_for_function(f"n => {SHADOW}.querySelectorAll('#dw-log [data-offset]').length >= n", arg=len(before))
    page.wait_for_timeout(500)  # a duplicate from the socket would arrive now
    after = shown_offsets(page)
    assert after == before, f"the history changed over the reload: {before} → {after}"
    assert len(after) == len(set(after))
    assert customer_texts(page) == ["Hello! How much baggage can I bring?"]
    assert page.locator("#dw-log .dw-msg[data-source=agent][data-offset] .dw-text").all_inner_texts()[-1] == REPLY
    assert page.locator("#dw-log .dw-greeting").count() == 1
    assert page.evaluate("window.__cspViolations") == []

    # The conversation goes on after the reload, on the same session.
    send(page, "Thanks! And how much baggage on a Flex fare?")
    wait_for_replies(page, count=2)
    assert stored_state(page, key["public_key"])["session"] == saved["session"]
    assert len(customer_texts(page)) == 2


def test_a_page_whose_origin_is_not_on_the_list_shows_nothing_and_is_refused(
    open_page: Any, live_app: LiveApp, site: HostSite, widget_key: Any
) -> None:
    key = widget_key(origins=("https://www.skyway.example",))
    url = site.add_page("/refused", public_key=key["public_key"])
    log_start = len(live_app.server_log())
    page = open_page(url, expected_errors=("CORS policy", "net::ERR_FAILED", "Failed to load resource"))
    page.wait_for_selector("#decorum-widget[data-state=unreachable]", state="attached")
    assert page.locator("#dw-launcher").is_hidden()
    assert page.locator("#dw-panel").is_hidden()
    assert page.evaluate("typeof window.Decorum") == "function"  # the page's own calls still do no harm
    page.evaluate("Decorum('open')")
    assert page.locator("#dw-panel").is_hidden()
    status, answer = widget_call(live_app, "visitor", origin=site.origin, key=key["public_key"])
    assert (status, answer["code"]) == (403, "origin_refused")
    assert "HTTP OPTIONS /widget/v1/visitor 403" in live_app.server_log()[log_start:]  # the browser's preflight


def test_with_enforce_on_only_a_correctly_signed_identity_is_accepted(
    open_page: Any, site: HostSite, widget_key: Any, artifacts: Path
) -> None:
    key = widget_key(enforce=True)
    secret = key["identity_secret"]
    unsigned = site.add_page(
        "/enforce-unsigned", public_key=key["public_key"], identity={"externalId": "cust-301", "name": "Ana"}
    )
    page = open_page(unsigned, expected_errors=("status of 401",))
    page.wait_for_selector("#decorum-widget[data-state=identity-refused]", state="attached")
    open_widget(page)
    assert "could not confirm who you are" in page.locator("#dw-notice").inner_text()
    assert page.locator("#dw-input").is_disabled()
    page.screenshot(path=str(artifacts / "widget-08-identity-refused-desktop.png"))

    forged = identity_signature("not-the-secret", "cust-301")
    badly_signed = site.add_page(
        "/enforce-forged",
        public_key=key["public_key"],
        identity={"externalId": "cust-301", "name": "Ana", "token": forged},
    )
    page = open_page(badly_signed, expected_errors=("status of 401",))
    page.wait_for_selector("#decorum-widget[data-state=identity-refused]", state="attached")

    signed = site.add_page(
        "/enforce-signed",
        public_key=key["public_key"],
        identity={"externalId": "cust-301", "name": "Ana", "token": identity_signature(secret, "cust-301")},
    )
    page = open_page(signed)
    wait_until_ready(page)
    open_widget(page)
    assert page.locator("#dw-notice").is_hidden()
    send(page, "How much baggage can I bring?")
    assert wait_for_replies(page)[-1] == REPLY
    assert stored_state(page, key["public_key"])["identity"] == "cust-301"


def test_after_shutdown_the_next_customer_never_sees_the_previous_ones_messages(
    open_page: Any, site: HostSite, widget_key: Any
) -> None:
    key = widget_key()
    url = site.add_page("/shared-computer", public_key=key["public_key"])
    page = open_page(url)
    wait_until_ready(page)
    page.evaluate("Decorum('identify', {externalId: 'alice-1', name: 'Alice', email: 'alice@example.com'})")
    page.wait_for_function(
        "key => (JSON.parse(localStorage.getItem(key) || '{}').identity) === 'alice-1'",
        arg="decorum:" + key["public_key"],
    )
    open_widget(page)
    send(page, "Alice's secret: booking ZX9Q, how much baggage can I bring?")
    wait_for_replies(page)

    page.evaluate("Decorum('shutdown')")
    page.wait_for_function(f"() => {SHADOW}.querySelectorAll('#dw-log [data-offset]').length === 0")
    assert stored_state(page, key["public_key"]) in (None, {}) or not stored_state(page, key["public_key"])["token"]
    assert page.locator("#dw-panel").is_hidden()
    assert page.get_attribute("#decorum-widget", "data-connection") == "idle"

    page.evaluate("Decorum('identify', {externalId: 'bob-2', name: 'Bob'})")
    page.wait_for_function(
        "key => (JSON.parse(localStorage.getItem(key) || '{}').identity) === 'bob-2'",
        arg="decorum:" + key["public_key"],
    )
    open_widget(page)
    page.wait_for_timeout(1000)  # anything of Alice's that was going to arrive has arrived
    assert "ZX9Q" not in page.locator("#dw-log").inner_text()
    assert customer_texts(page) == []
    send(page, "Hi, Bob here. How much baggage can I bring?")
    wait_for_replies(page)
    assert customer_texts(page) == ["Hi, Bob here. How much baggage can I bring?"]

    page.reload()  # Bob's token and session come back from storage; Alice's never do
    wait_until_ready(page)
    page.wait_for_function(f"() => {SHADOW}.querySelectorAll('#dw-log [data-offset]').length >= 2")
    assert "ZX9Q" not in page.locator("#dw-log").inner_text()
    assert customer_texts(page) == ["Hi, Bob here. How much baggage can I bring?"]


def test_without_websocket_the_widget_long_polls_and_still_gets_the_reply(
    open_page: Any, site: HostSite, widget_key: Any
) -> None:
    key = widget_key()
    url = site.add_page("/no-websocket", public_key=key["public_key"])
    page = open_page(url, init_script=NO_WEBSOCKET)
    wait_until_ready(page)
    open_widget(page)
    send(page, "How much baggage can I bring?")
    page.wait_for_selector("#decorum-widget[data-connection=polling]", state="attached")
    assert wait_for_replies(page)[-1] == REPLY
    assert customer_texts(page) == ["How much baggage can I bring?"]
    offsets = shown_offsets(page)
    assert offsets == sorted(set(offsets))

    page.reload()
    wait_until_ready(page)
    page.wait_for_function(f"n => {SHADOW}.querySelectorAll('#dw-log [data-offset]').length >= n", arg=len(offsets))
    page.wait_for_timeout(500)
    assert shown_offsets(page) == offsets


def test_the_keyboard_opens_traps_focus_and_closes_and_the_composer_explains_refusals(
    open_page: Any, site: HostSite, widget_key: Any
) -> None:
    key = widget_key()
    url = site.add_page("/keyboard", public_key=key["public_key"], attributes={"locale": "en"})
    page = open_page(url)
    wait_until_ready(page)
    page.locator("#dw-launcher").focus()
    page.keyboard.press("Enter")
    page.locator("#dw-panel").wait_for(state="visible")
    page.wait_for_function(f"() => {SHADOW}.activeElement && {SHADOW}.activeElement.id === 'dw-input'")
    assert page.get_attribute("#dw-launcher", "aria-expanded") == "true"
    assert page.get_attribute("#dw-panel", "role") == "dialog"
    assert page.get_attribute("#dw-log", "role") == "log"
    for _ in range(8):  # Tab never leaves the panel
        page.keyboard.press("Tab")
        inside = page.evaluate(f"{SHADOW}.getElementById('dw-panel').contains({SHADOW}.activeElement)")
        assert inside
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(f"{SHADOW}.getElementById('dw-panel').contains({SHADOW}.activeElement)")

    page.locator("#dw-input").focus()
    page.keyboard.type("   ")
    page.keyboard.press("Enter")
    assert "empty message is not sent" in page.locator("#dw-composer-error").inner_text()
    assert page.locator("#dw-log .dw-msg[data-source=customer]").count() == 0

    page.locator("#dw-input").fill("First line")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line")
    assert page.locator("#dw-input").input_value() == "First line\nsecond line"
    assert page.locator("#dw-log .dw-msg[data-source=customer]").count() == 0

    assert page.locator("#dw-counter").is_hidden()
    page.locator("#dw-input").fill("a" * 3300)
    assert page.locator("#dw-counter").inner_text() == "3300 / 4000"
    assert page.get_attribute("#dw-counter", "data-over") is None
    too_long = "b" * 4001
    page.locator("#dw-input").fill(too_long)
    assert page.get_attribute("#dw-counter", "data-over") == "true"
    color = page.evaluate(f"getComputedStyle({SHADOW}.getElementById('dw-counter')).color")
    assert color == "rgb(185, 28, 28)"
    page.locator("#dw-input").press("Enter")
    assert "the limit is 4000" in page.locator("#dw-composer-error").inner_text()
    assert page.locator("#dw-input").input_value() == too_long  # never cut
    assert page.locator("#dw-log .dw-msg[data-source=customer]").count() == 0

    page.keyboard.press("Escape")
    page.locator("#dw-panel").wait_for(state="hidden")
    assert page.evaluate(f"{SHADOW}.activeElement && {SHADOW}.activeElement.id") == "dw-launcher"
    assert page.get_attribute("#dw-launcher", "aria-expanded") == "false"


def test_the_widget_at_desktop_and_phone_width_with_long_texts_and_a_hostile_message(
    open_page: Any, site: HostSite, widget_key: Any, artifacts: Path
) -> None:
    key = widget_key()
    long_greeting = (
        "Bonjour ! Je suis l'assistant de Skyway. Posez-moi vos questions sur les bagages, les réservations, "
        "l'enregistrement et les programmes de fidélité."
    )
    url = site.add_page(
        "/phone",
        public_key=key["public_key"],
        attributes={"locale": "fr", "color": "#0f766e", "title": "Skyway — Service client", "greeting": long_greeting},
    )
    hostile = '<img src=x onerror="window.__owned=1"> https://example.com/' + "a" * 80 + " " + "W" * 120
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = open_page(url, viewport=viewport)
        wait_until_ready(page)
        page.screenshot(path=str(artifacts / f"widget-04-launcher-{name}.png"))
        open_widget(page)
        assert page.locator("#dw-handoff").inner_text() == "Parler à une personne"
        send(page, hostile)
        page.wait_for_selector("#dw-log .dw-msg[data-source=customer][data-offset]")
        wait_for_replies(page)
        assert customer_texts(page) == [hostile]
        assert page.locator("#dw-log img").count() == 0
        assert page.evaluate("window.__owned") is None
        panel = page.locator("#dw-panel").bounding_box()
        if name == "phone":
            assert panel == {"x": 0, "y": 0, "width": PHONE["width"], "height": PHONE["height"]}
            assert page.locator("#dw-launcher").is_hidden()
        else:
            assert panel["x"] + panel["width"] <= DESKTOP["width"] and panel["y"] >= 0
        width = page.evaluate(f"{SHADOW}.querySelector('.dw-scroll').scrollWidth")
        client = page.evaluate(f"{SHADOW}.querySelector('.dw-scroll').clientWidth")
        assert width <= client, "a long text overflows the panel sideways"
        page.screenshot(path=str(artifacts / f"widget-05-conversation-{name}.png"))
        page.locator("#dw-end").click()
        page.locator("#dw-rating").wait_for(state="visible")
        page.screenshot(path=str(artifacts / f"widget-06-rating-{name}.png"))
        page.locator(".dw-score[data-score='1']").click()
        page.locator("#dw-rating-comment").fill("Très clair, merci.")
        page.locator("#dw-rating-submit").click()
        page.locator("#dw-rating-done").wait_for(state="visible")
        page.locator("#dw-new").click()
        assert page.locator("#dw-composer").is_visible()
        assert page.locator("#dw-log [data-offset]").count() == 0
        assert page.locator("#dw-log .dw-greeting .dw-text").inner_text() == long_greeting
        time.sleep(0.2)


TAKE_OVER = """
from django.contrib.auth import get_user_model
from sessions.models import Session
from sessions.services.handoff import handoff_take
from sessions.services.messages import operator_message_post
operator = get_user_model().objects.get(username="operator")
operator.first_name = "Dana"
operator.save()
session = Session.objects.get(uid="{uid}")
handoff_take(session, user=operator)
session.refresh_from_db()
operator_message_post(session, text="Hi, Dana from Skyway here. How can I help?", user=operator)
"""


def test_talk_to_a_person_waits_then_shows_who_joined_and_their_messages(
    open_page: Any, live_app: LiveApp, site: HostSite, widget_key: Any, artifacts: Path
) -> None:
    key = widget_key()
    # Long-polling: the operator acts from another process (a shell here), which the poll's database re-read sees.
    url = site.add_page("/person", public_key=key["public_key"])
    page = open_page(url, init_script=NO_WEBSOCKET)
    wait_until_ready(page)
    page.evaluate("window.__handoffs = []; Decorum('on', 'handoff', detail => window.__handoffs.push(detail))")
    open_widget(page)
    page.locator("#dw-handoff").click()
    page.locator("#dw-log .dw-note[data-kind=waiting]").wait_for()
    page.wait_for_selector("#decorum-widget[data-mode=waiting]", state="attached")
    assert page.locator("#dw-handoff").is_hidden()
    uid = page.get_attribute("#decorum-widget", "data-session")

    live_app.manage("shell", "-c", TAKE_OVER.format(uid=uid))
    joined = page.locator("#dw-log .dw-note[data-kind=joined]")
    joined.wait_for(timeout=15_000)
    assert joined.inner_text() == "Dana joined the conversation."
    human = page.locator("#dw-log .dw-msg[data-source=human_operator]")
    human.wait_for()
    assert human.locator(".dw-author").inner_text() == "Dana"
    assert human.locator(".dw-text").inner_text() == "Hi, Dana from Skyway here. How can I help?"
    assert page.evaluate("window.__handoffs") == [
        {"status": "waiting"},
        {"status": "human_joined", "operator": {"name": "Dana"}},
    ]
    page.screenshot(path=str(artifacts / "widget-07-person-joined-desktop.png"))


UNPUBLISHED_AGENT = """
from agents.models import Agent
Agent.objects.get_or_create(name="Draft Helper")
"""


def test_an_agent_without_a_published_version_gets_a_polite_notice(
    open_page: Any, live_app: LiveApp, site: HostSite, artifacts: Path
) -> None:
    live_app.manage("shell", "-c", UNPUBLISHED_AGENT)
    key = json.loads(live_app.manage("widget_key", "Draft Helper", "--origin", site.origin))
    url = site.add_page("/draft", public_key=key["public_key"], attributes={"open": "true", "position": "left"})
    page = open_page(url)
    page.wait_for_selector("#decorum-widget[data-state=unavailable]", state="attached")
    page.locator("#dw-panel").wait_for(state="visible")  # data-open="true"
    assert page.locator("#dw-panel").bounding_box()["x"] < 100  # data-position="left"
    assert page.locator("#dw-notice").inner_text() == "This assistant is not available yet. Please come back later."
    assert page.locator("#dw-input").is_disabled()
    assert page.locator("#dw-log [data-offset]").count() == 0
    page.screenshot(path=str(artifacts / "widget-09-unavailable-desktop.png"))


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
"""


def test_the_widget_reconnects_after_the_websocket_drops_and_nothing_is_lost_or_shown_twice(
    open_page: Any, site: HostSite, widget_key: Any
) -> None:
    key = widget_key()
    page = open_page(site.add_page("/drop", public_key=key["public_key"]), init_script=CAPTURE_SOCKETS)
    wait_until_ready(page)
    open_widget(page)
    send(page, "How much baggage can I bring?")
    page.wait_for_selector("#decorum-widget[data-connection=live]", state="attached")
    page.evaluate("window.__sockets.forEach(socket => socket.close())")  # mid-turn
    page.wait_for_selector("#decorum-widget[data-connection=reconnecting]", state="attached")
    wait_for_replies(page)
    page.wait_for_selector("#decorum-widget[data-connection=live]", state="attached")
    page.evaluate("window.__sockets.forEach(socket => socket.close())")
    send(page, "Thanks! And how much baggage on a Flex fare?")  # sent while the socket is down
    wait_for_replies(page, count=2)
    offsets = shown_offsets(page)
    assert offsets == sorted(set(offsets)), f"an event is missing its order or shown twice: {offsets}"
    assert customer_texts(page) == ["How much baggage can I bring?", "Thanks! And how much baggage on a Flex fare?"]
    assert page.evaluate("window.__sockets.length") >= 3
