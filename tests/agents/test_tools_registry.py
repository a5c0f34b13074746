"""The @tool decorator: parameter types from annotations, descriptions from the docstring, and
clear errors for functions that cannot be described to a model."""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Literal, Optional

import pytest

from agents.tools import (
    ToolContext,
    ToolDefinition,
    ToolDefinitionError,
    ToolNotFound,
    ToolParameterDefinition,
    registered_tool,
    registered_tools,
    tool,
    tool_modules_load,
    tool_unregister,
)


class Cabin(enum.Enum):
    ECONOMY = "economy"
    BUSINESS = "business"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


@pytest.fixture
def cleanup() -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        tool_unregister(name)


def test_it_describes_every_supported_parameter_type(cleanup: list[str]) -> None:
    @tool(consequential=True, timeout_seconds=3.5)
    def rebook_flight_everything(
        booking_reference: str,
        passengers: int,
        budget: float,
        flexible: bool,
        travel_date: date,
        departure: datetime,
        cabin: Cabin,
        seat: Literal["window", "aisle"],
        priority: Priority,
        meals: list[str],
        legs: list[Literal["outbound", "return"]],
        note: Optional[str] = None,  # noqa: UP045 - the old spelling must keep working
        voucher: str | None = None,
        retries: int = 1,
        context: ToolContext | None = None,
    ) -> dict[str, str]:
        """Rebook a flight onto a new date.

        Longer explanation that the model does not need.

        Args:
            booking_reference: Six-character booking reference,
                as printed on the ticket.
            passengers (int): How many travel.
            budget: Maximum fare difference.
            flexible: Whether nearby dates are fine.
            travel_date: The new date.
            departure: Preferred departure time.
            cabin: Cabin class.
            seat: Seat preference.
            priority: How urgent it is.
            meals: Meal requests.
            legs: Which legs to rebook.
            note: Free text for the agent.
            voucher: A voucher code.
            retries: Internal.
            context: Session information.

        Returns:
            The new booking.
        """
        return {"ok": "yes"}

    cleanup.append("rebook_flight_everything")
    definition = registered_tool("rebook_flight_everything").definition
    assert definition.description == "Rebook a flight onto a new date."
    assert (definition.consequential, definition.timeout_seconds) == (True, 3.5)
    by_name = {parameter.name: parameter for parameter in definition.parameters}
    assert "context" not in by_name
    assert by_name["booking_reference"] == ToolParameterDefinition(
        name="booking_reference",
        type="str",
        description="Six-character booking reference, as printed on the ticket.",
        required=True,
    )
    assert [(p.name, p.type, p.required) for p in definition.parameters] == [
        ("booking_reference", "str", True),
        ("passengers", "int", True),
        ("budget", "float", True),
        ("flexible", "bool", True),
        ("travel_date", "date", True),
        ("departure", "datetime", True),
        ("cabin", "enum", True),
        ("seat", "enum", True),
        ("priority", "enum", True),
        ("meals", "list", True),
        ("legs", "list", True),
        ("note", "str", False),
        ("voucher", "str", False),
        ("retries", "int", False),
    ]
    assert by_name["passengers"].description == "How many travel."
    assert by_name["cabin"].enum == ("economy", "business")
    assert by_name["seat"].enum == ("window", "aisle")
    assert by_name["priority"].enum == ("1", "2")
    assert (by_name["meals"].items, by_name["meals"].enum) == ("str", ())
    assert (by_name["legs"].items, by_name["legs"].enum) == ("enum", ("outbound", "return"))
    assert registered_tool("rebook_flight_everything").context_parameter == "context"


def test_the_decorator_returns_the_function_unchanged(cleanup: list[str]) -> None:
    def original(city: str) -> str:
        """Say hello to a city."""
        return f"hello {city}"

    decorated = tool(original)
    cleanup.append("original")
    assert decorated is original and decorated("Oslo") == "hello Oslo"
    assert registered_tool("original").function is original


def test_it_exports_the_behavior_document_shape(cleanup: list[str]) -> None:
    @tool(name="lookup_booking_doc")
    async def lookup(booking_reference: str, cabin: Cabin = Cabin.ECONOMY) -> dict[str, str]:
        """Look up a booking by its reference.

        Args:
            booking_reference: Six-character booking reference.
            cabin: Cabin class.
        """
        return {}

    cleanup.append("lookup_booking_doc")
    document = registered_tool("lookup_booking_doc").definition.to_document()
    assert document == {
        "name": "lookup_booking_doc",
        "description": "Look up a booking by its reference.",
        "implementation": "python",
        "service": None,
        "consequential": False,
        "timeout_seconds": 10.0,
        "parameters": [
            {
                "name": "booking_reference",
                "type": "str",
                "description": "Six-character booking reference.",
                "required": True,
                "enum": [],
                "items": None,
            },
            {
                "name": "cabin",
                "type": "enum",
                "description": "Cabin class.",
                "required": False,
                "enum": ["economy", "business"],
                "items": None,
            },
        ],
    }
    assert ToolDefinition.from_document(document) == registered_tool("lookup_booking_doc").definition
    assert (
        registered_tool("lookup_booking_doc").definition.to_document(implementation="remote", service="crm")["service"]
        == "crm"
    )


