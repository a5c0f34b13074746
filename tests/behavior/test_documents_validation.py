"""document_validate: structure, bounds and every class of cross-reference check, each with its path."""

from __future__ import annotations

from typing import Any

import pytest

from behavior.documents import document_validate, document_warnings
from behavior.documents.schema import MAX_SMALL_LIST
from config.errors import ValidationFailed


def errors_of(document: Any) -> list[dict[str, str]]:
    with pytest.raises(ValidationFailed) as raised:
        document_validate(document)
    return raised.value.details


def guideline(document: dict[str, Any], key: str) -> dict[str, Any]:
    return next(entry for entry in document["guidelines"] if entry["key"] == key)


def journey(document: dict[str, Any], key: str) -> dict[str, Any]:
    return next(entry for entry in document["journeys"] if entry["key"] == key)


def test_the_demo_document_is_valid_and_fills_no_defaults(demo_document: dict[str, Any]) -> None:
    assert document_validate(demo_document).as_data() == demo_document


def test_a_minimal_document_gets_the_documented_defaults(minimal_document: dict[str, Any]) -> None:
    data = document_validate(minimal_document).as_data()

    assert data["agent"]["composition_mode"] == "fluid"
    assert data["agent"]["max_preparation_iterations"] == 2
    assert data["guidelines"] == [] and data["tools"] == []


# ------------------------------------------------------------------ structure


@pytest.mark.parametrize("data", [[], "text", None, 3])
def test_it_rejects_a_document_that_is_not_an_object(data: Any) -> None:
    assert errors_of(data)[0]["path"] == ""


def test_it_rejects_a_missing_format_and_an_unsupported_schema_version(minimal_document: dict[str, Any]) -> None:
    minimal_document["format"] = "parlant"
    minimal_document["schema_version"] = 2

    errors = errors_of(minimal_document)

    assert errors == [
        {"path": "format", "message": 'must be "decorum.behavior"'},
        {"path": "schema_version", "message": "unsupported schema version 2 (this Decorum reads 1)"},
    ]


def test_it_rejects_unknown_keys_with_their_path(demo_document: dict[str, Any]) -> None:
    demo_document["guidelines"][2]["colour"] = "blue"

    assert errors_of(demo_document) == [{"path": "guidelines[2].colour", "message": "unknown field"}]


def test_it_names_a_missing_required_field(demo_document: dict[str, Any]) -> None:
    del demo_document["journeys"][0]["states"][1]["key"]

    assert errors_of(demo_document) == [{"path": "journeys[0].states[1].key", "message": "required"}]


def test_it_explains_a_malformed_key(demo_document: dict[str, Any]) -> None:
    demo_document["guidelines"][0]["key"] = "Refund Policy"

    (error,) = errors_of(demo_document)

    assert error["path"] == "guidelines[0].key"
    assert "lowercase letters, digits and dashes" in error["message"]


def test_it_rejects_wrong_types_and_out_of_range_values(demo_document: dict[str, Any]) -> None:
    demo_document["agent"]["temperature"] = 7
    demo_document["agent"]["composition_mode"] = "loose"
    demo_document["guidelines"][0]["enabled"] = "sometimes"

    paths = [error["path"] for error in errors_of(demo_document)]

    assert paths == ["agent.temperature", "agent.composition_mode", "guidelines[0].enabled"]


def test_it_bounds_list_sizes(demo_document: dict[str, Any]) -> None:
    demo_document["guidelines"][0]["labels"] = [f"label {index}" for index in range(MAX_SMALL_LIST + 1)]

    (error,) = errors_of(demo_document)

    assert error["path"] == "guidelines[0].labels"
    assert str(MAX_SMALL_LIST) in error["message"]


def test_it_rejects_a_blank_condition(demo_document: dict[str, Any]) -> None:
    demo_document["guidelines"][0]["condition"] = "   "

    assert errors_of(demo_document) == [{"path": "guidelines[0].condition", "message": "must not be blank"}]


def test_it_rejects_non_finite_numbers_inside_free_form_values(demo_document: dict[str, Any]) -> None:
    demo_document["guidelines"][0]["metadata"] = {"weights": [1.0, float("nan")]}

    (error,) = errors_of(demo_document)

    assert error["path"] == "guidelines[0].metadata"


