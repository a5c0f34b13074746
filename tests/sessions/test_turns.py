"""The turn runner: claim, execute, supersede, fail, retry and sweep. The engine is a scripted stand-in here
(tests/support/realtime.ScriptedEngine) so each rule is pinned on its own; test_turns_engine.py runs the
real engine."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core.management import call_command
from django.utils import timezone

from sessions.emitter import CHUNK_COALESCE_SECONDS
from sessions.models import Event, Session, Trace, Turn, TurnStatus
from sessions.services import customer_message_post, session_mode_set
from sessions.services.turns import FALLBACK_REPLY, STALE_TURN_MESSAGE, turn_execute, turns_sweep
from tests.support.realtime import ScriptedEngine, group_drain, group_listen, realtime_settings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def engine(settings: Any, monkeypatch: pytest.MonkeyPatch) -> ScriptedEngine:
    realtime_settings(settings)
    scripted = ScriptedEngine()
    monkeypatch.setattr("sessions.services.turns.run_turn", scripted)
    return scripted


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Turns are queued but not run: the test runs them with turn_execute, like a worker would."""
    ids: list[int] = []
    monkeypatch.setattr("sessions.services.turns.turn_enqueue", ids.append)
    return ids


def events(session: Session) -> list[tuple[str, str, Any]]:
    """(kind, source, text-or-status) of every event, in offset order."""
    rows = Event.objects.filter(session=session).order_by("offset")
    return [(e.kind, e.source, e.data.get("text", e.data.get("status"))) for e in rows]


def test_a_turn_stores_its_statuses_reply_trace_and_state(session: Session, engine: ScriptedEngine) -> None:
    customer_message_post(session, text="Hello?")

    turn = Turn.objects.get(session=session)
    assert turn.status == TurnStatus.DONE
    assert (turn.attempts, turn.finished_at is not None) == (1, True)
    assert events(session) == [
        ("message", "customer", "Hello?"),
        ("status", "agent", "processing"),
        ("status", "agent", "typing"),
        ("message", "agent", "Scripted reply."),
        ("status", "agent", "ready"),
    ]
    assert set(Event.objects.filter(session=session, source="agent").values_list("turn_id", flat=True)) == {turn.pk}
    assert Trace.objects.get(turn=turn).data["seen"] == [1]
    assert Session.objects.get(pk=session.pk).state["summary"] == "seen 1 messages"


def test_the_same_turn_delivered_twice_produces_one_reply(
    session: Session, engine: ScriptedEngine, queued: list[int]
) -> None:
    customer_message_post(session, text="Hi")
    (turn_id,) = queued

    assert turn_execute(turn_id) == TurnStatus.DONE
    assert turn_execute(turn_id) == "skipped"

    assert engine.calls == 1
    assert [e for e in events(session) if e[:2] == ("message", "agent")] == [("message", "agent", "Scripted reply.")]
    assert Turn.objects.get(pk=turn_id).attempts == 1


def test_a_redelivered_task_leaves_a_recently_claimed_running_turn_alone(
    session: Session, engine: ScriptedEngine, queued: list[int]
) -> None:
    customer_message_post(session, text="Hi")
    (turn_id,) = queued
    Turn.objects.filter(pk=turn_id).update(status=TurnStatus.RUNNING, attempts=1, claimed_at=timezone.now())

    assert turn_execute(turn_id) == "skipped"

    assert engine.calls == 0
    assert Turn.objects.get(pk=turn_id).status == TurnStatus.RUNNING


def test_a_superseded_turn_emits_nothing_and_the_new_turn_sees_the_full_history(
    session: Session, engine: ScriptedEngine, queued: list[int]
) -> None:
    customer_message_post(session, text="I want to fly to Rome")
    first_turn = queued[0]

    async def customer_writes_again() -> None:
        await database_sync_to_async(customer_message_post)(session, text="Actually, Paris")

    engine.during = customer_writes_again
    assert turn_execute(first_turn) == TurnStatus.SUPERSEDED

    # The first turn stored its statuses before the new message, and nothing after it.
    assert events(session) == [
        ("message", "customer", "I want to fly to Rome"),
        ("status", "agent", "processing"),
        ("status", "agent", "typing"),
        ("message", "customer", "Actually, Paris"),
    ]
    assert Session.objects.get(pk=session.pk).state == {}

    engine.during = None
    second_turn = queued[1]
    assert turn_execute(second_turn) == TurnStatus.DONE
    trace = Trace.objects.get(turn_id=second_turn).data
    assert trace["seen"] == [1, 4]  # both customer messages (statuses are not conversation)
    assert events(session)[-2:] == [("message", "agent", "Scripted reply."), ("status", "agent", "ready")]


