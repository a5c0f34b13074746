"""ASGI entry point: HTTP through Django, websockets through Channels (sandbox and widget consumers)."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from sessions.routing import websocket_application  # noqa: E402
from sessions.widget.asgi import http_application  # noqa: E402

application = ProtocolTypeRouter(
    {
        # The widget's long-poll skips the middleware chain, whose sync-only parts would hold a thread per poll.
        "http": http_application(django_asgi_app),
        # The widget's route checks its key's origins itself; the others sit behind the host check and the login.
        "websocket": websocket_application(),
    }
)

# Embedded mode runs turns in this process: fail the turns a restart interrupted, run the queued ones.
from sessions.services.turns import turns_recover_on_startup  # noqa: E402

turns_recover_on_startup()

# ... and, with no Celery beat, attempts the webhook deliveries whose scheduled retry a restart lost.
from sessions.webhooks.services import webhooks_sweeper_start  # noqa: E402

webhooks_sweeper_start()

# ... and evaluation runs: attempts a restart interrupted are errors, queued ones are queued again.
from behavior.evaluations.runs import runs_recover_on_startup  # noqa: E402

runs_recover_on_startup()
