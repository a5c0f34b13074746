"""A customer's website for the widget's browser tests: a tiny HTTP server on its own origin (another port of
127.0.0.1) serving pages that embed the widget's snippet under a strict Content-Security-Policy, as a company
would. The page's own scripts (the queue stub, an identify call) are files of this site, never inline."""

from __future__ import annotations

import hashlib
import hmac
import html
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

STUB_JS = "window.Decorum=window.Decorum||function(){(Decorum.q=Decorum.q||[]).push(arguments)};\n"
# Identifies the customer before the widget loads, from this script tag's data-* attributes.
IDENTIFY_JS = """(function () {
  var tag = document.currentScript;
  var identity = {externalId: tag.dataset.externalId, name: tag.dataset.name || "", email: tag.dataset.email || ""};
  if (tag.dataset.token) identity.token = tag.dataset.token;
  Decorum("identify", identity);
})();
"""
# A host stylesheet with rules that would break a widget living in the page's own DOM.
HOST_CSS = (
    "body { font: 16px/1.5 Georgia, serif; margin: 2rem; color: #222; background: #fafaf7; }\n"
    "div { position: relative; transform: translateZ(0); } button { background: hotpink; font-size: 30px; }\n"
    "li { color: red; } * { letter-spacing: 0.1em; }\n"
)


def identity_signature(secret: str, external_id: str) -> str:
    """What a site's backend computes for `identify`: hex(hmac_sha256(secret, externalId)) (docs/widget.md)."""
    return hmac.new(secret.encode(), external_id.encode(), hashlib.sha256).hexdigest()


def strict_policy(app_origin: str) -> str:
    """A strict CSP for a page that embeds the widget: scripts, styles and connections only from the page itself
    and the widget's host (http and ws), nothing inline, no eval."""
    split = urlsplit(app_origin)
    socket_origin = ("wss://" if split.scheme == "https" else "ws://") + split.netloc
    return (
        f"default-src 'none'; script-src 'self' {app_origin}; style-src 'self' {app_origin}; "
        f"connect-src {app_origin} {socket_origin}; img-src 'self' data:; base-uri 'none'; form-action 'none'"
    )


class HostSite:
    """The running site: its origin and the pages it serves (path → HTML)."""

    def __init__(self, server: ThreadingHTTPServer, app_origin: str) -> None:
        self.server = server
        self.app_origin = app_origin
        self.pages: dict[str, str] = {}
        port = server.server_address[1]
        self.origin = f"http://127.0.0.1:{port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def add_page(
        self,
        path: str,
        *,
        public_key: str,
        attributes: Mapping[str, str] | None = None,
        identity: Mapping[str, str] | None = None,
        body: str = "",
    ) -> str:
        """Serve at `path` a page embedding the widget (snippet `attributes` as data-*), identifying the customer
        first when `identity` ({externalId, name, email, token}) is given; its URL."""
        data = {"agent-key": public_key, **(attributes or {})}
        snippet_attributes = " ".join(f'data-{name}="{html.escape(value)}"' for name, value in data.items())
        identify = ""
        if identity is not None:
            names = {"externalId": "external-id", "name": "name", "email": "email", "token": "token"}
            parts = " ".join(f'data-{names[key]}="{html.escape(value)}"' for key, value in identity.items())
            identify = f'<script src="/identify.js" {parts}></script>'
        self.pages[path] = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<title>Skyway Airlines — Help</title><link rel="stylesheet" href="/host.css">'
            '<script src="/stub.js"></script>'
            f"{identify}"
            f'<script src="{self.app_origin}/static/widget/decorum.js" {snippet_attributes} async></script>'
            "</head><body><h1>Skyway Airlines</h1><p>Find your booking, check in, or ask us anything.</p>"
            f'<p><a href="#top" id="host-link">A link on the host page</a></p>{body}</body></html>'
        )
        return self.url(path)


def _handler(site_holder: list[HostSite]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site = site_holder[0]
            path = urlsplit(self.path).path
            files = {"/stub.js": STUB_JS, "/identify.js": IDENTIFY_JS, "/host.css": HOST_CSS}
            if path in site.pages:
                self._send(200, "text/html; charset=utf-8", site.pages[path], policy=strict_policy(site.app_origin))
            elif path in files:
                kind = "text/css" if path.endswith(".css") else "text/javascript"
                self._send(200, f"{kind}; charset=utf-8", files[path])
            elif path == "/favicon.ico":
                self._send(204, "image/x-icon", "")
            else:
                self._send(404, "text/plain; charset=utf-8", "not found")

        def _send(self, status: int, kind: str, text: str, *, policy: str | None = None) -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            if policy:
                self.send_header("Content-Security-Policy", policy)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet

    return Handler


@contextmanager
def host_site(app_origin: str) -> Iterator[HostSite]:
    """A customer's website on a free port of 127.0.0.1 (another origin than the app's), for the block's duration."""
    holder: list[HostSite] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(holder))
    holder.append(HostSite(server, app_origin))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        server.shutdown()
        server.server_close()
