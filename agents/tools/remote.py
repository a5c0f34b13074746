"""Remote tool services over HTTP: fetch the OpenAPI document, call an operation. JSON only, bounded
sizes, a total deadline per request, and no redirect that leaves the service's origin."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx2
import yaml
from asgiref.sync import async_to_sync

from agents.tools.definitions import ToolDefinition
from agents.tools.errors import ToolArgumentError, ToolNotFound, ToolServiceError
from agents.tools.openapi import RemoteOperation, RemoteToolService, openapi_parse, origin

MAX_RESPONSE_BYTES = 256 * 1024
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 3
SERVICE_CACHE_SECONDS = 300.0
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}

_services: dict[str, tuple[float, RemoteToolService]] = {}
_services_lock = threading.Lock()


def _url_checked(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ToolServiceError(f"{url!r:.200} is not an http(s) URL")
    return url


async def _request(
    method: str,
    url: str,
    *,
    timeout: float,  # noqa: ASYNC109 - also the HTTP client's timeout
    max_bytes: int,
    params: Mapping[str, Any] | None = None,
    json_body: Any = None,
) -> tuple[int, str, bytes]:
    """(status, content type, body) of one request, following same-origin GET redirects only."""
    start_origin = origin(_url_checked(url))
    try:
        async with asyncio.timeout(timeout):  # a total deadline: per-read timeouts alone allow slow drips
            async with httpx2.AsyncClient(follow_redirects=False, trust_env=False, timeout=timeout) as client:
                for _hop in range(MAX_REDIRECTS + 1):
                    async with client.stream(
                        method,
                        url,
                        params=params,
                        json=json_body,
                        headers={"Accept": "application/json"},
                    ) as response:
                        if response.status_code in _REDIRECT_STATUSES and "location" in response.headers:
                            target = str(response.url.join(response.headers["location"]))
                            if method != "GET" or origin(target) != start_origin:
                                raise ToolServiceError(f"{method} {url}: redirect to {target!r:.200} refused")
                            url, params = target, None
                            continue
                        declared = response.headers.get("content-length")
                        if declared and declared.isdigit() and int(declared) > max_bytes:
                            raise ToolServiceError(f"{method} {url}: response of {declared} bytes exceeds {max_bytes}")
                        body = bytearray()
                        async for chunk in response.aiter_bytes():  # decoded size: a gzip bomb counts in full
                            body.extend(chunk)
                            if len(body) > max_bytes:
                                raise ToolServiceError(f"{method} {url}: response exceeds {max_bytes} bytes")
                        return response.status_code, response.headers.get("content-type", ""), bytes(body)
                raise ToolServiceError(f"{method} {url}: more than {MAX_REDIRECTS} redirects")
    except TimeoutError as error:
        raise ToolServiceError(f"{method} {url}: no complete response within {timeout:g}s") from error
    except httpx2.HTTPError as error:
        raise ToolServiceError(f"{method} {url}: {type(error).__name__}: {error}") from error


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


async def tool_service_fetch(url: str, *, timeout: float = 5.0) -> RemoteToolService:  # noqa: ASYNC109 - also the HTTP client's timeout
    """Fetch and parse the service's OpenAPI document (JSON, or YAML when served as such)."""
    status, content_type, body = await _request("GET", url, timeout=timeout, max_bytes=MAX_DOCUMENT_BYTES)
    if status != 200:
        raise ToolServiceError(f"GET {url}: HTTP {status}")
    try:
        if "yaml" in content_type.lower() or url.lower().endswith((".yaml", ".yml")):
            document = yaml.safe_load(body.decode("utf-8"))
        else:
            document = json.loads(body)
    except (ValueError, yaml.YAMLError) as error:
        raise ToolServiceError(f"GET {url}: the OpenAPI document does not parse: {error}") from error
    return openapi_parse(document, url=url, timeout=timeout)


async def tool_service_load(url: str, *, timeout: float = 5.0) -> list[ToolDefinition]:  # noqa: ASYNC109 - also the HTTP client's timeout
    """The tools a remote service offers (one per OperationId), by name."""
    service = await tool_service_fetch(url, timeout=timeout)
    _cache_put(url, service)
    return service.definitions()


def tool_service_load_sync(url: str, *, timeout: float = 5.0) -> list[ToolDefinition]:
    """`tool_service_load` for synchronous callers (studio views, management commands)."""
    return async_to_sync(tool_service_load)(url, timeout=timeout)


def _cache_put(url: str, service: RemoteToolService) -> None:
    with _services_lock:
        _services[url] = (time.monotonic(), service)


async def _service_cached(url: str, *, timeout: float) -> RemoteToolService:  # noqa: ASYNC109 - also the HTTP client's timeout
    with _services_lock:
        cached = _services.get(url)
    if cached and time.monotonic() - cached[0] < SERVICE_CACHE_SECONDS:
        return cached[1]
    service = await tool_service_fetch(url, timeout=timeout)
    _cache_put(url, service)
    return service


def tool_service_cache_clear() -> None:
    with _services_lock:
        _services.clear()


def _wire_value(value: Any, enum_values: Mapping[str, Any]) -> Any:
    if isinstance(value, list):
        return [_wire_value(item, enum_values) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if enum_values and isinstance(value, str):
        return enum_values.get(value, value)
    return value


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"  # not Python's "True"
    if isinstance(value, list):
        return [_query_value(item) for item in value]
    return value


async def remote_tool_call(service_url: str, tool_name: str, arguments: Mapping[str, Any], *, timeout: float) -> Any:  # noqa: ASYNC109 - also the HTTP client's timeout
    """Call the operation behind `tool_name` with already-coerced arguments; the JSON it answers
    (None for an empty 2xx body). Raises ToolServiceError for HTTP errors and non-JSON answers."""
    service = await _service_cached(service_url, timeout=timeout)
    operation: RemoteOperation | None = service.operations.get(tool_name)
    if operation is None:
        raise ToolNotFound(f"the service at {service_url} no longer offers {tool_name!r}")
    by_name = {parameter.name: parameter for parameter in operation.parameters}
    unknown = sorted(set(arguments) - set(by_name))
    if unknown:
        raise ToolArgumentError(f"the service does not accept argument(s) {', '.join(unknown)}")

    url = operation.url
    query: dict[str, Any] = {}
    body: dict[str, Any] = {}
    for name, value in arguments.items():
        if value is None:
            continue
        parameter = by_name[name]
        wire = _wire_value(value, parameter.enum_values)
        if parameter.location == "path":
            url = url.replace("{" + parameter.wire_name + "}", quote(str(_query_value(wire)), safe=""))
        elif parameter.location == "query":
            query[parameter.wire_name] = _query_value(wire)
        else:
            body[parameter.wire_name] = wire
    if "{" in urlsplit(url).path:
        raise ToolArgumentError(f"{tool_name}: a path parameter has no value ({urlsplit(url).path})")

    status, content_type, raw = await _request(
        operation.method,
        url,
        timeout=timeout,
        max_bytes=MAX_RESPONSE_BYTES,
        params=query or None,
        json_body=body if operation.has_body else None,
    )
    if not 200 <= status < 300:
        excerpt = raw[:300].decode("utf-8", errors="replace")
        raise ToolServiceError(f"{operation.method} {url}: HTTP {status}: {excerpt}")
    if not raw.strip():
        return None
    if not _is_json(content_type):
        raise ToolServiceError(
            f"{operation.method} {url}: expected JSON, got {content_type or 'no content type'!r:.80}"
        )
    try:
        return json.loads(raw)
    except ValueError as error:
        raise ToolServiceError(f"{operation.method} {url}: malformed JSON: {error}") from error