def test_it_rejects_values_nested_too_deeply(demo_document: dict[str, Any]) -> None:
    nested: list[Any] = []
    for _ in range(100):
        nested = [nested]
    demo_document["guidelines"][0]["metadata"] = {"deep": nested}

    assert errors_of(demo_document)[0]["message"].startswith("values are nested more than")


# ------------------------------------------------------------------ uniqueness


def test_it_rejects_a_duplicate_guideline_key(demo_document: dict[str, Any]) -> None:
    demo_document["guidelines"][2]["key"] = demo_document["guidelines"][1]["key"]  # baggage-essentials: unreferenced

    assert errors_of(demo_document) == [
        {"path": "guidelines[2].key", "message": 'duplicate guideline key "baggage-allowance"'}
    ]


def test_it_rejects_glossary_names_that_differ_only_in_case(demo_document: dict[str, Any]) -> None:
    demo_document["glossary"][1]["name"] = demo_document["glossary"][0]["name"].upper()

    assert errors_of(demo_document) == [
        {"path": "glossary[1].name", "message": 'duplicate glossary term name "BAG TAG"'}
    ]


def test_it_rejects_a_duplicate_state_key_within_a_journey(demo_document: dict[str, Any]) -> None:
    demo_document["journeys"][0]["states"][2]["key"] = "lookup"

    errors = errors_of(demo_document)

    assert {"path": "journeys[0].states[2].key", "message": 'duplicate state key "lookup"'} in errors


def test_it_rejects_duplicate_tool_and_tag_names(demo_document: dict[str, Any]) -> None:
    demo_document["tools"].append(dict(demo_document["tools"][0]))
    demo_document["tags"].append({"name": "vip"})
    last_tool = len(demo_document["tools"]) - 1

    errors = errors_of(demo_document)

    assert {"path": "tags[6].name", "message": 'duplicate tag name "vip"'} in errors
    assert {"path": f"tools[{last_tool}].name", "message": 'duplicate tool name "file_baggage_claim"'} in errors


# ------------------------------------------------------------------ references


def test_it_rejects_a_reference_to_an_undeclared_tag(demo_document: dict[str, Any]) -> None:
    guideline(demo_document, "greet")["tags"] = ["weekend"]
    index = demo_document["guidelines"].index(guideline(demo_document, "greet"))

    assert errors_of(demo_document) == [{"path": f"guidelines[{index}].tags[0]", "message": 'unknown tag "weekend"'}]


def test_it_rejects_a_reference_to_an_unknown_tool(demo_document: dict[str, Any]) -> None:
    guideline(demo_document, "greet")["tools"] = ["send_email"]
    index = demo_document["guidelines"].index(guideline(demo_document, "greet"))

    assert errors_of(demo_document) == [
        {"path": f"guidelines[{index}].tools[0]", "message": 'unknown tool "send_email"'}
    ]


def test_it_rejects_a_journey_scope_tag_of_an_unknown_journey(demo_document: dict[str, Any]) -> None:
    demo_document["tags"].append({"name": "journey:upgrade"})

    assert errors_of(demo_document) == [{"path": "tags[6].name", "message": 'unknown journey "upgrade"'}]


def test_it_rejects_a_journey_trigger_that_is_not_a_guideline(demo_document: dict[str, Any]) -> None:
    journey(demo_document, "rebooking")["triggers"] = ["wants-upgrade"]

    assert errors_of(demo_document) == [
        {"path": "journeys[1].triggers[0]", "message": 'unknown guideline "wants-upgrade"'}
    ]


def test_it_rejects_a_transition_to_an_unknown_state(demo_document: dict[str, Any]) -> None:
    demo_document["journeys"][1]["transitions"][0]["target"] = "payment"

    assert errors_of(demo_document) == [
        {"path": "journeys[1].transitions[0].target", "message": 'unknown state "payment"'}
    ]


def test_it_rejects_a_transition_to_a_state_of_another_journey(demo_document: dict[str, Any]) -> None:
    journey(demo_document, "rebooking")["transitions"][0]["source"] = "describe-bag"

    assert errors_of(demo_document) == [
        {"path": "journeys[1].transitions[0].source", "message": 'unknown state "describe-bag"'}
    ]


