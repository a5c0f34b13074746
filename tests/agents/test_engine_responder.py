"""The engine-aware fake model (tests/support/engine_responder): real turns of the Skyway demo agent through
`run_turn`, answered in process by HeuristicLLM and over HTTP by the fake OpenAI server's responder hook."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

import behavior.demo.tools  # noqa: F401  (registers the demo agent's Python tools)
from agents.embeddings import HashingEmbedder
from agents.llm.openai_adapter import OpenAILLM
from agents.tools import agent_tool_runner_from_document
from behavior.engine.ports import LLMRequest
from behavior.engine.schemas import SCHEMAS_BY_PURPOSE
from behavior.engine.turn import run_turn
from behavior.engine.types import (
    CustomerInfo,
    EngineConfig,
    EnginePorts,
    Interaction,
    InteractionEvent,
    SessionState,
    TurnResult,
)
from behavior.snapshot import snapshot_from_document
from tests.engine.fakes import FakeClock, NeverCancelled, RecordingEmitter
from tests.support.engine_responder import HeuristicLLM, engine_reply, openai_responder, request_purpose
from tests.support.fake_openai_replies import LatencyModel
from tests.support.fake_openai_server import FakeOpenAIServer, responder_from_path

DEMO = Path(__file__).resolve().parents[2] / "behavior" / "demo" / "skyway.yaml"


@cache
def _demo_text() -> str:
    return DEMO.read_text()


def demo_document(**agent: Any) -> dict[str, Any]:
    document = copy.deepcopy(yaml.safe_load(_demo_text()))
    document["agent"].update(agent)
    return document


class Chat:
    """A conversation with one agent document: each `say` runs one real turn and keeps the session state."""

    def __init__(self, document: dict[str, Any], llm: Any, *, config: EngineConfig | None = None) -> None:
        self.document, self.llm, self.config = document, llm, config
        self.snapshot = snapshot_from_document(document)
        self.tools = agent_tool_runner_from_document(document)
        self.state = SessionState()
        self.events: list[InteractionEvent] = []
        self.emitter = RecordingEmitter()

    async def say(self, text: str) -> TurnResult:
        self.events.append(InteractionEvent(offset=len(self.events), source="customer", text=text))
        self.emitter = RecordingEmitter()
        ports = EnginePorts(
            llm=self.llm,
            embedder=HashingEmbedder(),
            tools=self.tools,
            emitter=self.emitter,
            clock=FakeClock(),
            cancellation=NeverCancelled(),
        )
        interaction = Interaction(
            session_id="responder-test",
            customer=CustomerInfo(id="CUST-1001", name="Maria Lopez"),
            events=tuple(self.events),
        )
        result = await run_turn(
            snapshot=self.snapshot, interaction=interaction, state=self.state, ports=ports, config=self.config
        )
        self.state = result.state
        for reply in self.emitter.replies:
            self.events.append(InteractionEvent(offset=len(self.events), source="agent", text=reply["text"]))
        return result

    @property
    def reply(self) -> str:
        return " ".join(reply["text"] for reply in self.emitter.replies)


def applied(result: TurnResult) -> dict[str, str]:
    return {v["key"]: v["rationale"] for v in result.trace["matching"]["verdicts"] if v["applies"]}


def tool_calls(result: TurnResult) -> list[tuple[str, dict[str, Any], str]]:
    return [(c["tool"], c["arguments"], c["status"]) for c in result.trace["tools"]["calls"]]


def assert_clean(result: TurnResult) -> None:
    assert result.outcome == "replied"
    assert result.trace["errors"] == []
    assert all(call["error"] is None for call in result.trace["llm_calls"])


# ---------------------------------------------------------------- in process (HeuristicLLM)


async def test_a_flight_change_matches_the_rebooking_guidelines_with_rationales_and_enters_the_journey() -> None:
    chat = Chat(demo_document(), HeuristicLLM())

    result = await chat.say("I want to change my flight, booking ABC123")

    assert_clean(result)
    matched = applied(result)
    assert {"wants-rebooking", "journey:rebooking:0", "change-fee"} <= set(matched)
    assert "change, flight" in matched["wants-rebooking"]
    assert not {"greet", "gold-change-fee-waiver", "seat-change", "refund-policy"} & set(matched)
    assert result.trace["journeys"]["after"] == {"rebooking": "ask-booking"}
    assert "booking reference" in chat.reply
    assert {"matching", "composition", "analysis"} <= {c["purpose"] for c in result.trace["llm_calls"]}


async def test_a_booking_reference_in_the_next_message_advances_the_journey_and_runs_the_lookup() -> None:
    chat = Chat(demo_document(), HeuristicLLM())
    await chat.say("I want to change my flight")

    result = await chat.say("My booking reference is SKY4F7")

    assert_clean(result)
    assert ("lookup_booking", {"booking_reference": "SKY4F7"}, "ok") in tool_calls(result)
    moves = [(m["move"], m["from_state"], m["to_state"]) for m in result.trace["journeys"]["moves"]]
    assert moves[0] == ("advance", "ask-booking", "lookup")
    # SKY4F7 is a Flex booking: the fare fork goes straight to asking for the new date.
    assert result.trace["journeys"]["after"] == {"rebooking": "ask-new-date"}
    assert "date" in chat.reply


async def test_a_flight_status_question_proposes_the_tool_with_arguments_from_the_message() -> None:
    chat = Chat(demo_document(), HeuristicLLM())

    result = await chat.say("Is flight SK101 on 2026-01-02 delayed?")

    assert_clean(result)
    assert "flight-status" in applied(result)
    assert ("flight_status", {"flight_number": "SK101", "date": "2026-01-02"}, "ok") in tool_calls(result)


async def test_a_missing_argument_becomes_a_question_to_the_customer() -> None:
    chat = Chat(demo_document(), HeuristicLLM())

    result = await chat.say("I want a refund")

    assert_clean(result)
    assert "refund-policy" in applied(result)
    assert ("lookup_booking", {}, "invalid") in tool_calls(result)
    assert "Could you give me your booking reference?" in chat.reply


async def test_hello_matches_the_greeting_and_an_unrelated_message_matches_nothing() -> None:
    chat = Chat(demo_document(), HeuristicLLM())

    greeted = await chat.say("hello")
    unrelated = await chat.say("What is the weather like on Mars?")

    assert set(applied(greeted)) == {"greet"}
    assert chat.reply.startswith("Thanks, Maria.")
    assert applied(unrelated) == {}
    rejected = next(v for v in unrelated.trace["matching"]["verdicts"] if v["key"] == "greet")
    assert "does not" in rejected["rationale"]


async def test_strict_mode_renders_the_best_fitting_canned_response() -> None:
    chat = Chat(demo_document(composition_mode="strict", moderation=True), HeuristicLLM())

    result = await chat.say("hello")

    assert_clean(result)
    assert result.trace["composition"]["canned_chosen"] == "greeting"
    assert chat.reply == "Hello Maria Lopez! Welcome to Skyway Support. How can I help with your trip today?"
    assert result.trace["context"]["moderation"]["flagged"] is False


@pytest.mark.parametrize("mode", ["fluid", "strict"])
async def test_the_single_pass_strategy_answers_verdicts_and_the_reply_in_one_call(mode: str) -> None:
    document = demo_document(composition_mode=mode)
    keep = {"greet", "baggage-allowance", "check-in-times"}
    document["guidelines"] = [g for g in document["guidelines"] if g["key"] in keep]
    document["relationships"], document["journeys"], document["context_variables"] = [], [], []
    document["tags"] = [t for t in document["tags"] if not t["name"].startswith("journey:")]
    llm = HeuristicLLM()
    chat = Chat(document, llm)

    result = await chat.say("How much baggage can I bring?")

    assert_clean(result)
    assert result.trace["turn"]["strategy"] == "single_pass"
    assert llm.calls == ["single_pass"]
    assert set(applied(result)) == {"baggage-allowance"}
    if mode == "fluid":
        assert "Basic includes one cabin bag up to 8 kg" in chat.reply
    else:
        assert chat.reply == document["agent"]["no_match_reply"]  # no canned response covers the allowance
        assert result.trace["composition"]["reason"] == "no canned response fits"


async def test_the_latency_model_delays_calls_and_is_recorded() -> None:
    llm = HeuristicLLM(latency=LatencyModel(base_ms=30))
    request = LLMRequest(purpose="preamble", model="m", messages=())

    result = await llm.generate(request, SCHEMAS_BY_PURPOSE["preamble"][0])
    stream = llm.stream(LLMRequest(purpose="composition", model="m", messages=()))
    chunks = [chunk async for chunk in stream]

    assert result.value.message and result.record.latency_ms >= 30
    assert len(chunks) > 1 and stream.record is not None and stream.record.latency_ms >= 30


def test_every_structured_purpose_answers_a_valid_instance_even_for_an_empty_prompt() -> None:
    messages = [{"role": "user", "content": "IDS: a, b\nCANNED IDS: c\nJOURNEY: j\nCURRENT STATE: s\nSTATES: s"}]
    for purpose, schemas in SCHEMAS_BY_PURPOSE.items():
        for schema in schemas:
            answer = engine_reply(purpose=purpose, messages=messages, schema=schema.model_json_schema())
            schema.model_validate(answer)
    with pytest.raises(ValueError):
        engine_reply(purpose="poetry", messages=messages, schema=None)


# ---------------------------------------------------------------- over HTTP (the fake server's responder hook)


def test_the_purpose_is_recovered_from_the_schema_name_its_title_or_the_composition_prompt() -> None:
    schema = {"title": "JourneyStepSelection", "type": "object"}
    assert request_purpose({"response_format": {"type": "json_schema", "json_schema": {"name": "MatchingBatch"}}}) == (
        "matching"
    )
    assert request_purpose({"response_format": {"type": "json_object", "schema": schema}}) == "journey"
    composition = {"messages": [{"role": "user", "content": "Write the agent's next message now (the text only)."}]}
    assert request_purpose(composition) == "composition"
    assert openai_responder({"messages": [{"role": "user", "content": "Say hi"}]}) is None
    assert responder_from_path("tests.support.engine_responder:openai_responder") is openai_responder


@pytest.mark.parametrize("structured_output", ["json_schema", "json_object"])
async def test_a_turn_over_the_fake_server_matches_a_guideline_and_streams_the_reply(structured_output: str) -> None:
    with FakeOpenAIServer(responder=openai_responder) as server:
        llm = OpenAILLM(api_key="fake", base_url=server.base_url, structured_output=structured_output)  # type: ignore[arg-type]
        chat = Chat(demo_document(), llm)
        try:
            result = await chat.say("I want to change my flight, booking ABC123")
        finally:
            await llm.aclose()
        bodies = [entry["body"] for entry in server.chat_requests()]

    assert_clean(result)
    assert "wants-rebooking" in applied(result) and applied(result)["wants-rebooking"]
    assert result.trace["journeys"]["after"] == {"rebooking": "ask-booking"}
    assert len(chat.emitter.chunks) > 1
    assert "booking reference" in chat.reply
    assert {request_purpose(body) for body in bodies} >= {"preamble", "matching", "composition", "analysis"}
    structured = [json.loads(openai_responder(body) or "") for body in bodies if body.get("response_format")]
    assert any(v["applies"] and v["tool_calls"] == [] for answer in structured for v in answer.get("verdicts", []))
