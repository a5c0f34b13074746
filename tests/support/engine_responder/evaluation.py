"""The fake model's answers for an evaluation's two roles (behavior/evaluations/simulation.py): the simulated
customer (opens with its goal, gives a FACT when the agent's last reply asks for it, says yes to a question, and
stops when every MILESTONE was met) and the judge (a CRITERION is met when the agent's replies cover most of its
words). Deterministic, from the prompts' marker lines."""

from __future__ import annotations

import re
from typing import Any

from tests.support.engine_responder.text import content_words, overlap

_LINE = re.compile(r"^(GOAL|FACT|MILESTONE \d+|CRITERION|CUSTOMER|AGENT): ?(.*)$", re.MULTILINE)
MILESTONE_COVERAGE = 0.5
CRITERION_COVERAGE = 0.6


def _lines(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    text = "\n".join(str(message.get("content") or "") for message in messages)
    return [(match.group(1), match.group(2).strip()) for match in _LINE.finditer(text)]


def _reached(milestone: str, agent_lines: list[str]) -> bool:
    return any(overlap(milestone, line)[1] >= MILESTONE_COVERAGE for line in agent_lines)


def simulated_customer(messages: list[dict[str, Any]]) -> dict[str, Any]:
    lines = _lines(messages)
    goal = next((value for name, value in lines if name == "GOAL"), "")
    facts = [value.split(" = ", 1) for name, value in lines if name == "FACT" and " = " in value]
    milestones = [value for name, value in lines if name.startswith("MILESTONE ") and value != "(none)"]
    agent = [value for name, value in lines if name == "AGENT"]
    if not agent:
        return {
            "rationale": "Opening the conversation with the goal.",
            "milestones_reached": [],
            "goal_reached": False,
            "abandoned": False,
            "message": f"Hello, I need help: {goal}",
        }
    reached = []
    for number, milestone in enumerate(milestones, start=1):  # in order: a later one counts after the earlier ones
        if not _reached(milestone, agent):
            break
        reached.append(number)
    if milestones and len(reached) == len(milestones):
        return {
            "rationale": f"Every milestone was met ({len(reached)} of {len(milestones)}).",
            "milestones_reached": reached,
            "goal_reached": True,
            "abandoned": False,
            "message": "",
        }
    if not milestones and overlap(goal, agent[-1])[1] >= MILESTONE_COVERAGE:
        return {
            "rationale": "The agent's last reply covers the goal.",
            "milestones_reached": [],
            "goal_reached": True,
            "abandoned": False,
            "message": "",
        }
    if len(agent) >= 3 and agent[-1] == agent[-2] == agent[-3]:
        return {
            "rationale": "The agent repeats itself: giving up.",
            "milestones_reached": reached,
            "goal_reached": False,
            "abandoned": True,
            "message": "",
        }
    last = agent[-1]
    asked = [f"My {name} is {value}." for name, value in facts if content_words(name) & content_words(last)]
    if asked:
        message = " ".join(asked)
    elif "?" in last:
        message = "Yes, please go ahead."
    else:
        message = f"Can you help me with that? {goal}"
    return {
        "rationale": f"{len(reached)} of {len(milestones)} milestones met; answering the agent.",
        "milestones_reached": reached,
        "goal_reached": False,
        "abandoned": False,
        "message": message,
    }


def judge(messages: list[dict[str, Any]]) -> dict[str, Any]:
    lines = _lines(messages)
    criterion = next((value for name, value in lines if name == "CRITERION"), "")
    replies = " ".join(value for name, value in lines if name == "AGENT")
    shared, coverage = overlap(criterion, replies)
    wanted = content_words(criterion)
    passed = coverage >= CRITERION_COVERAGE
    words = ", ".join(sorted(shared)) or "nothing"
    return {
        "rationale": f"The agent's replies share {words} with the criterion ({len(shared)} of {len(wanted)} words).",
        "passed": passed,
    }
