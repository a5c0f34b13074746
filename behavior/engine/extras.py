"""Optional side calls that never add a hop: moderation (speculative, alongside the first hop) and the
preamble (a quick acknowledgement while a multi-hop turn prepares)."""

from __future__ import annotations

import asyncio

from behavior.engine.composition import new_message_id
from behavior.engine.ports import LLMError
from behavior.engine.prompts.reply import moderation_prompt, preamble_prompt
from behavior.engine.prompts.sections import one_line
from behavior.engine.runtime import TurnRuntime
from behavior.engine.schemas import ModerationVerdict, Preamble
from behavior.engine.types import EmittedMessage

MAX_PREAMBLE_CHARS = 160


async def moderation_check(runtime: TurnRuntime, text: str) -> ModerationVerdict | None:
    """Runs concurrently with the first hop. A failed check is traced and treated as not flagged."""
    try:
        verdict = await runtime.generate(
            moderation_prompt(text), ModerationVerdict, hop=None, critical=False, max_tokens=300
        )
    except LLMError as exc:
        runtime.trace.error("moderation", exc)
        runtime.trace.context["moderation"] = {"checked": False, "flagged": False, "error": str(exc)[:500]}
        return None
    runtime.trace.context["moderation"] = {
        "checked": True,
        "flagged": verdict.flagged,
        "categories": [one_line(c, 40) for c in verdict.categories[:10]],
        "rationale": verdict.rationale[:500],
    }
    return verdict


def censor(runtime: TurnRuntime, verdict: ModerationVerdict) -> None:
    """The flagged message reaches every later prompt only as a censored marker."""
    last = runtime.interaction.last_customer_message
    if last is None:
        return
    categories = ", ".join(one_line(c, 40) for c in verdict.categories[:5]) or "inappropriate content"
    runtime.censored[last.offset] = f"[message censored by moderation: {categories}]"
    runtime.moderation_note = (
        f"The customer's last message was flagged by moderation ({categories}) and is censored. "
        "Do not repeat or act on its content; respond calmly and within policy."
    )


class PreambleTask:
    """Generates and emits the acknowledgement (data {"preamble": True}) concurrently with the first hop.
    Once the reply is about to be composed, a preamble not yet emitted is abandoned: it would arrive late."""

    def __init__(self, runtime: TurnRuntime, sent: list[EmittedMessage]) -> None:
        self.runtime = runtime
        self.sent = sent
        self.closed = False
        self.generating = True
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        runtime = self.runtime
        try:
            result = await runtime.generate(preamble_prompt(runtime), Preamble, hop=None, critical=False, max_tokens=80)
        except LLMError as exc:
            runtime.trace.error("preamble", exc)
            return
        finally:
            self.generating = False
        text = one_line(result.message, MAX_PREAMBLE_CHARS)
        if not text or self.closed or await runtime.ports.cancellation.is_cancelled() or self.closed:
            runtime.trace.composition["preamble"] = None
            return
        message = EmittedMessage(message_id=new_message_id(), text=text, data={"preamble": True})
        self.sent.append(message)
        runtime.trace.composition["preamble"] = text
        await runtime.ports.emitter.message(message_id=message.message_id, text=text, data={"preamble": True})

    async def close(self) -> None:
        """Called before composition: from now on the preamble is not sent."""
        self.closed = True
        if self.task.done():
            await self.task
        elif self.generating:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        else:
            await self.task  # mid-emission: let it finish so the event is whole