def test_it_rejects_a_state_referring_to_an_unknown_canned_response(demo_document: dict[str, Any]) -> None:
    journey(demo_document, "rebooking")["states"][0]["canned_responses"] = ["farewell"]

    assert errors_of(demo_document) == [
        {"path": "journeys[1].states[0].canned_responses[0]", "message": 'unknown canned response "farewell"'}
    ]


def test_it_rejects_unknown_journey_states_on_a_canned_response(demo_document: dict[str, Any]) -> None:
    demo_document["canned_responses"][0]["journey_states"] = ["rebooking/payment", "upgrade/start"]

    assert errors_of(demo_document) == [
        {"path": "canned_responses[0].journey_states[0]", "message": 'unknown state "payment" in journey "rebooking"'},
        {"path": "canned_responses[0].journey_states[1]", "message": 'unknown journey "upgrade"'},
    ]


def test_it_rejects_a_remote_tool_without_a_known_service(demo_document: dict[str, Any]) -> None:
    demo_document["tools"][0]["implementation"] = "remote"
    demo_document["tools"][1]["implementation"] = "remote"
    demo_document["tools"][1]["service"] = "crm"
    demo_document["tools"][2]["service"] = "crm"

    assert errors_of(demo_document) == [
        {"path": "tools[0].service", "message": "a remote tool needs a tool service"},
        {"path": "tools[1].service", "message": 'unknown tool service "crm"'},
        {"path": "tools[2].service", "message": "a python tool has no tool service (use service: null)"},
    ]


# ------------------------------------------------------------------ relationships


def relationship(kind: str, source: tuple[str, str], target: tuple[str, str]) -> dict[str, Any]:
    return {
        "kind": kind,
        "source": {"type": source[0], "ref": source[1]},
        "target": {"type": target[0], "ref": target[1]},
    }


def test_it_rejects_a_relationship_to_an_unknown_entity(demo_document: dict[str, Any]) -> None:
    demo_document["relationships"] = [relationship("entails", ("guideline", "greet"), ("guideline", "say-goodbye"))]

    assert errors_of(demo_document) == [
        {"path": "relationships[0].target.ref", "message": 'unknown guideline "say-goodbye"'}
    ]


def test_it_rejects_a_relationship_kind_illegal_for_its_endpoints(demo_document: dict[str, Any]) -> None:
    demo_document["relationships"] = [
        relationship("reevaluate_after", ("guideline", "greet"), ("guideline", "flight-status")),
        relationship("disambiguates", ("guideline", "greet"), ("guideline", "seat-change")),
    ]

    errors = errors_of(demo_document)

    assert [error["path"] for error in errors] == ["relationships[0]", "relationships[1]"]
    assert "needs a tool as target" in errors[0]["message"]
    assert "needs an observation" in errors[1]["message"]


def test_it_rejects_a_self_loop_relationship(demo_document: dict[str, Any]) -> None:
    demo_document["relationships"] = [relationship("overrides", ("guideline", "greet"), ("guideline", "greet"))]

    assert errors_of(demo_document) == [
        {"path": "relationships[0]", "message": 'a relationship cannot link guideline "greet" to itself'}
    ]


def test_it_rejects_a_duplicate_relationship(demo_document: dict[str, Any]) -> None:
    demo_document["relationships"].append(dict(demo_document["relationships"][0]))

    assert errors_of(demo_document) == [{"path": "relationships[11]", "message": "duplicate of relationships[0]"}]


def test_it_rejects_an_overrides_cycle_and_points_at_its_last_relationship(demo_document: dict[str, Any]) -> None:
    demo_document["relationships"] += [
        relationship("overrides", ("guideline", "refund-policy"), ("guideline", "greet")),
        relationship("overrides", ("guideline", "greet"), ("guideline", "cancelled-flight-options")),
    ]

    (error,) = errors_of(demo_document)

    assert error["path"] == "relationships[12]"
    assert error["message"].startswith("overrides cycle: ")
    assert "guideline:refund-policy" in error["message"] and "guideline:greet" in error["message"]