def test_a_pending_turn_superseded_before_it_starts_is_skipped(
    session: Session, engine: ScriptedEngine, queued: list[int]
) -> None:
    customer_message_post(session, text="one")
    customer_message_post(session, text="two")

    assert turn_execute(queued[0]) == "skipped"
    assert turn_execute(queued[1]) == TurnStatus.DONE
    assert engine.calls == 1


def test_a_takeover_during_the_turn_stops_the_reply(
    session: Session, engine: ScriptedEngine, queued: list[int], operator_user: Any
) -> None:
    customer_message_post(session, text="help")

    async def operator_takes_over() -> None:
        await database_sync_to_async(session_mode_set)(session, mode="human", user=operator_user)

    engine.during = operator_takes_over
    assert turn_execute(queued[0]) == TurnStatus.SUPERSEDED

    assert not Event.objects.filter(session=session, kind="message", source="agent").exists()
    assert events(session)[-1] == ("status", "system", "human_takeover")


def test_an_engine_crash_fails_the_turn_with_an_error_event_and_the_session_stays_usable(
    session: Session, engine: ScriptedEngine
) -> None:
    engine.raise_error = RuntimeError("boom in stage 4")
    customer_message_post(session, text="first")

    turn = Turn.objects.get(session=session)
    assert turn.status == TurnStatus.FAILED
    assert turn.error == "boom in stage 4"
    error = Event.objects.get(session=session, kind="status", data__status="error")
    assert error.data["message"] == "boom in stage 4"
    assert events(session)[-2:] == [("message", "agent", FALLBACK_REPLY), ("status", "agent", "ready")]

    engine.raise_error = None
    customer_message_post(session, text="second")

    assert Turn.objects.filter(session=session).order_by("-id").first().status == TurnStatus.DONE
    assert events(session)[-2:] == [("message", "agent", "Scripted reply."), ("status", "agent", "ready")]


