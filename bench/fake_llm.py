"""The bench's LLM: implements the engine's `LLM` port with plausible, schema-valid answers and a
latency model, waiting with `asyncio.sleep` (virtual time under `bench.virtual_loop`).

Verdicts follow what the prompt shows: a guideline "applies" when its condition shares enough topic
words with the latest customer message (`bench.text.overlap_holds`), so retrieval quality decides what
gets matched, and tools and journeys are exercised. Tool arguments are read from the conversation
(booking references, dates, ...). Every answer is built as a dict and validated by the schema itself."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from behavior.engine.ports import LLMCallRecord, LLMRequest, StructuredResult, TextSink
from behavior.engine.types import Journey, Snapshot, Tool
from bench.text import estimate_tokens, fact_pattern, find_latest, overlap_holds

SchemaT = TypeVar("SchemaT", bound=BaseModel)
VerdictPolicy = Literal["overlap", "all"]

_GUIDELINE_LINE = re.compile(r"^- \[(?P<key>[^\]]+)\](?: \((?P<tags>[^)]*)\))? (?P<body>.+)$", re.MULTILINE)
_HISTORY_CUSTOMER = re.compile(r"^#\d+ customer: (.*)$", re.MULTILINE)
_ANALYSIS_CUSTOMER = re.compile(r"^Customer: (.*)$", re.MULTILINE)
_KEY_FACTS = re.compile(r"^Key facts from the customer: (.*)$", re.MULTILINE)
_MARKER = "^{name}: ?(.*)$"
_EXIT_WORDS = ("never mind", "forget it", "stop this", "cancel the claim", "cancel the change")
_REPLY_CHUNK_CHARS = 16  # about four tokens per streamed chunk


@dataclass(frozen=True)
class LatencyModel:
    """Simulated latency of one call: `per_call_ms` + `per_100_prompt_tokens_ms` per 100 prompt tokens
    (until the first token) + `per_10_completion_tokens_ms` per 10 completion tokens."""

    per_call_ms: float = 400.0
    per_100_prompt_tokens_ms: float = 5.0
    per_10_completion_tokens_ms: float = 20.0

    @classmethod
    def parse(cls, text: str) -> LatencyModel:
        """ "400,5,20" → LatencyModel(400, 5, 20)."""
        parts = [float(p) for p in text.split(",")]
        if len(parts) != 3 or any(p < 0 for p in parts):
            raise ValueError(
                "the latency model is three non-negative numbers: per_call_ms,per_100_prompt_ms,per_10_completion_ms"
            )
        return cls(*parts)

    def first_token_ms(self, prompt_tokens: int) -> float:
        return self.per_call_ms + self.per_100_prompt_tokens_ms * prompt_tokens / 100

    def completion_ms(self, completion_tokens: int) -> float:
        return self.per_10_completion_tokens_ms * completion_tokens / 10

    def total_ms(self, prompt_tokens: int, completion_tokens: int) -> float:
        return self.first_token_ms(prompt_tokens) + self.completion_ms(completion_tokens)

    def describe(self) -> str:
        return (
            f"{self.per_call_ms:g} ms/call + {self.per_100_prompt_tokens_ms:g} ms/100 prompt tokens"
            f" + {self.per_10_completion_tokens_ms:g} ms/10 completion tokens"
        )


@dataclass
class CallLog:
    """One simulated call, in loop (virtual) time."""

    purpose: str
    schema: str | None
    prompt_tokens: int
    completion_tokens: int
    simulated_ms: float
    start: float
    end: float = 0.0
    first_token: float | None = None


@dataclass
class BenchLLM:
    snapshot: Snapshot
    latency: LatencyModel = field(default_factory=LatencyModel)
    policy: VerdictPolicy = "overlap"
    count_schema_tokens: bool = True  # a structured-output call also sends its JSON schema
    model: str = "bench-fake"
    calls: list[CallLog] = field(default_factory=list)
    cpu_seconds: float = 0.0  # time spent building answers: not engine overhead
    unknown_schemas: set[str] = field(default_factory=set)
    _schema_tokens: dict[type[BaseModel], int] = field(default_factory=dict)

    def reset(self) -> None:
        self.calls.clear()
        self.cpu_seconds = 0.0

    async def generate(
        self, request: LLMRequest, schema: type[SchemaT], *, on_text: TextSink | None = None
    ) -> StructuredResult[SchemaT]:
        """With `on_text`, the answer's JSON streams in chunks paced by the latency model (same total)."""
        loop = asyncio.get_running_loop()
        start_loop, start_cpu = loop.time(), time.perf_counter()
        value = self._answer(request, schema)
        text = value.model_dump_json()
        completion = estimate_tokens(text)
        prompt = _prompt_tokens(request) + self._schema_overhead(schema)
        simulated = self.latency.total_ms(prompt, completion)
        log = CallLog(request.purpose, schema.__name__, prompt, completion, simulated, start=start_loop)
        self.calls.append(log)
        spent = time.perf_counter() - start_cpu
        self.cpu_seconds += spent
        if on_text is None:
            await asyncio.sleep(max(0.0, simulated / 1000 - spent))
        else:
            await asyncio.sleep(max(0.0, self.latency.first_token_ms(prompt) / 1000 - spent))
            log.first_token = loop.time()
            for start in range(0, len(text), _REPLY_CHUNK_CHARS):
                chunk = text[start : start + _REPLY_CHUNK_CHARS]
                await asyncio.sleep(self.latency.completion_ms(estimate_tokens(chunk)) / 1000)
                await on_text(chunk)
        log.end = loop.time()
        if log.first_token is None:
            log.first_token = log.end
        record = LLMCallRecord(
            purpose=request.purpose,
            model=request.model or self.model,
            prompt_tokens=prompt,
            completion_tokens=completion,
            latency_ms=simulated,
        )
        return StructuredResult(value=value, record=record)

    def stream(self, request: LLMRequest) -> BenchTextStream:
        return BenchTextStream(self, request)

    # ------------------------------------------------------------------ answers

    def _schema_overhead(self, schema: type[BaseModel]) -> int:
        if not self.count_schema_tokens:
            return 0
        if schema not in self._schema_tokens:
            self._schema_tokens[schema] = estimate_tokens(json.dumps(schema.model_json_schema(), separators=(",", ":")))
        return self._schema_tokens[schema]

    def _answer(self, request: LLMRequest, schema: type[SchemaT]) -> SchemaT:
        prompt = PromptView(request)
        name = schema.__name__
        builders = {
            "MatchingBatch": lambda: {"verdicts": self._verdicts(prompt)},
            "JourneyStepSelection": lambda: self._journey_step(prompt),
            "CannedSelection": lambda: {"rationale": "Closest approved response.", **self._canned(prompt)},
            "SinglePassReply": lambda: self._single_pass(prompt, canned=False),
            "SinglePassCanned": lambda: self._single_pass(prompt, canned=True),
            "AppliedAnalysis": lambda: {
                "items": [
                    {"id": key, "rationale": "The reply carries it out.", "applied": True}
                    for key in prompt.marker("IDS")
                ]
            },
            "ModerationVerdict": lambda: {
                "rationale": "An ordinary customer-service message.",
                "flagged": False,
                "categories": [],
            },
            "Preamble": lambda: {"message": "Thanks, let me look into that for you."},
        }
        builder = builders.get(name)
        if builder is None:
            self.unknown_schemas.add(name)
            return schema.model_validate(instance_from_json_schema(schema.model_json_schema()))
        return schema.model_validate(builder())

    def _verdicts(self, prompt: PromptView) -> list[dict[str, Any]]:
        message = prompt.last_customer_message
        lines = prompt.guideline_lines()
        verdicts = []
        for key in prompt.marker("IDS"):
            line = lines.get(key)
            condition = line.condition if line else ""
            applies = self.policy == "all" or overlap_holds(condition, message)
            calls = self._tool_calls(line.tools, prompt) if (applies and line and line.tools) else []
            verdicts.append(
                {
                    "id": key,
                    "facts": f"The customer wrote: {message[:120]}",
                    "rationale": (
                        "The message is about this condition." if applies else "The message is about something else."
                    ),
                    "applies": applies,
                    "tool_calls": calls,
                }
            )
        return verdicts

    def _tool_calls(self, tool_names: Sequence[str], prompt: PromptView) -> list[dict[str, Any]]:
        calls = []
        for name in tool_names:
            tool = self.snapshot.tool_by_name.get(name)
            if tool is not None:
                calls.append({"tool": name, "arguments": tool_arguments(tool, prompt)})
        return calls

    def _journey_step(self, prompt: PromptView) -> dict[str, Any]:
        keys = prompt.marker("JOURNEY")
        journey = self.snapshot.journey_by_key.get(keys[0]) if keys else None
        current = (prompt.marker("CURRENT STATE") or [""])[0]
        message = prompt.last_customer_message
        facts = f"The customer wrote: {message[:120]}"
        if journey is None or journey.state(current) is None:
            return {
                "facts": facts,
                "rationale": "Unknown journey.",
                "move": "stay",
                "target_state": current,
                "tool_calls": [],
            }
        if any(word in message.lower() for word in _EXIT_WORDS):
            return {
                "facts": facts,
                "rationale": "The customer abandoned it.",
                "move": "exit",
                "target_state": "",
                "tool_calls": [],
            }
        target = next_state(journey, current, message)
        if target is None:
            return {
                "facts": facts,
                "rationale": "The step is not done yet.",
                "move": "stay",
                "target_state": current,
                "tool_calls": [],
            }
        state = journey.state(target)
        tools = ([state.tool] if state and state.tool else []) + list(state.tools if state else ())
        return {
            "facts": facts,
            "rationale": "The customer completed the current step.",
            "move": "advance",
            "target_state": target,
            "tool_calls": self._tool_calls(tools, prompt),
        }

    def _canned(self, prompt: PromptView) -> dict[str, Any]:
        options = prompt.marker("CANNED IDS")
        choice = options[0] if options else "none"
        fields = []
        if choice != "none":
            line = re.search(rf"^- \[{re.escape(choice)}\] .*$", prompt.text, re.MULTILINE)
            for field_name in re.findall(r"([A-Za-z_][\w.]*) \(you provide", line.group(0) if line else ""):
                fields.append({"name": field_name, "value": "as discussed"})
        return {"draft": draft_reply(prompt), "choice": choice, "fields": fields, "followed": prompt.marker("IDS")}

    def _single_pass(self, prompt: PromptView, *, canned: bool) -> dict[str, Any]:
        verdicts = self._verdicts(prompt)
        lines = prompt.guideline_lines()
        followed = [v["id"] for v in verdicts if v["applies"] and lines.get(v["id"]) and lines[v["id"]].action]
        if canned:
            chosen = self._canned(prompt)
            return {
                "verdicts": verdicts,
                "draft": chosen["draft"],
                "choice": chosen["choice"],
                "fields": chosen["fields"],
                "followed": followed,
            }
        actions = [lines[key].action or "" for key in followed]
        return {"verdicts": verdicts, "reply": reply_text(actions, prompt), "followed": followed}


