"""`ws/inbox/`: tells an open inbox page that its lists changed (a handoff requested, taken or handed back, a
conversation ended, a customer wrote in one a human handles). Only logged-in operators and admins; the page
re-fetches its lists, so nothing here carries conversation content beyond the session's uid and mode.

server → {"type": "inbox", "session": "<uid>", "change": "waiting" | "taken" | "returned" | "closed" | ...,
          "mode": "auto" | "waiting" | "human"};  {"type": "pong"} for a client's {"type": "ping"}.
Close codes: 4401 not logged in, 4403 not an operator or admin.
"""

from __future__ import annotations

import json
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer

from agents.permissions import Area, user_may_open
from sessions.broadcast import INBOX_GROUP, home_loop_register
from sessions.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, database_call


class InboxConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.joined = False
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self._refuse(CLOSE_UNAUTHENTICATED)
            return
        if not await database_call(user_may_open)(user, Area.INBOX):
            await self._refuse(CLOSE_FORBIDDEN)
            return
        home_loop_register()
        await self.channel_layer.group_add(INBOX_GROUP, self.channel_name)
        self.joined = True
        await self.accept()

    async def _refuse(self, code: int) -> None:
        # Accept, then close: a browser sees the close code only on an open socket.
        await self.accept()
        await self.close(code=code)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "joined", False):
            await self.channel_layer.group_discard(INBOX_GROUP, self.channel_name)
            self.joined = False

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.joined or not text_data or len(text_data) > 200:
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            return
        if isinstance(frame, dict) and frame.get("type") == "ping":
            await self.send(text_data=json.dumps({"type": "pong"}))

    async def inbox_changed(self, message: dict[str, Any]) -> None:
        await self.send(
            text_data=json.dumps(
                {
                    "type": "inbox",
                    "session": str(message.get("session", "")),
                    "change": str(message.get("change", "")),
                    "mode": str(message.get("mode", "")),
                }
            )
        )
