"""The linter's checks over plain behavior documents: for each check, a document that triggers it and one that
does not; validation errors as lint errors; the runnable draft with its invalid entities left out."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from behavior.documents import document_validate
from behavior.lint import Finding, document_lint_sync, document_runnable
from behavior.snapshot import snapshot_from_document
from config.errors import ValidationFailed
from tests.engine.fakes import FakeEmbedder


def guideline(key: str, condition: str, action: str | None = "Help them", **fields: Any) -> dict[str, Any]:
    return {"key": key, "title": key, "condition": condition, "action": action, **fields}


def state(key: str, *, initial: bool = False, kind: str = "chat", **fields: Any) -> dict[str, Any]:
    return {"key": key, "kind": kind, "action": None if kind == "end" else f"Do {key}", "initial": initial, **fields}


def document(**sections: Any) -> dict[str, Any]:
    """A valid document: two unrelated guidelines, a journey start → done, a tool the first guideline calls."""
    base: dict[str, Any] = {
        "format": "decorum.behavior",
        "schema_version": 1,
        "agent": {"name": "Lint Test"},
        "tags": [],
        "guidelines": [
            guideline("refunds", "The customer asks for a refund", "Explain the refund policy", tools=["lookup"]),
            guideline("baggage", "The customer lost a bag", "Apologise and offer to trace the bag"),
        ],
        "relationships": [],
        "journeys": [
            {
                "key": "rebook",
                "title": "Rebook",
                "states": [state("start", initial=True), state("done", kind="end")],
                "transitions": [{"source": "start", "target": "done", "condition": "rebooked"}],
            }
        ],
        "glossary": [],
        "context_variables": [],
        "canned_responses": [
            {"key": "hello", "template": "Hello {{ customer.name }}!", "fields": [], "signals": [], "tags": []}
        ],
        "tool_services": [],
        "tools": [{"name": "lookup", "description": "Look up a booking", "parameters": []}],
    }
    base.update(sections)
    return base


def codes(findings: list[Finding]) -> list[str]:
    return [finding.code for finding in findings]


def lint(doc: dict[str, Any], embedder: Any = None) -> list[Finding]:
    return document_lint_sync(doc, embedder=embedder)


def test_the_base_document_is_valid_and_lints_clean() -> None:
    document_validate(document())
    assert lint(document(), FakeEmbedder()) == []


# ---------------------------------------------------------------- duplicates


def test_a_repeated_guideline_is_a_duplicate_warning() -> None:
    doc = document()
    doc["guidelines"].append(guideline("refunds-again", "The customer asks for a refund.", "Explain the refund policy"))
    findings = lint(doc)
    (finding,) = [f for f in findings if f.code == "duplicate-guideline"]
    assert finding.severity == "warning"
    assert (finding.entity, finding.ref, finding.related) == ("guideline", "refunds-again", (("guideline", "refunds"),))


def test_a_nearly_identical_guideline_is_found_with_the_embedder_and_a_different_one_is_not() -> None:
    doc = document()
    doc["guidelines"].append(
        guideline("refund-ask", "Customer asking for a refund", "Explain the refund policy", tools=["lookup"])
    )
    assert "near-duplicate-guideline" in codes(lint(doc, FakeEmbedder()))
    assert "near-duplicate-guideline" not in codes(lint(doc, None))
    assert "near-duplicate-guideline" not in codes(lint(document(), FakeEmbedder()))


def test_a_disabled_copy_is_not_a_duplicate() -> None:
    doc = document()
    doc["guidelines"].append(
        guideline("old-refunds", "The customer asks for a refund", "Explain the refund policy", enabled=False)
    )
    assert "duplicate-guideline" not in codes(lint(doc))


def test_an_embedder_that_fails_skips_the_similarity_checks() -> None:
    class Broken:
        model_id, dimensions = "broken", 3

        async def embed(self, texts: Any) -> Any:
            raise RuntimeError("no model")

    doc = document()
    doc["guidelines"].append(guideline("refund-ask", "Customer asking for a refund", "Explain the refund policy"))
    assert "near-duplicate-guideline" not in codes(lint(doc, Broken()))


# ---------------------------------------------------------------- shadowed conditions


def overrides(source: str, target: str) -> dict[str, Any]:
    return {
        "kind": "overrides",
        "source": {"type": "guideline", "ref": source},
        "target": {"type": "guideline", "ref": target},
    }


def test_a_condition_shadowed_by_a_higher_priority_override_never_applies() -> None:
    doc = document(relationships=[overrides("vip-refunds", "refunds")])
    doc["guidelines"].append(guideline("vip-refunds", "The customer asks for a refund", "Offer a voucher", priority=5))
    (finding,) = [f for f in lint(doc) if f.code == "shadowed-condition"]
    assert (finding.severity, finding.entity, finding.ref) == ("warning", "guideline", "refunds")
    assert ("guideline", "vip-refunds") in finding.related


def test_an_override_between_different_conditions_shadows_nothing() -> None:
    doc = document(relationships=[overrides("refunds", "baggage")])
    assert "shadowed-condition" not in codes(lint(doc, FakeEmbedder()))


def test_an_override_the_priorities_reverse_is_noted() -> None:
    doc = document(relationships=[overrides("refunds", "baggage")])
    doc["guidelines"][1]["priority"] = 3
    assert "override-reversed-by-priority" in codes(lint(doc))
    assert "override-reversed-by-priority" not in codes(lint(document(relationships=[overrides("refunds", "baggage")])))


# ---------------------------------------------------------------- dependencies


def depends(source: str, target: str, kind: str = "depends_on", target_type: str = "guideline") -> dict[str, Any]:
    return {
        "kind": kind,
        "source": {"type": "guideline", "ref": source},
        "target": {"type": target_type, "ref": target},
    }


def test_a_dependency_on_a_disabled_guideline_is_a_warning() -> None:
    doc = document(relationships=[depends("refunds", "baggage")])
    doc["guidelines"][1]["enabled"] = False
    (finding,) = [f for f in lint(doc) if f.code == "dependency-disabled"]
    assert (finding.severity, finding.entity, finding.ref) == ("warning", "guideline", "refunds")
    assert "dependency-disabled" not in codes(lint(document(relationships=[depends("refunds", "baggage")])))


def test_a_dependency_on_a_missing_guideline_is_an_error_reported_once() -> None:
    findings = lint(document(relationships=[depends("refunds", "ghost")]))
    missing = [f for f in findings if "ghost" in f.message]
    assert [(f.severity, f.code) for f in missing] == [("error", "dependency-missing")]


def test_depends_on_any_warns_only_when_every_option_is_disabled() -> None:
    doc = document(
        relationships=[depends("refunds", "baggage", "depends_on_any"), depends("refunds", "extra", "depends_on_any")]
    )
    doc["guidelines"].append(guideline("extra", "The customer is angry", "Stay calm", enabled=False))
    assert "dependency-disabled" not in codes(lint(doc))
    doc["guidelines"][1]["enabled"] = False
    assert "dependency-disabled" in codes(lint(doc))


# ---------------------------------------------------------------- cycles


def test_an_overrides_cycle_is_an_error_naming_the_cycle() -> None:
    doc = document(relationships=[overrides("refunds", "baggage"), overrides("baggage", "refunds")])
    cycles = [f for f in lint(doc) if f.code == "relationship-cycle"]
    assert len(cycles) == 1
    assert cycles[0].severity == "error" and "guideline:refunds" in cycles[0].message
    assert {("guideline", "refunds"), ("guideline", "baggage")} <= set(cycles[0].related)


def test_a_depends_on_cycle_through_a_tag_is_an_error_and_a_chain_is_not() -> None:
    doc = document(
        tags=[{"name": "money"}],
        relationships=[depends("refunds", "baggage"), depends("baggage", "money", target_type="tag")],
    )
    doc["guidelines"][0]["tags"] = ["money"]
    assert "relationship-cycle" in codes(lint(doc))
    assert "relationship-cycle" not in codes(lint(document(relationships=[depends("refunds", "baggage")])))


def test_an_entails_cycle_is_fine_the_engine_adds_each_guideline_once() -> None:
    entails = [
        {"kind": "entails", "source": {"type": "guideline", "ref": a}, "target": {"type": "guideline", "ref": b}}
        for a, b in (("refunds", "baggage"), ("baggage", "refunds"))
    ]
    assert "relationship-cycle" not in codes(lint(document(relationships=entails)))


# ---------------------------------------------------------------- journeys


def test_an_unreachable_state_and_a_dead_end_are_warnings() -> None:
    doc = document()
    doc["journeys"][0]["states"].append(state("lost"))
    findings = [f for f in lint(doc) if f.ref == "rebook/lost"]
    assert sorted(codes(findings)) == ["state-dead-end", "state-unreachable"]
    assert all(f.entity == "journey_state" and ("journey", "rebook") in f.related for f in findings)


def test_a_reachable_state_with_a_way_out_is_fine() -> None:
    doc = document()
    doc["journeys"][0]["states"].insert(1, state("confirm"))
    doc["journeys"][0]["transitions"] = [
        {"source": "start", "target": "confirm", "condition": "ok"},
        {"source": "confirm", "target": "done", "condition": "yes"},
    ]
    assert [f for f in lint(doc) if f.entity == "journey_state"] == []


def test_a_journey_with_no_states_is_one_clear_error() -> None:
    doc = document()
    doc["journeys"][0]["states"], doc["journeys"][0]["transitions"] = [], []
    errors = [f for f in lint(doc) if f.entity == "journey"]
    assert [(f.severity, f.code, f.ref) for f in errors] == [("error", "journey-empty", "rebook")]


# ---------------------------------------------------------------- canned responses


def test_a_canned_response_with_an_unknown_field_is_an_error_reported_once() -> None:
    doc = document()
    doc["canned_responses"][0]["template"] = "Your booking {{ booking_status }} is ready, {{ customer.name }}"
    findings = [f for f in lint(doc) if f.entity == "canned_response"]
    assert [(f.severity, f.code) for f in findings] == [("error", "canned-unknown-field")]
    assert "booking_status" in findings[0].message


def test_a_declared_field_is_known() -> None:
    doc = document()
    doc["canned_responses"][0]["template"] = "Your booking {{ booking_status }} is ready"
    doc["canned_responses"][0]["fields"] = [{"name": "booking_status", "kind": "generative", "description": "status"}]
    assert [f for f in lint(doc) if f.entity == "canned_response"] == []


# ---------------------------------------------------------------- tools


def test_a_tool_nothing_can_call_is_a_warning() -> None:
    doc = document()
    doc["tools"].append({"name": "forgotten", "description": "Nobody calls me", "parameters": []})
    (finding,) = [f for f in lint(doc) if f.code == "tool-unused"]
    assert (finding.severity, finding.ref) == ("warning", "forgotten")


def test_a_tool_a_journey_state_runs_is_used() -> None:
    doc = document()
    doc["tools"].append({"name": "rebook_flight", "description": "Rebooks", "parameters": []})
    doc["journeys"][0]["states"][0].update(kind="tool", tool="rebook_flight", action=None)
    assert "tool-unused" not in codes(lint(doc))


# ---------------------------------------------------------------- journey scope


def test_a_guideline_scoped_to_a_missing_journey_is_an_error() -> None:
    doc = document(tags=[{"name": "journey:ghost"}])
    doc["guidelines"][1]["tags"] = ["journey:ghost"]
    scoped = [f for f in lint(doc) if f.code == "journey-scope-missing"]
    assert [(f.severity, f.entity, f.ref) for f in scoped] == [("error", "guideline", "baggage")]
    assert not [f for f in lint(doc) if f.entity == "guideline" and f.code == "invalid"]


def test_a_guideline_scoped_to_an_existing_journey_is_fine() -> None:
    doc = document(tags=[{"name": "journey:rebook"}])
    doc["guidelines"][1]["tags"] = ["journey:rebook"]
    assert "journey-scope-missing" not in codes(lint(doc))


# ---------------------------------------------------------------- validation and the runnable draft


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["journeys"][0]["states"][0].update(initial=False), "journeys[0].states"),
        (lambda d: d["journeys"][0]["states"][0].update(action=""), "journeys[0].states[0].action"),
        (lambda d: d["guidelines"][0].update(tools=["nope"]), "guidelines[0].tools[0]"),
    ],
)
def test_every_validation_error_is_a_lint_error(change: Any, path: str) -> None:
    doc = document()
    change(doc)
    with pytest.raises(ValidationFailed) as raised:
        document_validate(doc)
    assert path in [detail["path"] for detail in raised.value.details]
    assert path in [f.path for f in lint(doc) if f.severity == "error"]


def test_errors_behind_a_structural_error_are_reported_too() -> None:
    doc = document()
    doc["journeys"][0]["states"] = []
    doc["guidelines"][0]["tools"] = ["nope"]
    paths = [f.path for f in lint(doc) if f.severity == "error"]
    assert "journeys[0].states" in paths and "guidelines[0].tools[0]" in paths


def test_a_valid_document_is_runnable_unchanged() -> None:
    doc = document()
    runnable, left_out = document_runnable(doc)
    assert runnable == doc and left_out == []


def test_the_runnable_draft_leaves_out_the_invalid_entities_and_what_depends_on_them() -> None:
    doc = document(tags=[{"name": "journey:rebook"}])
    doc["journeys"][0]["states"], doc["journeys"][0]["transitions"] = [], []
    doc["guidelines"][1]["tags"] = ["journey:rebook"]
    doc["canned_responses"][0]["template"] = "Hi {{ mystery }}"
    original = copy.deepcopy(doc)
    runnable, left_out = document_runnable(doc)
    assert doc == original
    assert ("journey", "rebook") in left_out and ("canned_response", "hello") in left_out
    assert ("guideline", "baggage") in left_out
    document_validate(runnable)
    snapshot = snapshot_from_document(runnable)
    assert [g.key for g in snapshot.guidelines] == ["refunds"]
    findings = lint(doc)
    assert ("warning", "left-out-of-draft") in [(f.severity, f.code) for f in findings if f.ref == "baggage"]


def test_findings_are_plain_dicts_for_the_studio() -> None:
    doc = document()
    doc["tools"].append({"name": "forgotten", "description": "x", "parameters": []})
    (data,) = [f.to_dict() for f in lint(doc)]
    assert set(data) == {"severity", "code", "message", "entity", "ref", "path", "related"}
    assert Finding.from_dict(data) == lint(doc)[0]
