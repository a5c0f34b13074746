"""Remote tool services: an OpenAPI document on a loopback stdlib HTTP server becomes tools, and
calls go over HTTP with timeouts, size limits, JSON only and same-origin redirects only."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from agents.tools import (
    AgentToolRunner,
    ToolArgumentError,
    ToolBinding,
    ToolParameterDefinition,
    ToolServiceError,
    tool_service_cache_clear,
    tool_service_fetch,
    tool_service_load,
    tool_service_load_sync,
)
from behavior.engine.ports import ToolCallRequest, ToolOutcome

OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "CRM", "version": "1"},
    "servers": [{"url": "/api"}],
    "paths": {
        "/bookings/{bookingRef}": {
            "parameters": [
                {
                    "name": "bookingRef",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "Booking reference",
                }
            ],
            "get": {
                "operationId": "getBooking",
                "summary": "Look up a booking",
                "parameters": [
                    {"name": "includeHistory", "in": "query", "schema": {"type": "boolean"}},
                    {"name": "since", "in": "query", "schema": {"type": "string", "format": "date"}},
                    {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
                ],
            },
        },
        "/refunds": {
            "post": {
                "operationId": "createRefund",
                "description": "Start a refund",
                "x-decorum-consequential": True,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Refund"}}},
                },
            }
        },
        "/slow": {"get": {"operationId": "slow_thing", "summary": "Slow"}},
        "/huge": {"get": {"operationId": "huge_thing", "summary": "Huge, with Content-Length"}},
        "/huge-stream": {"get": {"operationId": "huge_stream", "summary": "Huge, without Content-Length"}},
        "/text": {"get": {"operationId": "plain_text", "summary": "Not JSON"}},
        "/broken": {"get": {"operationId": "server_error", "summary": "Fails"}},
        "/redirect-here": {"get": {"operationId": "redirect_here", "summary": "Same-origin redirect"}},
        "/redirect-away": {"get": {"operationId": "redirect_away", "summary": "Redirect elsewhere"}},
        "/objects": {
            "get": {
                "operationId": "objectQuery",
                "parameters": [{"name": "filter", "in": "query", "schema": {"type": "object"}}],
            }
        },
        "/needs-header": {
            "get": {
                "operationId": "needsHeader",
                "parameters": [{"name": "X-Key", "in": "header", "required": True, "schema": {"type": "string"}}],
            }
        },
        "/anonymous": {"get": {"summary": "No operationId: not a tool"}},
    },
    "components": {
        "schemas": {
            "Refund": {
                "type": "object",
                "required": ["amount", "reason"],
                "properties": {
                    "amount": {"type": "number", "description": "Amount in euros"},
                    "reason": {"$ref": "#/components/schemas/Reason"},
                    "priority": {"type": "integer", "enum": [1, 2]},
                    "travelDate": {"type": "string", "format": "date"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                },
            },
            "Reason": {"type": "string", "enum": ["cancelled", "delayed"], "description": "Why"},
        }
    },
}


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client hanging up on a slow or oversized response is what those tests provoke


class ToolServer:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def send_json(self, status: int, payload: Any, *, content_type: str = "application/json") -> None:
                raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                self.handle_any(None)

            def do_POST(self) -> None:
                self.handle_any(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))

            def handle_any(self, body: Any) -> None:
                parts = urlsplit(self.path)
                server.requests.append(
                    {"method": self.command, "path": parts.path, "query": parse_qs(parts.query), "body": body}
                )
                path = parts.path
                if path == "/openapi.json":
                    self.send_json(200, server.document)
                elif path.startswith("/api/bookings/"):
                    self.send_json(200, {"reference": path.rsplit("/", 1)[1], "query": parse_qs(parts.query)})
                elif path == "/api/refunds":
                    self.send_json(201, {"refund_id": "R-1", "received": body})
                elif path == "/api/slow":
                    time.sleep(1.0)
                    self.send_json(200, {"late": True})
                elif path == "/api/huge":
                    self.send_json(200, {"blob": "x" * 300_000})
                elif path == "/api/huge-stream":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()  # no Content-Length: HTTP/1.0 body until the connection closes
                    self.wfile.write(b'{"blob": "')
                    for _ in range(40):
                        self.wfile.write(b"y" * 10_000)
                    self.wfile.write(b'"}')
                elif path == "/api/text":
                    self.send_json(200, b"<html>hello</html>", content_type="text/html")
                elif path == "/api/broken":
                    self.send_json(500, {"error": "database unavailable"})
                elif path in ("/api/redirect-here", "/api/redirect-away"):
                    port = self.server.server_address[1]
                    host = "127.0.0.1" if path.endswith("here") else "localhost"
                    self.send_response(302)
                    self.send_header("Location", f"http://{host}:{port}/api/bookings/MOVED")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self.send_json(404, {"error": "not found"})

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/openapi.json"
        self.thread = threading.Thread(target=lambda: self.httpd.serve_forever(poll_interval=0.05), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def service() -> Iterator[ToolServer]:
    tool_service_cache_clear()
    server = ToolServer(json.loads(json.dumps(OPENAPI)))
    yield server
    server.close()
    tool_service_cache_clear()


async def test_it_turns_operations_into_typed_tools(service: ToolServer, caplog: pytest.LogCaptureFixture) -> None:
    definitions = {definition.name: definition for definition in await tool_service_load(service.url, timeout=2)}
    assert sorted(definitions) == [
        "create_refund",
        "get_booking",
        "huge_stream",
        "huge_thing",
        "plain_text",
        "redirect_away",
        "redirect_here",
        "server_error",
        "slow_thing",
    ]
    booking = definitions["get_booking"]
    assert booking.description == "Look up a booking"
    assert booking.timeout_seconds == 2 and booking.consequential is False
    assert booking.parameters == (
        ToolParameterDefinition(name="booking_ref", type="str", description="Booking reference", required=True),
        ToolParameterDefinition(name="include_history", type="bool", required=False),
        ToolParameterDefinition(name="since", type="date", required=False),
    )
    refund = definitions["create_refund"]
    assert refund.consequential is True and refund.description == "Start a refund"
    assert [(p.name, p.type, p.required, p.enum, p.items) for p in refund.parameters] == [
        ("amount", "float", True, (), None),
        ("reason", "enum", True, ("cancelled", "delayed"), None),
        ("priority", "enum", False, ("1", "2"), None),
        ("travel_date", "date", False, (), None),
        ("tags", "list", False, (), "str"),
        ("note", "str", False, (), None),
    ]
    assert refund.parameters[1].description == "Why"
    assert "skipping GET /objects" in caplog.text and "skipping GET /needs-header" in caplog.text


def test_it_loads_a_service_from_synchronous_code(service: ToolServer) -> None:
    assert "get_booking" in [definition.name for definition in tool_service_load_sync(service.url, timeout=2)]


async def remote_runner(service: ToolServer) -> AgentToolRunner:
    definitions = {definition.name: definition for definition in await tool_service_load(service.url, timeout=2)}
    return AgentToolRunner(
        {name: ToolBinding(definition, "remote", service.url) for name, definition in definitions.items()}
    )


def call(name: str, arguments: dict[str, Any] | None = None, *, timeout: float = 2.0) -> ToolCallRequest:
    return ToolCallRequest(
        tool_name=name, arguments=arguments or {}, session_id="s", customer_id=None, timeout_seconds=timeout
    )


async def test_it_calls_a_get_operation_with_path_and_query_parameters(service: ToolServer) -> None:
    runner = await remote_runner(service)
    outcome = await runner.run(
        call("get_booking", {"booking_ref": "AB C/1", "include_history": "yes", "since": "2025-01-31"})
    )
    assert outcome == ToolOutcome(
        data={"reference": "AB%20C%2F1", "query": {"includeHistory": ["true"], "since": ["2025-01-31"]}}
    )
    assert service.requests[-1]["path"] == "/api/bookings/AB%20C%2F1"


async def test_it_posts_a_json_body_with_the_service_names_and_values(service: ToolServer) -> None:
    runner = await remote_runner(service)
    outcome = await runner.run(
        call(
            "create_refund",
            {"amount": "12.5", "reason": "delayed", "priority": "2", "travel_date": "2025-02-01", "tags": ["a", "b"]},
        )
    )
    assert outcome.data == {
        "refund_id": "R-1",
        "received": {
            "amount": 12.5,
            "reason": "delayed",
            "priority": 2,
            "travelDate": "2025-02-01",
            "tags": ["a", "b"],
        },
    }


async def test_it_rejects_invalid_arguments_before_calling(service: ToolServer) -> None:
    runner = await remote_runner(service)
    count = len(service.requests)
    with pytest.raises(ToolArgumentError, match="expected one of cancelled, delayed"):
        await runner.run(call("create_refund", {"amount": 1, "reason": "bored"}))
    assert len(service.requests) == count


async def test_a_slow_service_times_out(service: ToolServer) -> None:
    runner = await remote_runner(service)
    started = time.monotonic()
    with pytest.raises(ToolServiceError, match=r"no complete response within 0.3s"):
        await runner.run(call("slow_thing", timeout=0.3))
    assert time.monotonic() - started < 0.9


@pytest.mark.parametrize("name", ["huge_thing", "huge_stream"])
async def test_an_oversized_response_is_an_error(service: ToolServer, name: str) -> None:
    runner = await remote_runner(service)
    with pytest.raises(ToolServiceError, match="exceeds 262144"):
        await runner.run(call(name))


async def test_a_non_json_response_is_an_error(service: ToolServer) -> None:
    runner = await remote_runner(service)
    with pytest.raises(ToolServiceError, match="expected JSON, got 'text/html'"):
        await runner.run(call("plain_text"))


async def test_an_http_error_status_is_an_error_with_an_excerpt(service: ToolServer) -> None:
    runner = await remote_runner(service)
    with pytest.raises(ToolServiceError, match=r"HTTP 500: .*database unavailable"):
        await runner.run(call("server_error"))


async def test_redirects_are_followed_only_on_the_same_origin(service: ToolServer) -> None:
    runner = await remote_runner(service)
    assert (await runner.run(call("redirect_here"))).data["reference"] == "MOVED"
    with pytest.raises(ToolServiceError, match=r"redirect to 'http://localhost:.*refused"):
        await runner.run(call("redirect_away"))


async def test_a_document_pointing_calls_at_another_host_is_refused(service: ToolServer) -> None:
    service.document["servers"] = [{"url": "http://169.254.169.254/latest"}]
    with pytest.raises(ToolServiceError, match="another host"):
        await tool_service_fetch(service.url, timeout=2)


async def test_a_document_that_is_not_openapi_3_is_refused(service: ToolServer) -> None:
    service.document.clear()
    service.document["swagger"] = "2.0"
    with pytest.raises(ToolServiceError, match="not an OpenAPI 3 document"):
        await tool_service_load(service.url, timeout=2)


async def test_an_unreachable_service_is_an_error() -> None:
    tool_service_cache_clear()
    with pytest.raises(ToolServiceError, match="ConnectError"):
        await tool_service_load("http://127.0.0.1:9/openapi.json", timeout=1)
    with pytest.raises(ToolServiceError, match="not an http"):
        await tool_service_load("file:///etc/passwd", timeout=1)
