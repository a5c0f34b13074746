"""Evaluations in Debian chromium: an editor saves a sandbox conversation as a test case, edits one of the proposed
assertions, runs the suite on the draft and watches its progress, reads the failure's cause and opens that turn's
trace, then checks the draft against the published version before publishing and sees the regression first."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LiveApp
from tests.browser.test_sandbox_browser import send_as_customer, wait_for_reply

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The engine-aware fake model (it also plays simulated customers and the judge), fast: a run takes seconds.
FAKE_LLM_RESPONDER = "tests.support.engine_responder:openai_responder"
FAKE_LLM_LATENCY = ("--latency-ms", "10", "--ms-per-10-completion-tokens", "0")
RUN_TIMEOUT_MS = 180_000
DISABLE_GREET = """
from agents.models import Agent
from behavior.models import Guideline
from behavior.services.audit import SYSTEM
from behavior.services.guidelines import guideline_update
agent = Agent.objects.get(name="Skyway Support")
guideline_update(Guideline.objects.get(agent=agent, key="greet"), data={"enabled": False}, actor=SYSTEM)
"""


def shot(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"evaluations-{name}.png"), full_page=True)


def start_draft_session(page: Any) -> None:
    page.goto("/sandbox/")
    page.select_option("#id_customer", index=1)
    page.click("#start-session button[type=submit]")
    page.wait_for_url(re.compile(r"/sandbox/sessions/[0-9a-f-]+/$"))
    page.wait_for_selector("#connection[data-state=live]")


def test_an_editor_turns_a_conversation_into_a_test_and_checks_the_draft_before_publishing(
    page: Any, log_in: Any, live_app: LiveApp, artifacts: Path
) -> None:
    log_in("editor")

    # 1. A sandbox conversation, saved as a test case with the assertions its trace suggests
    start_draft_session(page)
    send_as_customer(page, "My flight SK123 was cancelled, I want to rebook")
    wait_for_reply(page)
    page.click("#save-as-test-case")
    page.wait_for_url(re.compile(r"/tests/from-session/"))
    guideline = page.locator('select[name="turns.0.assertions.0.guideline"]')
    assert guideline.input_value() == "cancelled-flight-options"  # proposed from what the agent did
    assert page.locator('select[name="turns.0.assertions.0.type"]').input_value() == "guideline_matched"
    page.fill('input[name="key"]', "browser-cancelled-flight")  # proposed cases carry the tag "sandbox"
    shot(page, artifacts, "1-save-as-test-case")

    # 2. Edit an assertion: this conversation should (wrongly, as it turns out) also match the refund policy
    guideline.select_option("refund-policy")
    page.get_by_role("button", name="Save test case").first.click()
    page.wait_for_url(re.compile(r"/tests/\d+/$"))
    assert "refund-policy" in page.locator("main").inner_text()

    # 3. Run the suite on the draft: the new case and the smoke cases, with live progress
    page.click("nav >> text=Evaluations")
    page.select_option("#id_version", "draft")
    page.fill("#id_tags", "sandbox, smoke")
    page.click("#run-form button[type=submit]")
    page.wait_for_url(re.compile(r"/evaluations/\d+/$"))
    progress = page.locator(".run-progress-text")
    if progress.count():  # the progress fragment is polled while the run goes
        assert re.search(r"\d+ of \d+", progress.first.inner_text())
        shot(page, artifacts, "2-run-progress")
    page.wait_for_selector(".badge-run-failed", timeout=RUN_TIMEOUT_MS)
    shot(page, artifacts, "3-run-finished")

    # 4. The failure says why, from the trace, and opens that turn's explanation
    case = page.locator("#case-browser-cancelled-flight")
    cause = case.locator(".cause").first.inner_text()
    assert cause.startswith(
        "guideline refund-policy not matched: the model judged 'The customer asks for a refund' false — rationale:"
    )
    case.locator("a.trace-link").first.click()
    page.wait_for_load_state()
    page.click("summary >> text=Considered, condition did not hold")
    shot(page, artifacts, "4-trace")
    assert "cancelled-flight-options" in page.locator("body").inner_text()
    assert page.get_by_text("The customer asks for a refund").first.is_visible()  # refund-policy, judged false

    # 5. A change to the draft that breaks a passing case; the publish check compares with the published version
    live_app.manage("shell", "-c", DISABLE_GREET)
    page.goto("/studio/")
    page.click("main a >> text=Skyway Support")
    page.click("nav >> text=Versions & publish")
    page.click("#publish-check-start button[type=submit]")
    page.wait_for_url(re.compile(r"/evaluations/\d+/publish-check/$"))
    page.wait_for_selector("#check-verdict-title", timeout=RUN_TIMEOUT_MS)
    verdict = page.locator("#check-verdict-title").inner_text()
    assert re.search(r"\d+ regressions? against the published version", verdict), verdict
    first_case = page.locator(".comparison details.compare-case").first
    assert "compare-case-regression" in (first_case.get_attribute("class") or "")  # regressions come first
    assert first_case.get_attribute("id") == "compare-case-greeting"
    shot(page, artifacts, "5-publish-check")

    # The same page on a phone
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, artifacts, "6-publish-check-phone")