def test_it_rejects_a_dependency_cycle_mixing_depends_on_and_depends_on_any(demo_document: dict[str, Any]) -> None:
    demo_document["relationships"].append(
        relationship(
            "depends_on_any", ("guideline", "reports-flight-cancelled"), ("guideline", "cancelled-flight-options")
        )
    )

    (error,) = errors_of(demo_document)

    assert error["path"] == "relationships[11]"
    assert error["message"].startswith("depends_on / depends_on_any cycle: ")


def test_it_rejects_a_cycle_through_a_tag(demo_document: dict[str, Any]) -> None:
    """thank-gold-member carries tag vip: "tag vip overrides greet" + "greet overrides thank-gold-member"."""
    demo_document["relationships"] += [
        relationship("overrides", ("tag", "vip"), ("guideline", "greet")),
        relationship("overrides", ("guideline", "greet"), ("guideline", "thank-gold-member")),
    ]

    (error,) = errors_of(demo_document)

    assert error["message"].startswith("overrides cycle: ")


def test_entails_relationships_may_form_a_cycle(demo_document: dict[str, Any]) -> None:
    demo_document["relationships"].append(
        relationship("entails", ("guideline", "thank-gold-member"), ("guideline", "gold-change-fee-waiver"))
    )

    assert len(document_validate(demo_document).relationships) == 12


# ------------------------------------------------------------------ journeys


def test_it_requires_exactly_one_initial_state(demo_document: dict[str, Any]) -> None:
    demo_document["journeys"][0]["states"][0]["initial"] = False
    demo_document["journeys"][1]["states"][4]["initial"] = True

    assert errors_of(demo_document) == [
        {
            "path": "journeys[0].states",
            "message": "a journey needs exactly one initial state (none is marked initial: true)",
        },
        {
            "path": "journeys[1].states[4].initial",
            "message": 'a journey needs exactly one initial state ("ask-booking" is already initial)',
        },
    ]


def test_it_checks_what_each_kind_of_state_needs(demo_document: dict[str, Any]) -> None:
    states = journey(demo_document, "rebooking")["states"]
    states[0]["action"] = None  # chat without action
    states[1]["tool"] = None  # tool state without tool
    states[2]["tool"] = "lookup_booking"  # fork with a tool
    states[5]["tool"] = "teleport"  # unknown tool

    assert errors_of(demo_document) == [
        {"path": "journeys[1].states[0].action", "message": "a chat state needs an action"},
        {"path": "journeys[1].states[1].tool", "message": "a tool state needs a tool"},
        {"path": "journeys[1].states[2].tool", "message": "only a tool state runs a tool (this state is a fork state)"},
        {"path": "journeys[1].states[5].tool", "message": 'unknown tool "teleport"'},
    ]


def test_it_rejects_a_transition_out_of_an_end_state(demo_document: dict[str, Any]) -> None:
    journey(demo_document, "rebooking")["transitions"].append(
        {"source": "done", "target": "ask-booking", "condition": None}
    )

    assert errors_of(demo_document) == [
        {"path": "journeys[1].transitions[15].source", "message": 'end state "done" cannot have outgoing transitions'}
    ]


def test_it_warns_about_unreachable_states_without_rejecting_them(demo_document: dict[str, Any]) -> None:
    transitions = journey(demo_document, "baggage-claim")["transitions"]
    transitions[:] = [entry for entry in transitions if entry["target"] != "tag-mismatch"]

    document = document_validate(demo_document)

    assert document_warnings(document) == [
        {"path": "journeys[0].states[3]", "message": 'state "tag-mismatch" cannot be reached from the initial state'}
    ]


def test_it_warns_about_declared_tags_nobody_uses(demo_document: dict[str, Any]) -> None:
    demo_document["tags"].append({"name": "spare"})

    assert document_warnings(document_validate(demo_document)) == [
        {"path": "tags[6]", "message": 'tag "spare" is not used by any entity; import ignores it'}
    ]


# ------------------------------------------------------------------ canned responses, variables, tools


def test_it_rejects_a_template_field_that_is_not_declared(demo_document: dict[str, Any]) -> None:
    demo_document["canned_responses"][3]["template"] = "Hello {{ customer.name }}, your seat is {{ seat }}."

    (error,) = errors_of(demo_document)

    assert error["path"] == "canned_responses[3].template"
    assert "unknown template field {{ seat }}" in error["message"].lower()


