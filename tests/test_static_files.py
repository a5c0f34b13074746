"""Static files as production serves them: collected by `collectstatic` under content-hashed names and served by
WhiteNoise from the web process with long-lived cache headers; and the API docs page, which uses the vendored
Swagger UI rather than a CDN. tests/e2e/test_e2e_static.py checks the same through a real daphne."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client, override_settings

REPO = Path(__file__).resolve().parents[1]
TEN_YEARS_IMMUTABLE = "max-age=315360000, public, immutable"
HASHED_NAME = re.compile(r"\.[0-9a-f]{12}\.(css|js)$")
ASSET = re.compile(r'<(?:link rel="stylesheet" href|script src)="([^"]+)"')
PRODUCTION_STATIC = {
    "STORAGES": {
        **django_settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    },
    "WHITENOISE_USE_FINDERS": False,
    "WHITENOISE_AUTOREFRESH": False,
}


@pytest.fixture(scope="module")
def collected_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `collectstatic` run into a fresh STATIC_ROOT, shared by the module's tests."""
    root = tmp_path_factory.mktemp("staticfiles")
    with override_settings(STATIC_ROOT=root, **PRODUCTION_STATIC):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root


@pytest.fixture
def production_static(settings: Any, collected_root: Path) -> Iterator[Path]:
    """Settings as with DEBUG off after collectstatic; a new test client builds its own WhiteNoise from them."""
    settings.STATIC_ROOT = collected_root
    for name, value in PRODUCTION_STATIC.items():
        setattr(settings, name, value)
    yield collected_root


def assets_of(client: Client, path: str) -> list[str]:
    response = client.get(path)
    assert response.status_code == 200
    return ASSET.findall(response.content.decode())


def test_pages_link_their_styles_and_scripts_by_content_hashed_names(db: None, production_static: Path) -> None:
    assets = assets_of(Client(), "/accounts/login/")
    assert assets, "the login page links no stylesheet or script"
    assert all(url.startswith("/static/") and HASHED_NAME.search(url) for url in assets), assets


def test_a_hashed_file_is_served_with_a_ten_year_immutable_cache(db: None, production_static: Path) -> None:
    client = Client()
    for url in assets_of(client, "/accounts/login/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == TEN_YEARS_IMMUTABLE, url
        assert b"".join(response.streaming_content)


def test_an_unhashed_name_is_served_but_cached_for_a_minute_only(production_static: Path) -> None:
    response = Client().get("/static/decorum/site.css")
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=60, public"


def test_a_client_accepting_gzip_gets_the_compressed_copy(db: None, production_static: Path) -> None:
    client = Client()
    script = next(url for url in assets_of(client, "/accounts/login/") if url.endswith(".js"))
    response = client.get(script, HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"


def test_a_missing_static_file_is_a_404(production_static: Path) -> None:
    assert Client().get("/static/decorum/no-such-file.css").status_code == 404


def test_static_files_are_served_before_sessions_or_authentication_run() -> None:
    middleware = django_settings.MIDDLEWARE
    assert middleware[:2] == [
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
    ]


def _storage_with(**environment: str) -> str:
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}}
    env.update(environment)
    code = "from django.conf import settings; print(settings.STORAGES['staticfiles']['BACKEND'])"
    done = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=REPO, env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        check=True, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return done.stdout.strip()


def test_hashed_names_are_used_exactly_when_debug_is_off() -> None:
    assert _storage_with(DEBUG="false", SECRET_KEY="x") == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert _storage_with(DEBUG="true") == "django.contrib.staticfiles.storage.StaticFilesStorage"


def test_the_api_docs_page_loads_swagger_ui_from_our_static_files_not_a_cdn(client: Client) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "cdn" not in page.lower()
    assets = ASSET.findall(page)
    assert any("/static/vendor/swagger-ui-" in url and url.endswith("swagger-ui-bundle.js") for url in assets)
    assert any(url.endswith("swagger-ui.css") for url in assets)
    assert "/static/api/swagger-init.js" in assets
    for url in assets:
        assert finders.find(url.removeprefix("/static/")), f"{url} is not among the static files"
    assert "<script>" not in page, "the docs page has an inline script"
    assert '"url": "/api/openapi.json"' in page


def test_the_vendored_swagger_ui_carries_its_licence() -> None:
    (vendored,) = (REPO / "static" / "vendor").glob("swagger-ui-*")
    assert {"LICENSE", "NOTICE", "README.txt", "swagger-ui-bundle.js", "swagger-ui.css"} <= {
        path.name for path in vendored.iterdir()
    }
    assert "Apache License" in (vendored / "LICENSE").read_text()
