"""End to end: a real daphne with DEBUG off (started by tests/e2e/run_e2e.sh after `collectstatic`) serves the
styles and scripts its pages link, under content-hashed names cached for ten years, and the API docs page with
the vendored Swagger UI."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.e2e.test_e2e_chat import base_url, login_cookie, sandbox_session_for

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "decorum-demo"
TEN_YEARS_IMMUTABLE = "max-age=315360000, public, immutable"
HASHED_NAME = re.compile(r"\.[0-9a-f]{12}\.(css|js)$")
ASSET = re.compile(r'<(?:link rel="stylesheet" href|script src)="([^"]+)"')


def fetch(path: str, cookie: str | None = None, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(base_url() + path, headers={**headers, **({"Cookie": cookie} if cookie else {})})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def assets_of(path: str, cookie: str | None = None) -> list[str]:
    status, _headers, body = fetch(path, cookie)
    assert status == 200, f"{path} answered {status}"
    assets = ASSET.findall(body.decode())
    assert assets, f"{path} links no stylesheet or script"
    return assets


def assert_served_for_ten_years(assets: list[str]) -> None:
    for url in assets:
        assert HASHED_NAME.search(url), f"{url} is not a content-hashed name"
        status, headers, body = fetch(url)
        assert status == 200, f"{url} answered {status}"
        assert headers["Cache-Control"] == TEN_YEARS_IMMUTABLE, url
        assert body, f"{url} is empty"


def test_the_login_page_gets_its_styles_and_scripts_with_a_ten_year_cache() -> None:
    assert_served_for_ten_years(assets_of("/accounts/login/"))


def test_a_sandbox_session_gets_its_styles_and_scripts_with_a_ten_year_cache(django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        uid, _session = sandbox_session_for("tester")
    assets = assets_of(f"/sandbox/sessions/{uid}/", login_cookie("tester", DEMO_PASSWORD))
    assert any("sandbox/session." in url for url in assets), assets
    assert any("sandbox/sandbox." in url for url in assets), assets
    assert_served_for_ten_years(assets)


def test_a_gzip_client_gets_the_compressed_copy() -> None:
    script = next(url for url in assets_of("/accounts/login/") if url.endswith(".js"))
    status, headers, _body = fetch(script, **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers.get("Content-Encoding") == "gzip"


def test_the_api_docs_page_uses_the_vendored_swagger_ui() -> None:
    assets = assets_of("/api/docs")
    assert all(url.startswith("/static/") for url in assets), assets
    assert any("/static/vendor/swagger-ui-" in url for url in assets), assets
    assert_served_for_ten_years(assets)


def test_a_static_file_that_does_not_exist_is_a_404() -> None:
    status, _headers, _body = fetch("/static/decorum/no-such-file.css")
    assert status == 404