def test_it_rejects_an_unbalanced_template(demo_document: dict[str, Any]) -> None:
    demo_document["canned_responses"][3]["template"] = "Hello {{ customer.name"

    (error,) = errors_of(demo_document)

    assert error["path"] == "canned_responses[3].template"
    assert "unclosed" in error["message"].lower()


def test_it_rejects_declaring_a_built_in_field(demo_document: dict[str, Any]) -> None:
    demo_document["canned_responses"][3]["fields"] = [{"name": "customer.name", "kind": "tool", "description": ""}]

    (error,) = errors_of(demo_document)

    assert error["path"] == "canned_responses[3].fields"
    assert "built in" in error["message"]


def test_it_rejects_a_variable_field_that_names_no_context_variable(demo_document: dict[str, Any]) -> None:
    response = next(entry for entry in demo_document["canned_responses"] if entry["key"] == "gold-welcome")
    response["fields"][0]["name"] = "tier"
    response["template"] = "Welcome back, {{ customer.name }}! As a {{ tier }} member..."
    index = demo_document["canned_responses"].index(response)

    assert errors_of(demo_document) == [
        {"path": f"canned_responses[{index}].fields[0].name", "message": 'unknown context variable "tier"'}
    ]


def test_it_checks_context_variable_values_and_freshness(demo_document: dict[str, Any]) -> None:
    variable = demo_document["context_variables"][0]
    variable["freshness_seconds"] = 60  # no tool feeds this variable
    variable["values"] = [
        {"scope": "default", "key": "vip", "value": "x"},
        {"scope": "customer_tag", "key": "platinum", "value": "y"},
        {"scope": "customer_tag", "key": None, "value": "z"},
        {"scope": "default", "key": None, "value": "w"},
    ]

    assert errors_of(demo_document) == [
        {
            "path": "context_variables[0].freshness_seconds",
            "message": "freshness only applies to a variable fed by a tool",
        },
        {"path": "context_variables[0].values[0].key", "message": "a default value has no key (use key: null)"},
        {"path": "context_variables[0].values[1].key", "message": 'unknown tag "platinum"'},
        {"path": "context_variables[0].values[2].key", "message": "a customer_tag value needs the tag name as key"},
    ]


def test_it_rejects_two_default_values_for_one_variable(demo_document: dict[str, Any]) -> None:
    demo_document["context_variables"][0]["values"].append({"scope": "default", "key": None, "value": "gold"})

    assert errors_of(demo_document) == [
        {"path": "context_variables[0].values[3]", "message": "duplicate default value"}
    ]


def test_it_checks_enum_and_list_parameters(demo_document: dict[str, Any]) -> None:
    parameters = demo_document["tools"][0]["parameters"]
    parameters[2]["enum"] = []  # enum without values
    parameters[0]["enum"] = ["a"]  # a str with values
    parameters[1]["type"] = "list"  # a list without item type

    assert errors_of(demo_document) == [
        {
            "path": "tools[0].parameters[0].enum",
            "message": "only an enum parameter or a list of enums has values (this one is str)",
        },
        {"path": "tools[0].parameters[1].items", "message": "a list parameter needs its element type"},
        {"path": "tools[0].parameters[2].enum", "message": "an enum parameter (or a list of enums) needs its values"},
    ]


def test_a_list_of_enum_values_is_valid_once_it_lists_its_values(demo_document: dict[str, Any]) -> None:
    parameter = demo_document["tools"][0]["parameters"][0]
    parameter.update({"type": "list", "items": "enum", "enum": []})

    assert errors_of(demo_document) == [
        {"path": "tools[0].parameters[0].enum", "message": "an enum parameter (or a list of enums) needs its values"}
    ]

    parameter["enum"] = ["window", "aisle"]
    document_validate(demo_document)  # no error


def test_it_reports_every_error_at_once(demo_document: dict[str, Any]) -> None:
    demo_document["guidelines"][0]["tags"] = ["nope"]
    demo_document["journeys"][1]["transitions"][0]["target"] = "payment"
    demo_document["tools"][0]["parameters"][2]["enum"] = []

    with pytest.raises(ValidationFailed) as raised:
        document_validate(demo_document)

    assert len(raised.value.details) == 3
    assert raised.value.message.startswith("The behavior document is not valid (3 errors; first: guidelines[0].tags[0]")
