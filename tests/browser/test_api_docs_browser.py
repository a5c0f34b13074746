"""/api/docs in Debian chromium with every request off the live server refused, as on a machine with no
internet: the vendored Swagger UI renders the API's operations, and the page asks nothing of any other host."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import LiveApp

pytestmark = pytest.mark.browser

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def offline_except_the_live_server(page: Any) -> list[str]:
    """Abort every request to a host other than the live server's; the aborted URLs."""
    refused: list[str] = []

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).hostname in LOCAL_HOSTS:
            request_route.continue_()
        else:
            refused.append(url)
            request_route.abort()

    page.route("**/*", route)
    return refused


def test_the_api_docs_render_every_operation_with_no_network_but_the_server(
    page: Any, live_app: LiveApp, artifacts: Path
) -> None:
    refused = offline_except_the_live_server(page)
    page.goto("/api/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)

    assert page.locator(".swagger-ui .info .title").inner_text().startswith("Decorum API")
    operations = page.locator(".swagger-ui .opblock-summary-path")
    assert operations.count() > 20
    assert "/api/agents" in operations.all_inner_texts()
    assert refused == [], f"the docs page asked other hosts for {refused}"
    page.screenshot(path=str(artifacts / "api-docs.png"))


def test_an_operation_opens_with_its_parameters_and_responses(page: Any, live_app: LiveApp) -> None:
    refused = offline_except_the_live_server(page)
    page.goto("/api/docs")
    operation = page.locator(".swagger-ui .opblock-get").filter(has_text="/api/agents/{agent_id}").first
    operation.locator(".opblock-summary").click()
    body = operation.locator(".opblock-body")
    body.wait_for()
    assert "agent_id" in body.inner_text()
    assert "Responses" in body.inner_text()
    assert refused == []
