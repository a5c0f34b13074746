"""A fake OpenAI-compatible HTTP server (stdlib only) for tests, end-to-end runs and benchmarks:
chat completions (plain, JSON-schema, SSE-streamed), embeddings and models, with a latency model and
scripted failures.

    python -m tests.support.fake_openai_server --host 127.0.0.1 --port 8555 --latency-ms 400 \
        --ms-per-100-prompt-tokens 5 --ms-per-10-completion-tokens 20 [--responder module:function]
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import signal
import socket
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.support.fake_openai_http import FakeHTTPServer, FakeRequestHandler
from tests.support.fake_openai_replies import (
    MAX_EMBEDDING_DIMENSIONS,
    LatencyModel,
    Outcome,
    default_content,
    embedding_vector,
    estimated_tokens,
    invalid_instance,
    outcomes_from,
    prompt_tokens,
    response_schema,
)

__all__ = [
    "FakeOpenAIServer",
    "LatencyModel",
    "Outcome",
    "Responder",
    "default_content",
    "embedding_vector",
    "estimated_tokens",
    "main",
    "outcomes_from",
    "prompt_tokens",
    "responder_from_path",
    "response_schema",
]

Responder = Callable[[dict[str, Any]], "str | None"]


@dataclass
class _State:
    outcomes: dict[str, deque[Outcome]] = field(default_factory=lambda: {"chat": deque(), "embeddings": deque()})
    requests: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=10_000))


class FakeOpenAIServer:
    """The server, in a background thread. `base_url` ends in `/v1`, ready for `openai.AsyncOpenAI`.
    One thread per connection and no lock held while sleeping, so concurrent calls overlap."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: LatencyModel | None = None,
        responder: Responder | None = None,
        models: Sequence[str] = ("fake-model",),
        embedding_dimensions: int = 256,
        api_key: str | None = None,
        verbose: bool = False,
    ) -> None:
        if not 1 <= embedding_dimensions <= MAX_EMBEDDING_DIMENSIONS:
            raise ValueError(f"embedding_dimensions must be between 1 and {MAX_EMBEDDING_DIMENSIONS}")
        self.host = host
        self.port = port
        self.latency = latency or LatencyModel()
        self.responder = responder
        self.models = tuple(models)
        self.embedding_dimensions = embedding_dimensions
        self.api_key = api_key
        self.verbose = verbose
        self._state = _State()
        self._lock = threading.Lock()  # guards _state and _connections only; never held while sleeping
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self._httpd: FakeHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeOpenAIServer:
        if self._httpd is not None:
            raise RuntimeError("the fake OpenAI server is already running")
        self._stopping.clear()
        self._httpd = FakeHTTPServer((self.host, self.port), FakeRequestHandler, fake=self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-openai-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; scripted delays and streams in progress end at once."""
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:  # idle keep-alive connections would otherwise hold their threads
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    # ------------------------------------------------------------------ scripting and inspection

    def script(self, outcomes: Iterable[Outcome | Mapping[str, Any]]) -> None:
        """Queue outcomes, e.g. `[{"status": 429, "retry_after": 0.01}, {"malformed": True}]`."""
        parsed = outcomes_from(outcomes)
        with self._lock:
            for outcome in parsed:
                self._state.outcomes[outcome.endpoint].append(outcome)

    def reset(self) -> None:
        """Forget queued outcomes and logged requests."""
        with self._lock:
            self._state = _State()

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Logged API requests, oldest first: method, path, headers (lower-case), body, received_at."""
        with self._lock:
            return list(self._state.requests)

    def chat_requests(self) -> list[dict[str, Any]]:
        return [entry for entry in self.requests if entry["path"].endswith("/chat/completions")]

    @property
    def pending_outcomes(self) -> int:
        with self._lock:
            return sum(len(queue) for queue in self._state.outcomes.values())

    def _take_outcome(self, endpoint: str) -> Outcome | None:
        with self._lock:
            queue = self._state.outcomes[endpoint]
            return queue.popleft() if queue else None

    def _log(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._state.requests.append(entry)

    def _next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server stops meanwhile; False when it did."""
        return seconds <= 0 or not self._stopping.wait(seconds)

    def _track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    # ------------------------------------------------------------------ replies

    def chat_content(self, body: dict[str, Any], outcome: Outcome | None) -> str:
        """The assistant's content for a chat request (scripted, responder, or default)."""
        schema = response_schema(body)
        if outcome is not None:
            if outcome.content is not None:
                return outcome.content
            if outcome.malformed:
                return '{"this reply": is not valid JSON'
            if outcome.invalid:
                return invalid_instance(schema)
        if self.responder is not None:
            answer = self.responder(body)
            if answer is not None:
                if not isinstance(answer, str):
                    raise TypeError(f"the responder returned {type(answer).__name__}, expected str or None")
                return answer
        return default_content(body)


# ---------------------------------------------------------------------- command line


def responder_from_path(path: str) -> Responder:
    """`package.module:function` → the function (a `(request_json) -> str | None` responder)."""
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"--responder must look like package.module:function, not {path!r}")
    responder = getattr(importlib.import_module(module_name), attribute)
    if not callable(responder):
        raise ValueError(f"{path} is not callable")
    return responder


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fake OpenAI-compatible server for tests and benchmarks.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8555, help="0 picks a free port (printed on start)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="fixed time per call")
    parser.add_argument("--ms-per-100-prompt-tokens", type=float, default=0.0)
    parser.add_argument("--ms-per-10-completion-tokens", type=float, default=0.0)
    parser.add_argument("--responder", help="package.module:function answering (request_json) -> str | None")
    parser.add_argument("--model", action="append", dest="models", help="a model id listed by /v1/models (repeatable)")
    parser.add_argument("--embedding-dimensions", type=int, default=256)
    parser.add_argument("--api-key", help="require this bearer key (default: accept any)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    arguments = parser.parse_args(argv)
    server = FakeOpenAIServer(
        host=arguments.host,
        port=arguments.port,
        latency=LatencyModel(
            base_ms=arguments.latency_ms,
            ms_per_100_prompt_tokens=arguments.ms_per_100_prompt_tokens,
            ms_per_10_completion_tokens=arguments.ms_per_10_completion_tokens,
        ),
        responder=responder_from_path(arguments.responder) if arguments.responder else None,
        models=arguments.models or ("fake-model",),
        embedding_dimensions=arguments.embedding_dimensions,
        api_key=arguments.api_key,
        verbose=arguments.verbose,
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    server.start()
    print(f"fake OpenAI server listening on {server.base_url}", flush=True)
    stopped.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
