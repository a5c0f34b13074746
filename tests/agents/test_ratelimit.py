"""The fixed-window counter behind the API's rate limits."""

from __future__ import annotations

from typing import Any

import pytest

from config.errors import RateLimited
from config.ratelimit import WINDOW_SECONDS, count_request, enforce_rate_limit


def test_requests_are_counted_per_bucket_and_per_window() -> None:
    start = 1_000 * WINDOW_SECONDS + 10

    assert count_request("a", now=start) == (1, WINDOW_SECONDS - 10)
    assert count_request("a", now=start + 1)[0] == 2
    assert count_request("b", now=start + 1)[0] == 1
    assert count_request("a", now=start + WINDOW_SECONDS)[0] == 1  # the next window starts over


def test_an_unreachable_cache_lets_the_request_through(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(bucket: str, **kwargs: Any) -> tuple[int, int]:
        raise ConnectionError("cache down")

    monkeypatch.setattr("config.ratelimit.count_request", broken)

    enforce_rate_limit("anything", 1, "Too many.")  # no exception


def test_going_over_the_limit_raises_with_the_wait() -> None:
    enforce_rate_limit("c", 1, "Too many.")
    with pytest.raises(RateLimited) as refused:
        enforce_rate_limit("c", 1, "Too many.")
    assert refused.value.details["limit_per_minute"] == 1
    assert "Try again in" in refused.value.message
