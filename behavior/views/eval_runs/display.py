"""How the evaluation pages show a run: its figures, per case rows with the failed assertions and their causes
(each linked to the turn's explanation), coverage linked to the entities, live progress, and the comparison of two
runs as a behavioral diff per turn. Reads only; the views in this package render what these functions return."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count
from django.urls import NoReverseMatch, reverse

from agents.models import Agent, Tool
from agents.permissions import Area, user_may_open
from behavior.evaluations.metrics import runs_compare
from behavior.evaluations.models import RUN_FINISHED, EvalResult, EvalRun, ResultStatus, RunPurpose
from behavior.evaluations.runs import result_attempt
from behavior.models import CannedResponse, Guideline, Journey
from behavior.services.text_diff import text_diff
from config.htmx import HtmxHttpRequest

CASES_PER_PAGE = 50
FAILURES_PER_CASE_SHOWN = 20
RUNS_OFFERED_FOR_COMPARISON = 50
COMPARED_CASES_SHOWN = 300
JSON_SHOWN_MAX_CHARS = 4000


def url_if_built(name: str, *args: Any) -> str | None:
    """A URL of a page family that may not be built yet (test cases are another family's pages)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


# ---------------------------------------------------------------------------------------------- display helpers


def _percent(value: Any) -> str:
    if value is None:
        return "—"
    number = 100 * float(value)
    return f"{number:.0f}%" if number in (0.0, 100.0) or abs(number - round(number)) < 0.05 else f"{number:.1f}%"


def milliseconds(value: Any) -> str:
    number = float(value or 0)
    return f"{number:.0f} ms" if number < 1000 else f"{number / 1000:.2f} s"


def _duration(run: EvalRun) -> str:
    if run.started_at is None:
        return "—"
    if run.finished_at is None:
        return "running"
    seconds = max(0.0, (run.finished_at - run.started_at).total_seconds())
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def json_shown(value: Any) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= JSON_SHOWN_MAX_CHARS else text[:JSON_SHOWN_MAX_CHARS] + "\n…"


def _arguments(arguments: Any) -> str:
    """Tool arguments on one line: booking_ref="SKY4F7", date="2026-12-05"."""
    if not isinstance(arguments, Mapping) or not arguments:
        return ""
    text = ", ".join(
        f"{name}={json.dumps(value, ensure_ascii=False, default=str)}" for name, value in arguments.items()
    )
    return text if len(text) <= 300 else text[:299] + "…"


def _case_count(run: EvalRun) -> int:
    return int((run.summary or {}).get("cases") or (run.progress_total // max(1, run.repeats)))


def run_row(run: EvalRun) -> dict[str, Any]:
    summary = run.summary or {}
    return {
        "run": run,
        "pass_rate": _percent(summary.get("pass_rate")) if summary else "—",
        "pass_hat_k": _percent(summary.get("pass_hat_k")) if summary else "—",
        "k": summary.get("k") or run.repeats,
        "cases": _case_count(run),
        "duration": _duration(run),
        "percent": int(100 * run.progress_done / run.progress_total) if run.progress_total else 0,
    }


def _figures(summary: Mapping[str, Any]) -> list[dict[str, str]]:
    """The run's figures as label, value and what the value means."""
    k = summary.get("k") or 1
    attempts = int(summary.get("attempts") or 0)
    tool_checks = int(summary.get("tool_checks") or 0)
    simulated = int(summary.get("simulated_attempts") or 0)
    prompt, completion = int(summary.get("prompt_tokens") or 0), int(summary.get("completion_tokens") or 0)
    cost = summary.get("cost_usd")
    models = ", ".join(summary.get("tokens_by_model") or {}) or "the agent's model"
    figures = [
        {
            "label": "Pass rate",
            "value": _percent(summary.get("pass_rate")),
            "hint": f"{summary.get('passed', 0)} of {attempts} attempts passed; the run needs "
            f"{_percent(summary.get('min_pass_rate'))}",
        },
        {
            "label": f"pass^{k}",
            "value": _percent(summary.get("pass_hat_k")),
            "hint": f"the chance that {k} attempts of a case all pass (mean over cases)",
        },
        {
            "label": f"pass@{k}",
            "value": _percent(summary.get("pass_at_k")),
            "hint": f"the chance that at least one of {k} attempts passes",
        },
        {
            "label": "Assertion compliance",
            "value": _percent(summary.get("assertion_compliance") if summary.get("assertions") else None),
            "hint": f"{summary.get('assertions_passed', 0)} of {summary.get('assertions', 0)} assertions held",
        },
        {
            "label": "Tool-call accuracy",
            "value": _percent(summary.get("tool_call_accuracy")),
            "hint": f"right tool with the right arguments, over {tool_checks} tool assertions"
            if tool_checks
            else "no tool assertion in these cases",
        },
        {
            "label": "Turns to goal",
            "value": f"{summary['turns_to_goal_mean']:.1f}" if summary.get("turns_to_goal_mean") is not None else "—",
            "hint": f"mean over simulated attempts that reached their goal ({summary.get('goals_reached', 0)} of "
            f"{simulated})"
            if simulated
            else "no simulated case",
        },
        {
            "label": "LLM calls",
            "value": f"{int(summary.get('llm_calls') or 0):,}",
            "hint": f"over {summary.get('turns', 0)} turns, with the simulated customer and the judge",
        },
        {
            "label": "Tokens",
            "value": f"{prompt + completion:,}",
            "hint": f"{prompt:,} prompt · {completion:,} completion",
        },
        {"label": "Latency p50", "value": milliseconds(summary.get("latency_p50_ms")), "hint": "per agent turn"},
        {"label": "Latency p95", "value": milliseconds(summary.get("latency_p95_ms")), "hint": "per agent turn"},
        {
            "label": "Cost estimate",
            "value": f"${cost:,.4f}" if cost is not None else "—",
            "hint": f"{models}, at the prices in LLM_PRICES"
            if cost is not None
            else f"no price for {models} in LLM_PRICES",
        },
    ]
    return figures


def run_progress(run: EvalRun) -> dict[str, Any]:
    counts = dict(run.results.values_list("status").annotate(count=Count("id")).values_list("status", "count"))
    total = sum(counts.values()) or run.progress_total
    waiting = counts.get(ResultStatus.PENDING, 0) + counts.get(ResultStatus.QUEUED, 0)
    running = counts.get(ResultStatus.RUNNING, 0)
    done = total - waiting - running
    return {
        "done": done,
        "total": total,
        "running": running,
        "waiting": waiting,
        "percent": int(100 * done / total) if total else 0,
    }


def trace_url(result: EvalResult, turn: Mapping[str, Any] | None) -> str | None:
    if result.session is None or not turn or not turn.get("turn_id"):
        return None
    return reverse("sandbox:trace", args=[result.session.uid, turn["turn_id"]])


def _turn_of(result: EvalResult, index: Any) -> Mapping[str, Any] | None:
    turns = result.turns or []
    if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(turns):
        return turns[index]
    return None


def assertion_rows(result: EvalResult, items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        turn = _turn_of(result, item.get("turn"))
        rows.append(
            {
                **item,
                "turn_number": int(turn["index"]) + 1 if turn else None,
                "trace_url": trace_url(result, turn),
                "judged": item.get("type") == "criterion",
                # the cause quotes the judge's rationale cut short; the whole of it when it was cut
                "rationale_more": item.get("rationale")
                if item.get("rationale") and str(item.get("rationale")) not in str(item.get("cause") or "")
                else None,
            }
        )
    return rows


# ---------------------------------------------------------------------------------------------- coverage


def _entity_urls(agent: Agent, model: Any, field: str, refs: Iterable[str], url_name: str) -> dict[str, str]:
    wanted = set(refs)
    if not wanted:
        return {}
    rows = model.objects.filter(agent=agent, **{f"{field}__in": wanted}).values_list(field, "pk")
    return {ref: reverse(url_name, args=[agent.pk, pk]) for ref, pk in rows}


def _coverage(agent: Agent, coverage: Mapping[str, Any]) -> dict[str, Any]:
    """What the run never exercised, each with its entity's studio page (when the draft still holds it)."""
    if not coverage:
        return {}
    guidelines = list(coverage.get("guidelines_never_active") or [])
    states = dict(coverage.get("states_never_reached") or {})
    transitions = dict(coverage.get("transitions_never_taken") or {})
    canned = list(coverage.get("canned_never_chosen") or [])
    tools = list(coverage.get("tools_never_called") or [])
    guideline_urls = _entity_urls(agent, Guideline, "key", guidelines, "studio:guideline-detail")
    journey_urls = _entity_urls(agent, Journey, "key", [*states, *transitions], "studio:journey-detail")
    canned_urls = _entity_urls(agent, CannedResponse, "key", canned, "studio:canned-response-detail")
    tool_urls = _entity_urls(agent, Tool, "name", tools, "studio:tool-detail")
    return {
        "sections": [
            {
                "id": "guidelines",
                "title": "Guidelines never active",
                "missed": len(guidelines),
                "total": coverage.get("guidelines_total", 0),
                "entities": [{"ref": key, "url": guideline_urls.get(key)} for key in guidelines],
            },
            {
                "id": "states",
                "title": "Journey states never reached",
                "missed": sum(len(value) for value in states.values()),
                "total": coverage.get("states_total", 0),
                "journeys": [
                    {"ref": key, "url": journey_urls.get(key), "parts": [str(state) for state in value]}
                    for key, value in states.items()
                ],
            },
            {
                "id": "transitions",
                "title": "Transitions never taken",
                "missed": sum(len(value) for value in transitions.values()),
                "total": coverage.get("transitions_total", 0),
                "journeys": [
                    {
                        "ref": key,
                        "url": journey_urls.get(key),
                        "parts": [f"{pair[0] or '·'} → {pair[1] or '·'}" for pair in value],
                    }
                    for key, value in transitions.items()
                ],
            },
            {
                "id": "canned",
                "title": "Canned responses never chosen",
                "missed": len(canned),
                "total": coverage.get("canned_total", 0),
                "entities": [{"ref": key, "url": canned_urls.get(key)} for key in canned],
            },
            {
                "id": "tools",
                "title": "Tools never called",
                "missed": len(tools),
                "total": coverage.get("tools_total", 0),
                "entities": [{"ref": name, "url": tool_urls.get(name)} for name in tools],
            },
        ]
    }


# ---------------------------------------------------------------------------------------------- one run


def _case_rows(agent: Agent, run: EvalRun, keys: Sequence[str]) -> list[dict[str, Any]]:
    """Per case of `keys`: its figures, its attempts and the failed assertions (the same failure in several
    repeats once, with the repeats it happened in)."""
    by_case = (run.summary or {}).get("by_case") or {}
    results = (
        EvalResult.objects.filter(run=run, case_key__in=keys)
        .select_related("session")
        .only(
            "id",
            "case_id",
            "case_key",
            "repeat",
            "status",
            "assertions",
            "turns",
            "error",
            "definition",
            "session__uid",
        )
        .order_by("case_key", "repeat")
    )
    grouped: dict[str, list[EvalResult]] = {key: [] for key in keys}
    for result in results:
        grouped.setdefault(result.case_key, []).append(result)
    rows = []
    for key in keys:
        attempts = grouped.get(key) or []
        failures: dict[tuple[str, str], dict[str, Any]] = {}
        errors: list[str] = []
        for result in attempts:
            if result.error and result.status != ResultStatus.CANCELLED and result.error not in errors:
                errors.append(result.error)
            for row in assertion_rows(result, (item for item in result.assertions or [] if not item.get("passed"))):
                seen = failures.setdefault((str(row.get("label")), str(row.get("cause"))), {**row, "repeats": []})
                seen["repeats"].append(result.repeat + 1)
        name = str((attempts[0].definition or {}).get("name") or key) if attempts else key
        figures = by_case.get(key)
        case_id = attempts[0].case_id if attempts else None
        rows.append(
            {
                "key": key,
                "name": name,
                "figures": figures,
                "pass_hat_k": _percent(figures.get("pass_hat_k")) if figures else "—",
                "pass_at_k": _percent(figures.get("pass_at_k")) if figures else "—",
                "case_url": url_if_built("studio:eval-case-detail", agent.pk, case_id) if case_id else None,
                "attempts": [
                    {
                        "result": result,
                        "url": reverse("studio:eval-result-detail", args=[agent.pk, run.pk, result.pk]),
                    }
                    for result in attempts
                ],
                "failures": list(failures.values())[:FAILURES_PER_CASE_SHOWN],
                "failures_cut": max(0, len(failures) - FAILURES_PER_CASE_SHOWN),
                "errors": errors[:5],
            }
        )
    return rows


def _case_order(run: EvalRun) -> list[str]:
    """Case keys, the least passing first."""
    by_case = (run.summary or {}).get("by_case") or {}
    keys = by_case.keys() or run.results.values_list("case_key", flat=True).distinct()
    return sorted(set(keys), key=lambda key: ((by_case.get(key) or {}).get("pass_rate", 0.0), key))


def run_context(request: HtmxHttpRequest, agent: Agent, run: EvalRun) -> dict[str, Any]:
    context: dict[str, Any] = {
        "agent": agent,
        "family": "evaluations",
        "run": run,
        "row": run_row(run),
        "purposes": RunPurpose,
    }
    if not run.finished:
        context["progress"] = run_progress(run)
        return context
    page = Paginator(_case_order(run), CASES_PER_PAGE).get_page(request.GET.get("page"))
    context.update(
        figures=_figures(run.summary or {}),
        summary=run.summary or {},
        page=page,
        cases=_case_rows(agent, run, list(page.object_list)),
        coverage=_coverage(agent, run.coverage or {}),
        comparable=list(
            agent.eval_runs.filter(status__in=RUN_FINISHED)
            .exclude(pk=run.pk)
            .select_related("version")
            .defer("version__document", "summary", "coverage", "inventory")[:RUNS_OFFERED_FOR_COMPARISON]
        ),
    )
    return context


# ---------------------------------------------------------------------------------------------- comparison


def _marked(before: Sequence[str], after: Sequence[str]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Two lists with what only the left has marked "del" and what only the right has marked "ins"."""
    left = [{"text": item, "mark": "" if item in after else "del"} for item in before]
    right = [{"text": item, "mark": "" if item in before else "ins"} for item in after]
    return left, right


def _tool_texts(calls: Iterable[Mapping[str, Any]]) -> list[str]:
    return [f"{call.get('tool')}({_arguments(call.get('arguments'))}) · {call.get('status') or '—'}" for call in calls]


def _turn_fields(turn: Mapping[str, Any]) -> list[dict[str, Any]]:
    left, right = turn.get("baseline") or {}, turn.get("candidate") or {}
    changed = set(turn.get("changed") or [])
    fields = []

    def lists(name: str, label: str, before: list[str], after: list[str]) -> None:
        marked_left, marked_right = _marked(before, after)
        fields.append(
            {
                "name": name,
                "label": label,
                "kind": "list",
                "changed": name in changed,
                "baseline": marked_left,
                "candidate": marked_right,
            }
        )

    if (left.get("customer") or "") != (right.get("customer") or ""):
        fields.append(
            {
                "name": "customer",
                "label": "Customer",
                "kind": "text",
                "changed": True,
                "baseline": [{"op": "equal", "text": left.get("customer") or "—"}],
                "candidate": [{"op": "equal", "text": right.get("customer") or "—"}],
            }
        )
    lists("active", "Active guidelines", list(left.get("active") or []), list(right.get("active") or []))
    lists("tools", "Tools and arguments", _tool_texts(left.get("tools") or []), _tool_texts(right.get("tools") or []))
    lists("moves", "Journey moves", list(left.get("moves") or []), list(right.get("moves") or []))
    lists(
        "journeys",
        "Journey states after",
        [f"{key}: {value}" for key, value in (left.get("journeys") or {}).items()],
        [f"{key}: {value}" for key, value in (right.get("journeys") or {}).items()],
    )
    lists(
        "canned",
        "Canned response",
        [left["canned"]] if left.get("canned") else [],
        [right["canned"]] if right.get("canned") else [],
    )
    segments = text_diff(str(left.get("reply") or ""), str(right.get("reply") or ""))
    fields.append(
        {
            "name": "reply",
            "label": "Reply",
            "kind": "text",
            "changed": "reply" in changed,
            "baseline": [{"op": op, "text": text} for op, text in segments if op != "insert"],
            "candidate": [{"op": op, "text": text} for op, text in segments if op != "delete"],
        }
    )
    if left.get("handoff") or right.get("handoff"):
        fields.append(
            {
                "name": "handoff",
                "label": "Handed to a human",
                "kind": "text",
                "changed": "handoff" in changed,
                "baseline": [{"op": "equal", "text": "yes" if left.get("handoff") else "no"}],
                "candidate": [{"op": "equal", "text": "yes" if right.get("handoff") else "no"}],
            }
        )
    return fields


def _first_result_urls(agent: Agent, run: EvalRun) -> dict[str, str]:
    urls: dict[str, str] = {}
    for pk, key in run.results.order_by("case_key", "repeat").values_list("pk", "case_key"):
        urls.setdefault(key, reverse("studio:eval-result-detail", args=[agent.pk, run.pk, pk]))
    return urls


CHANGE_SECTIONS = (
    ("regression", "Regressions", "Passed more often in the baseline than now."),
    ("improvement", "Improvements", "Pass more often now than in the baseline."),
    ("added", "New cases", "Not in the baseline run."),
    ("removed", "Cases no longer run", "In the baseline run only."),
    ("unchanged", "Unchanged, still failing", "The same pass rate, below 100%."),
    ("unchanged_pass", "Unchanged, passing", "Passed every attempt in both runs."),
)


def comparison(agent: Agent, baseline: EvalRun, candidate: EvalRun) -> dict[str, Any]:
    """runs_compare of two finished runs, shaped for the page: sections in the order regressions, improvements,
    new, removed, unchanged; per case the behavioral diff of its first attempt's turns."""
    compared = runs_compare(
        [result_attempt(result) for result in baseline.results.all()],
        [result_attempt(result) for result in candidate.results.all()],
        k=max(1, min(baseline.repeats, candidate.repeats)),
    )
    names = {
        key: str((definition or {}).get("name") or key)
        for key, definition in EvalResult.objects.filter(run__in=[baseline, candidate])
        .order_by("-run_id")
        .values_list("case_key", "definition")
    }
    before_urls, after_urls = _first_result_urls(agent, baseline), _first_result_urls(agent, candidate)
    shown = compared["cases"][:COMPARED_CASES_SHOWN]
    rows = [
        {
            **row,
            "name": names.get(row["case_key"], row["case_key"]),
            "baseline_url": before_urls.get(row["case_key"]),
            "candidate_url": after_urls.get(row["case_key"]),
            "baseline_rate": _percent(row["baseline"]["pass_rate"]) if row["baseline"] else "—",
            "candidate_rate": _percent(row["candidate"]["pass_rate"]) if row["candidate"] else "—",
            "turn_rows": [
                {"index": turn["index"], "changed": turn["changed"], "fields": _turn_fields(turn)}
                for turn in row["turns"]
            ],
        }
        for row in shown
    ]
    sections = [
        {"change": change, "title": title, "hint": hint, "rows": [row for row in rows if row["change"] == change]}
        for change, title, hint in CHANGE_SECTIONS
    ]
    return {
        "baseline": baseline,
        "candidate": candidate,
        "sections": [section for section in sections if section["rows"]],
        "regressions": compared["regressions"],
        "improvements": compared["improvements"],
        "behavior_changes": compared["behavior_changes"],
        "cases": len(compared["cases"]),
        "cut": max(0, len(compared["cases"]) - COMPARED_CASES_SHOWN),
        "shown": len(shown),
        "baseline_row": run_row(baseline),
        "candidate_row": run_row(candidate),
    }


# ---------------------------------------------------------------------------------------------- the publish check


def publish_check_state(agent: Agent, user: Any) -> dict[str, Any]:
    """What the versions page's publish form shows about checking the draft first: whether the user may, how many
    test cases there are, and the latest check on the current draft."""
    if not user_may_open(user, Area.SANDBOX):
        return {"eval_allowed": False}
    latest = (
        agent.eval_runs.filter(purpose=RunPurpose.PUBLISH_CHECK, version__isnull=True)
        .defer("summary", "coverage", "inventory")
        .first()
    )
    return {
        "eval_allowed": True,
        "eval_case_count": agent.eval_cases.count(),
        "eval_cases_url": url_if_built("studio:eval-case-list", agent.pk),
        "eval_last_check": latest,
        "eval_last_check_current": latest is not None and latest.draft_revision == agent.draft_revision,
    }