def test_a_failed_outcome_reported_by_the_engine_ends_with_one_error_and_a_polite_reply(
    session: Session, engine: ScriptedEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing(**kwargs: Any) -> Any:
        from behavior.engine.types import TurnResult

        await kwargs["ports"].emitter.status("processing")
        trace = {"errors": [{"stage": "matching", "error": "LLMCallError: the server answered 503"}]}
        return TurnResult(outcome="failed", messages=(), state=kwargs["state"], trace=trace)

    monkeypatch.setattr("sessions.services.turns.run_turn", failing)
    customer_message_post(session, text="hello")

    turn = Turn.objects.get(session=session)
    assert (turn.status, turn.error) == (TurnStatus.FAILED, "the server answered 503")
    assert events(session)[1:] == [
        ("status", "agent", "processing"),
        ("status", "agent", "error"),
        ("message", "agent", FALLBACK_REPLY),
        ("status", "agent", "ready"),
    ]
    assert Trace.objects.get(turn=turn).data["errors"][0]["stage"] == "matching"


def test_a_stale_running_turn_whose_worker_died_is_claimed_again_and_completed(
    session: Session, engine: ScriptedEngine, queued: list[int], settings: Any
) -> None:
    settings.TURN_STALE_SECONDS = 60
    customer_message_post(session, text="Hi")
    (turn_id,) = queued
    long_ago = timezone.now() - timedelta(seconds=120)
    Turn.objects.filter(pk=turn_id).update(
        status=TurnStatus.RUNNING, attempts=1, claimed_at=long_ago, claimed_by="dead-worker"
    )

    assert turn_execute(turn_id, worker="new-worker") == TurnStatus.DONE

    turn = Turn.objects.get(pk=turn_id)
    assert (turn.attempts, turn.claimed_by) == (2, "new-worker")
    assert events(session)[-2:] == [("message", "agent", "Scripted reply."), ("status", "agent", "ready")]


def test_a_stale_turn_out_of_attempts_is_failed_with_an_error_event(
    session: Session, engine: ScriptedEngine, queued: list[int], settings: Any
) -> None:
    settings.TURN_STALE_SECONDS = 60
    settings.TURN_MAX_ATTEMPTS = 2
    customer_message_post(session, text="Hi")
    (turn_id,) = queued
    Turn.objects.filter(pk=turn_id).update(
        status=TurnStatus.RUNNING, attempts=2, claimed_at=timezone.now() - timedelta(seconds=120)
    )

    assert turn_execute(turn_id) == "skipped"

    assert engine.calls == 0
    assert Turn.objects.get(pk=turn_id).status == TurnStatus.FAILED
    assert events(session)[-3:] == [
        ("status", "agent", "error"),
        ("message", "agent", STALE_TURN_MESSAGE),
        ("status", "agent", "ready"),
    ]


def test_the_sweep_fails_stale_running_and_pending_turns_but_not_fresh_ones(
    agent: Any, customer: Any, engine: ScriptedEngine, queued: list[int], settings: Any
) -> None:
    from tests.factories import make_session

    settings.TURN_STALE_SECONDS = 60
    stale_running, stale_pending, fresh = (make_session(agent, customer) for _ in range(3))
    for session in (stale_running, stale_pending, fresh):
        customer_message_post(session, text="hello")
    long_ago = timezone.now() - timedelta(seconds=300)
    Turn.objects.filter(session=stale_running).update(status=TurnStatus.RUNNING, attempts=1, claimed_at=long_ago)
    Turn.objects.filter(session=stale_pending).update(created_at=long_ago)
    Turn.objects.filter(session=fresh).update(status=TurnStatus.RUNNING, attempts=1, claimed_at=timezone.now())

    assert turns_sweep() == 2

    assert Turn.objects.get(session=stale_running).status == TurnStatus.FAILED
    assert Turn.objects.get(session=stale_pending).status == TurnStatus.FAILED
    assert Turn.objects.get(session=fresh).status == TurnStatus.RUNNING
    assert events(stale_running)[-1] == ("status", "agent", "ready")
    assert ("message", "agent", STALE_TURN_MESSAGE) in events(stale_pending)
    assert events(fresh) == [("message", "customer", "hello")]


def test_the_sweep_command_reports_what_it_failed(
    session: Session, engine: ScriptedEngine, queued: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    customer_message_post(session, text="hello")
    Turn.objects.update(status=TurnStatus.RUNNING, attempts=1, claimed_at=timezone.now() - timedelta(seconds=30))

    call_command("sweep_turns", "--stale-seconds", "10")

    assert "Failed 1 stale turn(s)." in capsys.readouterr().out
    assert Turn.objects.get().status == TurnStatus.FAILED


async def test_chunks_are_broadcast_between_the_stored_events_but_never_stored(
    session: Session, engine: ScriptedEngine
) -> None:
    engine.reply = "Three word reply"
    layer, channel = await group_listen(session.uid)

    await database_sync_to_async(customer_message_post)(session, text="Hi")
    messages = await group_drain(layer, channel)

    flow = [("chunk", m["text"]) if m["type"] == "session.chunk" else ("event", m["event"]["offset"]) for m in messages]
    assert flow == [
        ("event", 1),
        ("event", 2),
        ("event", 3),
        ("chunk", "Three "),  # the first piece at once; the rest arrived within the coalescing window
        ("chunk", "word reply "),
        ("event", 4),
        ("event", 5),
    ]
    chunk = next(m for m in messages if m["type"] == "session.chunk")
    turn = await database_sync_to_async(Turn.objects.get)(session=session)
    assert (chunk["turn"], chunk["message_id"]) == (turn.pk, "m1")
    assert await database_sync_to_async(Event.objects.filter(session=session).count)() == 5


async def test_chunks_further_apart_than_the_coalescing_window_are_sent_one_by_one(
    session: Session, engine: ScriptedEngine
) -> None:
    engine.reply = "Slow but steady"
    engine.chunk_pause = CHUNK_COALESCE_SECONDS * 2
    layer, channel = await group_listen(session.uid)

    await database_sync_to_async(customer_message_post)(session, text="Hi")
    messages = await group_drain(layer, channel)

    assert [m["text"] for m in messages if m["type"] == "session.chunk"] == ["Slow ", "but ", "steady "]


def test_a_handoff_by_a_tool_makes_the_session_wait_for_a_human_and_the_agent_stays_silent(
    session: Session, engine: ScriptedEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.outcome = "handed_off"
    customer_message_post(session, text="I want a human")

    assert Session.objects.get(pk=session.pk).mode == "waiting"
    assert events(session)[-2:] == [("status", "system", "handoff_requested"), ("status", "agent", "ready")]
    handoff = session.handoffs.get()
    assert (handoff.reason, handoff.turn_id, handoff.taken_by) == ("tool", Turn.objects.get(session=session).pk, None)
    customer_message_post(session, text="hello?")
    assert Turn.objects.filter(session=session).count() == 1


def test_startup_recovery_fails_turns_left_running_and_requeues_pending_ones(
    agent: Any, customer: Any, engine: ScriptedEngine, queued: list[int], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sessions.services import turns
    from tests.factories import make_session

    settings.EMBEDDED = True
    interrupted, waiting = make_session(agent, customer), make_session(agent, customer)
    customer_message_post(interrupted, text="are you there?")
    customer_message_post(waiting, text="hello")
    Turn.objects.filter(session=interrupted).update(
        status=TurnStatus.RUNNING, attempts=1, claimed_at=timezone.now() - timedelta(seconds=5)
    )
    monkeypatch.setattr(turns, "_process_started", timezone.now())
    submitted: list[tuple[Any, ...]] = []

    class RecordingExecutor:
        def submit(self, function: Any, *args: Any) -> None:
            submitted.append((function, *args))

    monkeypatch.setattr(turns, "_turn_executor", RecordingExecutor)

    turns._recover()

    assert Turn.objects.get(session=interrupted).status == TurnStatus.FAILED
    assert events(interrupted)[-2:] == [("message", "agent", STALE_TURN_MESSAGE), ("status", "agent", "ready")]
    waiting_turn = Turn.objects.get(session=waiting)
    assert waiting_turn.status == TurnStatus.PENDING
    assert submitted == [(turns._turn_execute_in_thread, waiting_turn.pk)]


async def test_in_process_turns_run_in_a_background_thread_and_stream_to_the_group(
    session: Session, engine: ScriptedEngine, settings: Any
) -> None:
    import asyncio

    settings.TURNS_RUN_INLINE = False
    settings.TURNS_IN_PROCESS = True
    layer, channel = await group_listen(session.uid)

    await database_sync_to_async(customer_message_post)(session, text="Hi")
    received: list[dict[str, Any]] = []
    async with asyncio.timeout(10):
        while not received or received[-1].get("event", {}).get("data") != {"status": "ready"}:
            received.append(await layer.receive(channel))

    assert [m["event"]["offset"] for m in received if m["type"] == "session.event"] == [1, 2, 3, 4, 5]
    assert any(m["type"] == "session.chunk" for m in received)
    turn = await database_sync_to_async(Turn.objects.get)(session=session)
    assert turn.status == TurnStatus.DONE
    assert ":turn_" in turn.claimed_by  # one of the process-wide turn threads


def test_with_celery_the_turn_is_sent_to_the_worker_and_the_task_runs_it_once(
    session: Session, engine: ScriptedEngine, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sessions.tasks import turn_execute_task

    settings.TURNS_RUN_INLINE = False
    settings.TURNS_IN_PROCESS = False
    sent: list[int] = []
    monkeypatch.setattr(turn_execute_task, "delay", sent.append)

    customer_message_post(session, text="Hi")
    (turn_id,) = sent

    assert turn_execute_task.apply(args=[turn_id]).get() == TurnStatus.DONE
    assert turn_execute_task.apply(args=[turn_id]).get() == "skipped"
    assert Turn.objects.get(pk=turn_id).claimed_by.startswith("celery:")
    assert engine.calls == 1


async def test_the_emitter_silences_a_superseded_turn_even_if_the_engine_streams_on(
    session: Session, engine: ScriptedEngine, queued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sessions.emitter.CHUNK_CANCEL_CHECK_SECONDS", 0.0)
    engine.checks_cancellation = False
    await database_sync_to_async(customer_message_post)(session, text="first")

    async def customer_writes_again() -> None:
        await database_sync_to_async(customer_message_post)(session, text="second")

    engine.during = customer_writes_again
    layer, channel = await group_listen(session.uid)
    status = await database_sync_to_async(turn_execute, thread_sensitive=False)(queued[0])
    messages = await group_drain(layer, channel)

    assert status == TurnStatus.SUPERSEDED
    assert [m["type"] for m in messages if m["type"] == "session.chunk"] == []
    # Its statuses before the newer message went out; nothing after it did.
    assert [m["event"]["data"].get("status", m["event"]["data"].get("text")) for m in messages] == [
        "processing",
        "typing",
        "second",
    ]
    assert not await database_sync_to_async(
        Event.objects.filter(session=session, kind="message", source="agent").exists
    )()
    assert not await database_sync_to_async(Event.objects.filter(session=session, data__status="ready").exists)()


def test_an_oversized_tool_event_is_stored_truncated_with_its_small_fields(
    session: Session, engine: ScriptedEngine
) -> None:
    engine.tool_data = {"tool": "lookup_booking", "status": "ok", "result": "x" * 100_000}

    customer_message_post(session, text="Where is my booking?")

    tool = Event.objects.get(session=session, kind="tool")
    assert tool.data == {"tool": "lookup_booking", "status": "ok", "truncated": True}
    assert Turn.objects.get(session=session).status == TurnStatus.DONE
