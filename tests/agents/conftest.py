"""Fixtures for the agents tests: a fake OpenAI-compatible server on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_openai_server import FakeOpenAIServer


@pytest.fixture
def fake_openai_server() -> Iterator[FakeOpenAIServer]:
    """A running fake server with no latency; script failures with `fake_openai_server.script([...])`."""
    with FakeOpenAIServer(host="127.0.0.1", port=0) as server:
        yield server
