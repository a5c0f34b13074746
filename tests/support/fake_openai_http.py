"""The fake OpenAI server's HTTP side: a threaded HTTP/1.1 server (keep-alive, chunked SSE) and the
request handler for the API and `/_control/*` routes. Stdlib only."""

from __future__ import annotations

import base64
import json
import math
import re
import socket
import struct
import sys
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tests.support.fake_openai_replies import (
    MAX_BODY_BYTES,
    MAX_EMBEDDING_DIMENSIONS,
    MAX_EMBEDDING_INPUTS,
    Outcome,
    embedding_inputs,
    embedding_vector,
    estimated_tokens,
    prompt_tokens,
    response_schema,
)

if TYPE_CHECKING:
    from tests.support.fake_openai_server import FakeOpenAIServer

_STREAM_PIECE = re.compile(r"\S+\s*|\s+")


class FakeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # the realtime benchmark opens hundreds of connections at once

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], *, fake: FakeOpenAIServer):
        self.fake = fake
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up (a timeout, an abandoned stream, a closed pool) is routine here.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _ClientGone(Exception):
    """The client closed the connection (gave up on a timeout, or the server is stopping)."""


class FakeRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client reuses connections, as with a real server
    server_version = "FakeOpenAI/1.0"
    timeout = 300  # an idle keep-alive connection is dropped after this
    server: FakeHTTPServer

    def setup(self) -> None:
        super().setup()
        # SSE chunks are small writes: without this, Nagle's algorithm delays them.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.fake._track(self.connection, open_=True)

    def finish(self) -> None:
        self.server.fake._track(self.connection, open_=False)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.fake.verbose:
            sys.stderr.write(f"fake-openai {self.address_string()} {format % args}\n")

    # ------------------------------------------------------------------ routing

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        path = urlsplit(self.path).path.rstrip("/")
        api_path = path[3:] if path.startswith("/v1/") else path
        try:
            if path.startswith("/_control/"):
                self._control(method, path)
                return
            if api_path not in {"/chat/completions", "/embeddings", "/models"}:
                self._error(404, f"no route for {method} {path}", kind="invalid_request_error")
                return
            body = self._read_json() if method == "POST" else None
            if body is False:
                return
            self.server.fake._log(
                {
                    "method": method,
                    "path": path,
                    "headers": {key.lower(): value for key, value in self.headers.items()},
                    "body": body,
                    "received_at": time.time(),
                }
            )
            if not self._authorized():
                self._error(401, "Incorrect API key provided", kind="invalid_request_error", code="invalid_api_key")
            elif method == "GET" and api_path == "/models":
                self._models()
            elif method == "POST" and api_path == "/chat/completions":
                self._chat(body)
            elif method == "POST" and api_path == "/embeddings":
                self._embeddings(body)
            else:
                self._error(405, f"{method} is not allowed on {path}", kind="invalid_request_error")
        except _ClientGone:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _authorized(self) -> bool:
        expected = self.server.fake.api_key
        return expected is None or self.headers.get("Authorization", "") == f"Bearer {expected}"

    def _read_json(self) -> Any:
        """The parsed JSON body, or False after an error reply was sent."""
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            self.close_connection = True
            self._error(411, "a Content-Length header is required", kind="invalid_request_error")
            return False
        try:
            length = int(length_header)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True  # the body is left unread
            self._error(413, f"the request body must be at most {MAX_BODY_BYTES} bytes", kind="invalid_request_error")
            return False
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw or b"null")
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            self._error(400, f"the request body is not valid JSON: {error}", kind="invalid_request_error")
            return False
        return body

    # ------------------------------------------------------------------ endpoints

    def _models(self) -> None:
        created = int(time.time())
        data = [
            {"id": model, "object": "model", "created": created, "owned_by": "fake"}
            for model in self.server.fake.models
        ]
        self._json(200, {"object": "list", "data": data})

    def _chat(self, body: Any) -> None:
        fake = self.server.fake
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
            self._error(400, "'messages' must be a non-empty array", kind="invalid_request_error", param="messages")
            return
        if not isinstance(body.get("model"), str) or not body["model"]:
            self._error(400, "'model' must be a non-empty string", kind="invalid_request_error", param="model")
            return
        outcome = fake._take_outcome("chat")
        if outcome is not None and not self._scripted_prelude(outcome):
            return
        try:
            content = fake.chat_content(body, outcome)
        except Exception as error:  # a faulty responder must show up in the test, not hang it
            self._error(500, f"the responder failed: {error!r}", kind="server_error")
            return
        finish_reason = "stop"
        max_tokens = body.get("max_tokens") or body.get("max_completion_tokens")
        if isinstance(max_tokens, int) and max_tokens > 0 and response_schema(body) is None:
            if estimated_tokens(content) > max_tokens:
                content, finish_reason = content[: max_tokens * 4], "length"
        usage = {"prompt_tokens": prompt_tokens(body), "completion_tokens": estimated_tokens(content)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        completion_id = f"chatcmpl-fake-{fake._next_id()}"
        if body.get("stream") is True:
            options = body.get("stream_options")
            include_usage = isinstance(options, dict) and options.get("include_usage") is True
            self._chat_stream(body, completion_id, content, finish_reason, usage if include_usage else None)
            return
        seconds = fake.latency.first_token_seconds(usage["prompt_tokens"])
        seconds += fake.latency.completion_seconds(usage["completion_tokens"])
        if not fake._sleep(seconds):
            raise _ClientGone
        self._json(
            200,
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": None},
                        "finish_reason": finish_reason,
                        "logprobs": None,
                    }
                ],
                "usage": usage,
            },
        )

    def _chat_stream(
        self, body: dict[str, Any], completion_id: str, content: str, finish_reason: str, usage: dict[str, int] | None
    ) -> None:
        fake = self.server.fake
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        created = int(time.time())

        def chunk(
            delta: dict[str, Any], finish: str | None = None, *, final_usage: dict[str, int] | None = None
        ) -> None:
            payload: dict[str, Any] = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": body["model"],
                "choices": []
                if final_usage
                else [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            }
            if usage is not None:
                payload["usage"] = final_usage
            self._write_chunk(f"data: {json.dumps(payload)}\n\n".encode())

        chunk({"role": "assistant", "content": ""})
        prompt_usage = usage["prompt_tokens"] if usage else prompt_tokens(body)
        if not fake._sleep(fake.latency.first_token_seconds(prompt_usage)):
            raise _ClientGone
        pieces = _STREAM_PIECE.findall(content)
        per_piece = fake.latency.completion_seconds(estimated_tokens(content)) / max(1, len(pieces))
        for index, piece in enumerate(pieces):
            if index and not fake._sleep(per_piece):
                raise _ClientGone
            chunk({"content": piece})
        chunk({}, finish_reason)
        if usage is not None:
            chunk({}, final_usage=usage)
        self._write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")

    def _embeddings(self, body: Any) -> None:
        fake = self.server.fake
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            self._error(400, "'model' must be a string", kind="invalid_request_error", param="model")
            return
        texts = embedding_inputs(body.get("input"))
        if texts is None:
            self._error(
                400,
                f"'input' must be a string or an array of at most {MAX_EMBEDDING_INPUTS} strings or token arrays",
                kind="invalid_request_error",
                param="input",
            )
            return
        dimensions = body.get("dimensions", fake.embedding_dimensions)
        if (
            isinstance(dimensions, bool)
            or not isinstance(dimensions, int)
            or not 1 <= dimensions <= MAX_EMBEDDING_DIMENSIONS
        ):
            self._error(
                400, f"'dimensions' must be between 1 and {MAX_EMBEDDING_DIMENSIONS}", kind="invalid_request_error"
            )
            return
        outcome = fake._take_outcome("embeddings")
        if outcome is not None and not self._scripted_prelude(outcome):
            return
        tokens = sum(estimated_tokens(text) for text in texts)
        if not fake._sleep(fake.latency.first_token_seconds(tokens)):
            raise _ClientGone
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for index, text in enumerate(texts):
            vector = embedding_vector(text, dimensions=dimensions)
            encoded: Any = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode() if as_base64 else vector
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        self._json(
            200,
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    def _scripted_prelude(self, outcome: Outcome) -> bool:
        """Apply a scripted delay and error; False when an error reply was sent instead of a result."""
        if not self.server.fake._sleep(outcome.delay):
            raise _ClientGone
        if outcome.status is None:
            return True
        kinds = {429: ("rate_limit_exceeded", "requests"), 401: ("invalid_request_error", "invalid_api_key")}
        kind, code = kinds.get(
            outcome.status, ("server_error" if outcome.status >= 500 else "invalid_request_error", None)
        )
        message = outcome.message or f"scripted HTTP {outcome.status}"
        self._error(outcome.status, message, kind=kind, code=code, retry_after=outcome.retry_after)
        return False

    # ------------------------------------------------------------------ control

    def _control(self, method: str, path: str) -> None:
        fake = self.server.fake
        if method == "POST" and path == "/_control/script":
            body = self._read_json()
            if body is False:
                return
            items = body.get("outcomes") if isinstance(body, dict) else body
            if not isinstance(items, list):
                self._error(400, "send {'outcomes': [...]}", kind="invalid_request_error")
                return
            try:
                fake.script(items)
            except ValueError as error:
                self._error(400, str(error), kind="invalid_request_error")
                return
            self._json(200, {"queued": len(items), "pending": fake.pending_outcomes})
        elif method == "POST" and path == "/_control/reset":
            if self.headers.get("Content-Length") and self._read_json() is False:
                return
            fake.reset()
            self._json(200, {"reset": True})
        elif method == "GET" and path == "/_control/requests":
            self._json(200, {"requests": fake.requests, "pending_outcomes": fake.pending_outcomes})
        else:
            self._error(404, f"no control route {method} {path}", kind="invalid_request_error")

    # ------------------------------------------------------------------ writing

    def _json(self, status: int, payload: Any, *, headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(
        self,
        status: int,
        message: str,
        *,
        kind: str,
        code: str | None = None,
        param: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        headers = {}
        if retry_after is not None:
            headers["Retry-After"] = str(math.ceil(retry_after))
            headers["retry-after-ms"] = str(int(retry_after * 1000))
        payload = {"error": {"message": message, "type": kind, "param": param, "code": code}}
        self._json(status, payload, headers=headers)

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
