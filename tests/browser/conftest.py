"""Browser tests: Debian chromium through Playwright against a real server that speaks websockets.

The server is `manage.py runserver` (daphne's, so HTTP, websockets and static files) on a fresh SQLite
database in a temporary directory, with the demo agent seeded, turns running in-process, and the fake
OpenAI server (tests/support/fake_openai_server.py with tests/browser/responder.py) as the model. A
separate process is what makes websockets, the turn threads and the database behave as in production;
pytest-django's in-memory test database cannot be shared with it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; ORM calls made by a test would otherwise refuse.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
DEMO_PASSWORD = "decorum-demo"
START_TIMEOUT_SECONDS = 60


def _require_browser() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the browser tests"
    if os.environ.get("DECORUM_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " (DECORUM_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[Any], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # answering, even with an error status
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(
        f"{url} did not answer within {START_TIMEOUT_SECONDS} s:\n{log.read_text(errors='replace')[-3000:]}"
    )


class LiveApp:
    """The running server: its base URL and the processes and logs behind it."""

    def __init__(self, base_url: str, data_dir: Path, env: dict[str, str]) -> None:
        self.base_url = base_url
        self.data_dir = data_dir
        self.env = env

    def manage(self, *arguments: str) -> str:
        """Run a management command against the app's database; its standard output."""
        done = subprocess.run(
            [sys.executable, "manage.py", *arguments],
            cwd=REPO, env=self.env, check=True, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        return done.stdout

    def api(self, method: str, path: str, key: str) -> Any:
        """Call the REST API with an API key; the decoded JSON answer."""
        request = urllib.request.Request(
            self.url("/api" + path), method=method, headers={"Authorization": f"Bearer {key}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def url(self, path: str) -> str:
        return self.base_url + path

    def server_log(self) -> str:
        return (self.data_dir / "server.log").read_text(errors="replace")


@pytest.fixture(scope="module")
def live_app(request: pytest.FixtureRequest) -> Iterator[LiveApp]:
    """The server for one test module. A module may choose the fake model's answers with FAKE_LLM_RESPONDER (a
    "module:function" for the fake OpenAI server; tests/browser/responder.py by default) and its pace with
    FAKE_LLM_LATENCY (the server's latency options)."""
    _require_browser()
    responder = getattr(request.module, "FAKE_LLM_RESPONDER", "tests.browser.responder:answer")
    # Slow enough per token that the reply visibly streams; fast enough that a turn takes a few seconds.
    latency = getattr(
        request.module, "FAKE_LLM_LATENCY", ("--latency-ms", "100", "--ms-per-10-completion-tokens", "60")
    )
    data_dir = Path(tempfile.mkdtemp(prefix="decorum-browser-"))
    llm_port, web_port = _free_port(), _free_port()
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DECORUM_DATA_DIR": str(data_dir),
            "DEBUG": "true",
            "EMBEDDER": "hashing",
            "TURNS_IN_PROCESS": "true",
            "OPENAI_BASE_URL": f"http://127.0.0.1:{llm_port}/v1",
            "OPENAI_API_KEY": "browser-test-key",
            "OPENAI_MAX_RETRIES": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    processes: list[subprocess.Popen[Any]] = []
    logs = []
    try:
        for command in (["migrate", "--noinput"], ["seed_demo"], ["ensure_demo_users"]):
            subprocess.run(
                [sys.executable, "manage.py", *command], cwd=REPO, env=env, check=True, capture_output=True, timeout=300
            )
        llm_log = (data_dir / "fake-llm.log").open("w")
        logs.append(llm_log)
        llm = subprocess.Popen(
            [
                sys.executable, "-m", "tests.support.fake_openai_server",
                "--host", "127.0.0.1", "--port", str(llm_port),
                *latency,
                "--responder", responder,
            ],
            cwd=REPO, env=env, stdout=llm_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        processes.append(llm)
        _wait_for(f"http://127.0.0.1:{llm_port}/v1/models", llm, data_dir / "fake-llm.log")
        server_log = (data_dir / "server.log").open("w")
        logs.append(server_log)
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{web_port}"],
            cwd=REPO, env=env, stdout=server_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        processes.append(server)
        base_url = f"http://127.0.0.1:{web_port}"
        _wait_for(base_url + "/accounts/login/", server, data_dir / "server.log")
        yield LiveApp(base_url, data_dir, env)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any, live_app: LiveApp) -> Iterator[Any]:
    """A fresh browser context (no cookies) on a laptop-sized window; console errors fail the test."""
    context = chromium.new_context(viewport={"width": 1440, "height": 900}, base_url=live_app.base_url)
    context.set_default_timeout(20_000)
    browser_page = context.new_page()
    errors: list[str] = []
    browser_page.on("pageerror", lambda error: errors.append(str(error)))

    def on_console(message: Any) -> None:
        # A 422 is how a form fragment answers invalid input (it is swapped in with its error), not a failure.
        if message.type == "error" and "status of 422" not in message.text:
            errors.append(message.text)

    browser_page.on("console", on_console)
    yield browser_page
    context.close()
    assert not errors, f"the page logged errors: {errors}"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def log_in(page: Any) -> Any:
    """Log `page` in through the login form as one of the demo users."""

    def run(username: str = "tester") -> None:
        page.goto("/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("form button[type=submit]")
        page.wait_for_load_state()

    return run