class BenchTextStream:
    """Streams a plausible reply: the first chunk after the call's first-token latency, the rest at the
    completion rate. `record` is set when the stream ends (also when the consumer stops early)."""

    def __init__(self, llm: BenchLLM, request: LLMRequest) -> None:
        self.record: LLMCallRecord | None = None
        self._llm = llm
        self._request = request

    def __aiter__(self) -> AsyncIterator[str]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[str]:
        llm, request = self._llm, self._request
        loop = asyncio.get_running_loop()
        start_loop, start_cpu = loop.time(), time.perf_counter()
        prompt_view = PromptView(request)
        text = reply_text(prompt_view.active_actions(), prompt_view)
        prompt = _prompt_tokens(request)
        completion = estimate_tokens(text)
        log = CallLog(
            request.purpose, None, prompt, completion, llm.latency.total_ms(prompt, completion), start=start_loop
        )
        llm.calls.append(log)
        chunks = [text[i : i + _REPLY_CHUNK_CHARS] for i in range(0, len(text), _REPLY_CHUNK_CHARS)]
        spent = time.perf_counter() - start_cpu
        llm.cpu_seconds += spent
        try:
            await asyncio.sleep(max(0.0, llm.latency.first_token_ms(prompt) / 1000 - spent))
            for index, chunk in enumerate(chunks):
                await asyncio.sleep(llm.latency.completion_ms(estimate_tokens(chunk)) / 1000)
                if index == 0:
                    log.first_token = loop.time()
                yield chunk
        finally:
            log.end = loop.time()
            self.record = LLMCallRecord(
                purpose=request.purpose,
                model=request.model or llm.model,
                prompt_tokens=prompt,
                completion_tokens=completion,
                latency_ms=(log.end - log.start) * 1000,
            )


