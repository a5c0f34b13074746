"""How the fake models stream a structured answer: its JSON in small pieces, as a streaming server sends it."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from behavior.engine.ports import TextSink


async def stream_json(
    answer: Any,
    on_text: TextSink,
    *,
    piece_chars: int = 16,
    before_piece: Callable[[str], Awaitable[None]] | None = None,
) -> None:
    """Send an answer's JSON (a model instance or plain data) to `on_text` in pieces of `piece_chars`
    characters; `before_piece(piece)` is awaited before each one (to pace it like a model)."""
    text = answer.model_dump_json() if isinstance(answer, BaseModel) else json.dumps(answer)
    size = max(1, piece_chars)
    for start in range(0, len(text), size):
        piece = text[start : start + size]
        if before_piece is not None:
            await before_piece(piece)
        await on_text(piece)