def test_registered_tools_lists_tools_by_name(cleanup: list[str]) -> None:
    @tool
    def zz_last_tool() -> str:
        """Last."""
        return ""

    @tool
    def aa_first_tool() -> str:
        """First."""
        return ""

    cleanup.extend(["zz_last_tool", "aa_first_tool"])
    names = [registered.definition.name for registered in registered_tools()]
    assert names == sorted(names)
    assert {"aa_first_tool", "zz_last_tool"} <= set(names)


def test_an_unknown_tool_raises_tool_not_found() -> None:
    with pytest.raises(ToolNotFound, match="no_such_tool"):
        registered_tool("no_such_tool")


@pytest.mark.parametrize(
    ("annotation_source", "message"),
    [
        ("dict[str, int]", "unsupported annotation"),
        ("list", "needs its element type"),
        ("list[list[str]]", "unsupported annotation"),
        ("int | str", "unions other than Optional"),
        ("bytes", "unsupported annotation"),
        ("Literal[1.5, 2.5]", "strings or integers"),
    ],
)
def test_it_rejects_unsupported_annotations(annotation_source: str, message: str) -> None:
    namespace: dict[str, object] = {}
    exec(
        "from __future__ import annotations\n"
        "from typing import Literal\n"
        f"def bad_tool(value: {annotation_source}) -> None:\n"
        "    '''A tool with a bad parameter.'''\n",
        namespace,
    )
    with pytest.raises(ToolDefinitionError, match=message) as raised:
        tool(namespace["bad_tool"])
    assert "'value'" in str(raised.value) and "bad_tool" in str(raised.value)
    with pytest.raises(ToolNotFound):
        registered_tool("bad_tool")


def test_it_rejects_a_function_without_docstring() -> None:
    def undocumented(city: str) -> str:
        return city

    with pytest.raises(ToolDefinitionError, match="needs a docstring"):
        tool(undocumented)


def test_it_rejects_missing_annotations_and_variadic_parameters() -> None:
    def untyped(city):  # type: ignore[no-untyped-def]
        """Untyped."""

    def variadic(*cities: str) -> None:
        """Variadic."""

    with pytest.raises(ToolDefinitionError, match="needs a type annotation"):
        tool(untyped)
    with pytest.raises(ToolDefinitionError, match=r"\*args and \*\*kwargs"):
        tool(variadic)


def test_it_rejects_docstring_arguments_that_do_not_exist() -> None:
    def misdocumented(city: str) -> None:
        """Misdocumented.

        Args:
            cty: A typo.
        """

    with pytest.raises(ToolDefinitionError, match="unknown parameter"):
        tool(misdocumented)


def test_it_rejects_bad_names_and_timeouts() -> None:
    def fine(city: str) -> None:
        """Fine."""

    with pytest.raises(ToolDefinitionError, match="must match"):
        tool(name="Bad-Name")(fine)
    with pytest.raises(ToolDefinitionError, match="timeout_seconds"):
        tool(name="fine_tool", timeout_seconds=0)(fine)


def test_a_second_function_cannot_take_a_registered_name(cleanup: list[str]) -> None:
    @tool(name="taken_name")
    def first() -> None:
        """First."""

    cleanup.append("taken_name")

    def second() -> None:
        """Second."""

    with pytest.raises(ToolDefinitionError, match="already registered"):
        tool(name="taken_name")(second)
    assert registered_tool("taken_name").function is first


def test_it_imports_tool_modules_and_skips_missing_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, cleanup: list[str]
) -> None:
    (tmp_path / "decorum_test_tools_ok.py").write_text(
        "from agents.tools import tool\n\n@tool\ndef module_tool(city: str) -> str:\n    '''From a module.'''\n    return city\n"
    )
    (tmp_path / "decorum_test_tools_broken.py").write_text("import module_that_does_not_exist\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cleanup.append("module_tool")
    with caplog.at_level(logging.WARNING):
        loaded = tool_modules_load(["decorum_test_tools_ok", "decorum_test_tools_absent"])
    assert loaded == ["decorum_test_tools_ok"]
    assert "decorum_test_tools_absent not found" in caplog.text
    assert registered_tool("module_tool").definition.description == "From a module."
    with pytest.raises(ModuleNotFoundError, match="module_that_does_not_exist"):
        tool_modules_load(["decorum_test_tools_broken"])


def test_the_tool_modules_setting_defaults_to_the_demo_tools(settings: object) -> None:
    assert settings.DECORUM_TOOL_MODULES == ["behavior.demo.tools"]  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_a_decorated_tool_with_a_list_of_choices_is_accepted_by_the_behavior_model(cleanup: list[str]) -> None:
    from agents.services import tool_create
    from behavior.services import agent_export_document
    from behavior.services.audit import SYSTEM
    from behavior.snapshot import snapshot_from_document
    from tests.factories import make_agent

    @tool(name="choose_legs")
    async def choose_legs(legs: list[Literal["outbound", "return"]]) -> dict[str, str]:
        """Pick the legs of a trip to change.

        Args:
            legs: Which legs.
        """
        return {}

    cleanup.append("choose_legs")
    agent = make_agent("Legs")
    document = registered_tool("choose_legs").definition.to_document()

    tool_create(agent=agent, data={**document, "service": None}, actor=SYSTEM)

    snapshot = snapshot_from_document(agent_export_document(agent))
    (legs,) = snapshot.tools[0].parameters
    assert (legs.type, legs.items, legs.enum) == ("list", "enum", ("outbound", "return"))