# ---------------------------------------------------------------------- reading prompts


@dataclass(frozen=True)
class GuidelineLine:
    key: str
    condition: str
    action: str | None
    tools: tuple[str, ...]


class PromptView:
    """What the fake reads from a request: marker lines, guideline lines, the customer's messages."""

    def __init__(self, request: LLMRequest) -> None:
        self.text = "\n\n".join(m.content for m in request.messages)

    def marker(self, name: str) -> list[str]:
        found: list[str] = []
        for match in re.finditer(_MARKER.format(name=re.escape(name)), self.text, re.MULTILINE):
            found = [v.strip() for v in match.group(1).split(",") if v.strip()]
        return found

    @property
    def customer_messages(self) -> list[str]:
        """Newest first; the key facts line (kept when old messages are summarised) last."""
        found = _HISTORY_CUSTOMER.findall(self.text) or _ANALYSIS_CUSTOMER.findall(self.text)
        facts = _KEY_FACTS.findall(self.text)
        return [*reversed(found), *facts]

    @property
    def last_customer_message(self) -> str:
        messages = self.customer_messages
        return messages[0] if messages else ""

    def guideline_lines(self) -> dict[str, GuidelineLine]:
        lines = {}
        for match in _GUIDELINE_LINE.finditer(self.text):
            body, *marks = match.group("body").split(" | ")
            tools: tuple[str, ...] = ()
            for mark in marks:
                if mark.startswith("tools: "):
                    tools = tuple(t.strip() for t in mark[len("tools: ") :].split(",") if t.strip())
            if body.startswith("OBSERVE: ") or body.startswith("OBSERVED: "):
                condition, action = body.split(": ", 1)[1], None
            elif body.startswith("WHEN "):
                condition, _, action_text = body[len("WHEN ") :].partition(" THEN ")
                action = action_text or None
            else:
                continue
            lines[match.group("key")] = GuidelineLine(match.group("key"), condition, action, tools)
        return lines

    def active_actions(self) -> list[str]:
        return [line.action for line in self.guideline_lines().values() if line.action]


