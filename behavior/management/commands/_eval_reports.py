"""What `manage.py run_evals` prints and writes about a finished run: the progress line of one attempt, the summary
table with each failed assertion's cause, the run's figures, JUnit XML (one testsuite, one testcase per case x
repeat) and the JSON report. Plain functions over the stored EvalRun and EvalResult rows."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.text import slugify

from behavior.evaluations.models import EvalResult, EvalRun, ResultStatus

REPORT_FORMAT = "decorum-eval-run"
REPORT_VERSION = 1
CAUSE_CHARS = 300
# XML 1.0 refuses these characters even escaped; a model's reply may contain them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _flat(text: Any, limit: int = CAUSE_CHARS) -> str:
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _percent(value: Any) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f}%"


def _where(item: Mapping[str, Any]) -> str:
    scope = item.get("scope")
    return "conversation" if scope == "conversation" or scope is None else f"turn {int(scope) + 1}"


def failed_assertions(result: EvalResult) -> list[Mapping[str, Any]]:
    return [item for item in result.assertions or [] if not item.get("passed")]


def failure_lines(result: EvalResult) -> list[str]:
    """Why one attempt did not pass: its error, or each failed assertion with its cause."""
    if result.status == ResultStatus.ERROR:
        return [f"error: {_flat(result.error) or 'the attempt failed'}"]
    if result.status == ResultStatus.CANCELLED:
        return [f"cancelled: {_flat(result.error) or 'the run was cancelled'}"]
    return [
        f"{_where(item)}: {item.get('label') or item.get('type')} — {_flat(item.get('cause'))}"
        for item in failed_assertions(result)
    ]


def progress_line(result: EvalResult, *, done: int, total: int) -> str:
    width = len(str(total))
    seconds = float((result.metrics or {}).get("wall_ms") or 0.0) / 1000
    line = f"[{done:>{width}}/{total}] {result.case_key} #{result.repeat + 1}: {result.status} ({seconds:.1f} s)"
    reasons = failure_lines(result) if result.status != ResultStatus.PASSED else []
    if reasons:
        more = f" (+{len(reasons) - 1} more)" if len(reasons) > 1 else ""
        line += f" — {_flat(reasons[0], 200)}{more}"
    return line


def summary_lines(run: EvalRun, results: Sequence[EvalResult]) -> list[str]:
    """The per-case table, then the causes of every failed attempt."""
    by_case: Mapping[str, Mapping[str, Any]] = (run.summary or {}).get("by_case") or {}
    keys = sorted({result.case_key for result in results})
    width = max([len("case"), *(len(key) for key in keys)])
    k = int((run.summary or {}).get("k") or run.repeats)
    header = f"{'case':<{width}}  attempts  passed  pass^{k:<3} pass@{k:<3} result"
    lines = [header, "-" * len(header)]
    for key in keys:
        figures = by_case.get(key) or {}
        attempts, passed = int(figures.get("attempts") or 0), int(figures.get("passed") or 0)
        cancelled = sum(1 for r in results if r.case_key == key and r.status == ResultStatus.CANCELLED)
        verdict = "ok" if attempts and passed == attempts else ("cancelled" if not attempts and cancelled else "FAIL")
        lines.append(
            f"{key:<{width}}  {attempts:>8}  {passed:>6}  {_percent(figures.get('pass_hat_k')):>7} "
            f"{_percent(figures.get('pass_at_k')):>7} {verdict}"
        )
    failing = [result for result in results if result.status in (ResultStatus.FAILED, ResultStatus.ERROR)]
    if failing:
        lines += ["", "Failures:"]
        for result in failing:
            lines.append(f"  {result.case_key} #{result.repeat + 1} ({result.status}):")
            lines += [f"    - {line}" for line in failure_lines(result)]
    cancelled = sum(1 for result in results if result.status == ResultStatus.CANCELLED)
    if cancelled:
        lines += ["", f"{cancelled} attempt(s) cancelled."]
    return lines


def figures_lines(run: EvalRun) -> list[str]:
    summary = run.summary or {}
    cost = summary.get("cost_usd")
    models = ", ".join(sorted((summary.get("tokens_by_model") or {}).keys())) or "none"
    turns_to_goal = summary.get("turns_to_goal_mean")
    rows = [
        (
            "attempts",
            f"{summary.get('attempts', 0)} ({summary.get('passed', 0)} passed, "
            f"{summary.get('failed', 0)} failed, {summary.get('errors', 0)} errors, "
            f"{summary.get('cancelled', 0)} cancelled)",
        ),
        ("pass rate", f"{_percent(summary.get('pass_rate'))} (threshold {_percent(summary.get('min_pass_rate'))})"),
        (
            f"pass^{summary.get('k', run.repeats)} / pass@{summary.get('k', run.repeats)}",
            f"{_percent(summary.get('pass_hat_k'))} / {_percent(summary.get('pass_at_k'))}",
        ),
        (
            "assertion compliance",
            f"{_percent(summary.get('assertion_compliance'))} "
            f"({summary.get('assertions_passed', 0)} of {summary.get('assertions', 0)})",
        ),
        (
            "tool-call accuracy",
            f"{_percent(summary.get('tool_call_accuracy'))} ({summary.get('tool_checks', 0)} tool assertions)",
        ),
        (
            "turns to goal (mean)",
            "—"
            if turns_to_goal is None
            else f"{float(turns_to_goal):.1f} "
            f"({summary.get('goals_reached', 0)} of {summary.get('simulated_attempts', 0)} simulated attempts)",
        ),
        ("LLM calls", str(summary.get("llm_calls", 0))),
        (
            "tokens",
            f"{int(summary.get('prompt_tokens') or 0) + int(summary.get('completion_tokens') or 0)} "
            f"({summary.get('prompt_tokens', 0)} prompt, {summary.get('completion_tokens', 0)} completion)",
        ),
        ("latency p50 / p95", f"{summary.get('latency_p50_ms', 0)} ms / {summary.get('latency_p95_ms', 0)} ms"),
        ("cost", f"${float(cost):.4f}" if cost is not None else f"unknown (no price in LLM_PRICES for: {models})"),
    ]
    if summary.get("draft_changed"):
        rows.append(("note", "the draft was edited while the run went: results mix both drafts"))
    width = max(len(name) for name, _ in rows)
    return [f"{name:<{width}}  {value}" for name, value in rows]


# ---------------------------------------------------------------- JUnit XML


def _xml_text(text: Any) -> str:
    return _NOT_XML.sub("\ufffd", str(text or ""))


def transcript(result: EvalResult) -> str:
    """The attempt as a CI log shows it: each customer message and reply with what the trace says, then every
    assertion with its outcome and cause."""
    lines: list[str] = []
    for turn in result.turns or []:
        number = int(turn.get("index", 0)) + 1
        lines.append(f"[turn {number}] CUSTOMER: {turn.get('customer') or ''}")
        lines.append(f"[turn {number}] AGENT: {turn.get('reply') or '(no reply)'}")
        facts = [f"status {turn.get('status')}"]
        if turn.get("active"):
            facts.append("guidelines " + ", ".join(turn["active"]))
        for call in turn.get("tools") or []:
            arguments = json.dumps(call.get("arguments") or {}, ensure_ascii=False, sort_keys=True)
            mocked = ", mocked" if call.get("mocked") else ""
            facts.append(f"tool {call.get('tool')}{arguments} {call.get('status')}{mocked}")
        if turn.get("journeys_after"):
            facts.append("journeys " + ", ".join(f"{j} at {s}" for j, s in turn["journeys_after"].items()))
        if turn.get("canned"):
            facts.append(f"canned {turn['canned']}")
        if turn.get("handoff"):
            facts.append("handoff")
        lines.append(f"[turn {number}] " + "; ".join(facts))
    simulation = result.metrics or {}
    if simulation.get("simulated"):
        reached = "reached" if simulation.get("goal_reached") else "not reached"
        lines.append(f"[simulation] goal {reached}: {_flat(simulation.get('rationale'), 600)}")
    for item in result.assertions or []:
        outcome = "PASS" if item.get("passed") else "FAIL"
        lines.append(f"[{outcome}] {_where(item)}: {item.get('label') or item.get('type')} — {item.get('cause')}")
        if item.get("rationale"):
            lines.append(f"       judge: {item['rationale']}")
    if result.error:
        lines.append(f"[ERROR] {result.error}")
    return "\n".join(lines)


def junit_xml(run: EvalRun, results: Sequence[EvalResult]) -> bytes:
    summary = run.summary or {}
    suite_name = f"{run.agent.name} · {run.version_label}"
    classname = slugify(run.agent.name) or f"agent-{run.agent_id}"
    total_seconds = sum(float((r.metrics or {}).get("wall_ms") or 0.0) for r in results) / 1000
    root = ElementTree.Element(
        "testsuites", name="decorum run_evals", tests=str(len(results)), time=f"{total_seconds:.3f}"
    )
    suite = ElementTree.SubElement(
        root,
        "testsuite",
        name=_xml_text(suite_name),
        tests=str(len(results)),
        failures=str(sum(1 for r in results if r.status == ResultStatus.FAILED)),
        errors=str(sum(1 for r in results if r.status == ResultStatus.ERROR)),
        skipped=str(
            sum(1 for r in results if r.status not in (ResultStatus.PASSED, ResultStatus.FAILED, ResultStatus.ERROR))
        ),
        time=f"{total_seconds:.3f}",
        timestamp=(run.started_at or run.created_at).isoformat(timespec="seconds"),
    )
    properties = ElementTree.SubElement(suite, "properties")
    for name, value in (
        ("run", run.pk),
        ("agent", run.agent.name),
        ("version", run.version_label),
        ("status", run.status),
        ("repeats", run.repeats),
        ("pass_rate", summary.get("pass_rate")),
        ("min_pass_rate", summary.get("min_pass_rate")),
        ("pass_hat_k", summary.get("pass_hat_k")),
        ("assertion_compliance", summary.get("assertion_compliance")),
    ):
        ElementTree.SubElement(properties, "property", name=name, value=_xml_text(value))
    for result in results:
        case_name = _flat((result.definition or {}).get("name") or result.case_key, 200)
        testcase = ElementTree.SubElement(
            suite,
            "testcase",
            classname=_xml_text(f"{classname}.{result.case_key}"),
            name=_xml_text(f"{result.case_key} #{result.repeat + 1}: {case_name}"),
            time=f"{float((result.metrics or {}).get('wall_ms') or 0.0) / 1000:.3f}",
        )
        reasons = failure_lines(result)
        if result.status == ResultStatus.FAILED:
            failure = ElementTree.SubElement(
                testcase,
                "failure",
                message=_xml_text(f"{len(reasons)} assertion(s) failed: " + "; ".join(reasons))[:4000],
                type="assertion",
            )
            failure.text = _xml_text("\n".join(reasons))
        elif result.status == ResultStatus.ERROR:
            error = ElementTree.SubElement(
                testcase, "error", message=_xml_text(_flat(result.error, 1000)), type="attempt-error"
            )
            error.text = _xml_text(result.error)
        elif result.status != ResultStatus.PASSED:
            ElementTree.SubElement(testcase, "skipped", message=_xml_text(reasons[0] if reasons else result.status))
        out = ElementTree.SubElement(testcase, "system-out")
        out.text = _xml_text(transcript(result))
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


# ---------------------------------------------------------------- JSON


def json_report(run: EvalRun, results: Sequence[EvalResult]) -> dict[str, Any]:
    """The run's summary and coverage, and every attempt with its assertions, metrics and turns."""
    return {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "run": {
            "id": run.pk,
            "agent": run.agent.name,
            "agent_id": run.agent_id,
            "version": run.version_label,
            "version_number": run.version.number if run.version is not None else None,
            "status": run.status,
            "purpose": run.purpose,
            "selection": run.selection,
            "repeats": run.repeats,
            "concurrency": run.concurrency,
            "min_pass_rate": run.min_pass_rate,
            "created_at": run.created_at.isoformat(),
            "started_at": run.started_at.isoformat() if run.started_at else None,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "error": run.error,
        },
        "summary": run.summary or {},
        "coverage": run.coverage or {},
        "results": [
            {
                "case_key": result.case_key,
                "name": (result.definition or {}).get("name") or result.case_key,
                "kind": (result.definition or {}).get("kind") or "scripted",
                "repeat": result.repeat,
                "status": result.status,
                "error": result.error,
                "session": str(result.session.uid) if result.session_id and result.session else None,
                "failures": failure_lines(result) if result.status != ResultStatus.PASSED else [],
                "assertions": result.assertions or [],
                "metrics": result.metrics or {},
                "turns": result.turns or [],
            }
            for result in results
        ],
    }