def _prompt_tokens(request: LLMRequest) -> int:
    return sum(estimate_tokens(m.content) for m in request.messages)


def tool_arguments(tool: Tool, prompt: PromptView) -> list[dict[str, str]]:
    """Values for the tool's parameters found in the conversation; free-text parameters (description,
    reason, details) get the latest message; enums their first value mentioned, else none."""
    texts = prompt.customer_messages
    arguments = []
    for parameter in tool.parameters:
        value: str | None = None
        if parameter.type == "enum":
            lowered = " ".join(texts).lower()
            value = next((v for v in parameter.enum if v.lower() in lowered), None)
        elif parameter.name in ("description", "details", "reason", "message", "notes"):
            value = texts[0][:200] if texts else None
        elif parameter.name == "customer_id":
            value = None  # never guessed
        else:
            pattern = fact_pattern(parameter.name, parameter.type)
            value = find_latest(pattern, texts) if pattern is not None else None
        if value is not None:
            arguments.append({"name": parameter.name, "value": value})
    return arguments


def next_state(journey: Journey, current: str, message: str) -> str | None:
    """Follow an unconditional transition, or the first whose condition holds for the message."""
    outgoing = journey.outgoing(current)
    for transition in outgoing:
        if not transition.condition or overlap_holds(transition.condition, message):
            return transition.target
    return None


def draft_reply(prompt: PromptView) -> str:
    return reply_text(prompt.active_actions(), prompt)


def reply_text(actions: Sequence[str], prompt: PromptView) -> str:
    """A plausible reply of a realistic length (40-120 tokens) that carries out the actions."""
    parts = ["Thanks for your message."]
    for action in list(actions)[:3]:
        sentence = action.strip().rstrip(".")
        parts.append(sentence[:1].upper() + sentence[1:220] + ".")
    step = re.search(r"current step \[[^\]]+\]: (.*)$", prompt.text, re.MULTILINE)
    if step:
        parts.append(step.group(1)[:200])
    if len(parts) == 1:
        parts.append(
            "I have noted your request and I am happy to help with anything else about your trip or your account."
        )
    parts.append("Is there anything else I can do for you today?")
    return " ".join(parts)


def instance_from_json_schema(schema: dict[str, Any]) -> Any:
    """A minimal valid instance, for a schema the fake does not know (reported as unknown)."""
    definitions = schema.get("$defs", {})

    def build(node: Any, depth: int) -> Any:
        if not isinstance(node, dict) or depth > 20:
            return None
        if "$ref" in node:
            return build(definitions.get(node["$ref"].split("/")[-1], {}), depth + 1)
        if "enum" in node:
            return node["enum"][0]
        if "anyOf" in node:
            options = [o for o in node["anyOf"] if o.get("type") != "null"] or node["anyOf"]
            return build(options[0], depth + 1)
        kind = node.get("type")
        if kind == "object":
            return {name: build(value, depth + 1) for name, value in node.get("properties", {}).items()}
        return {"array": [], "string": "text", "boolean": False, "integer": 0, "number": 0.0}.get(str(kind))

    return build(schema, 0)
