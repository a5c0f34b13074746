"""Evaluation benchmark: a run of N generated test cases x K repeats on the demo agent against the fake OpenAI server
with a fixed latency per call (issue 10): wall time, attempts per second, the concurrency reached and the platform
overhead per attempt (its wall time minus the time it waited on the model).

    .venv/bin/python bench/eval_bench.py                                    # 100 cases x 3 repeats, 8 at a time
    .venv/bin/python bench/eval_bench.py --cases 5 --repeats 1              # a quick look
    .venv/bin/python bench/eval_bench.py --concurrency 16 --llm-latency-ms 500 --json /tmp/eval.json
    .venv/bin/python bench/eval_bench.py --mode embedded                    # dispatched by runs.run_dispatch
    .venv/bin/python bench/eval_bench.py --database-url postgres://postgres@127.0.0.1:5432

The database is fresh (SQLite in a temporary directory, or `decorum_eval_bench_<pid>` created on the PostgreSQL
server of --database-url and dropped at the end); the demo agent is seeded and its own cases replaced by the
generated ones (bench/eval_cases.py: scripted cases of 1 to 3 Skyway messages with assertions, one in six a
simulated customer). The fake OpenAI server (tests/support/fake_openai_server.py, answering with the engine
responder, so the simulated customer and the judge answer too) runs as a subprocess (--llm-server thread: in this
process) with --llm-latency-ms per call. The run is created with `runs.run_create(..., start=False)`; its attempts
then run `execute.result_execute` in a pool of --concurrency threads (--mode threads: the executor of
`manage.py run_evals` itself), or through `runs.run_dispatch` and the embedded default's evaluation threads
(--mode embedded, as a run started in the studio).

Every attempt is timed by a wrapper around `execute.result_execute` (which also counts how many run at once), and
every model call it makes by a wrapper around the agent's LLM port. The model wait of an attempt is the fixed
latency of its calls (calls running side by side counted once); platform overhead = the attempt's wall time minus
that wait: the engine, the database, the turn path, assertions, and each call's HTTP round trip beyond the fixed
latency (shown on its own). The calls the server saw are counted too and must equal the calls made.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.eval_timing import CountedLLM, Ledger
from bench.inprocess import ThrowawayDatabase, database_drop, database_prepare, percentile
from bench.realtime_stack import ROOT, Stack, free_port, http_ok, wait_until

RESPONDER = "tests.support.engine_responder:openai_responder"
MAX_CONCURRENCY = 64  # settings.EVAL_MAX_CONCURRENCY's own limit


# ---------------------------------------------------------------- instrumentation


def instrument(ledger: Ledger) -> None:
    """Wrap the LLM port (turns, simulated customer, judge all ask `engine_bridge.llm_port_for`) and the attempt
    (`runs` and `run_evals` look `result_execute` up on every call)."""
    from behavior.evaluations import execute
    from behavior.management.commands import run_evals
    from sessions import engine_bridge

    port_for = engine_bridge.llm_port_for

    def counted_port_for(snapshot: Any) -> Any:
        return CountedLLM(port_for(snapshot), ledger)

    engine_bridge.llm_port_for = counted_port_for
    result_execute = execute.result_execute

    def timed_result_execute(result_id: int) -> str:
        with ledger.attempt(result_id) as timing:
            timing.status = result_execute(result_id)
        return timing.status

    execute.result_execute = timed_result_execute
    run_evals.result_execute = timed_result_execute


# ---------------------------------------------------------------- the fake model, the database, the world


class LLMServer:
    """The fake OpenAI server with the engine responder: a subprocess (only that process is stopped) or a thread."""

    def __init__(self, *, where: str, latency_ms: float, log_dir: Path) -> None:
        self.where, self.latency_ms, self.log_dir = where, latency_ms, log_dir
        self.stack = Stack()
        self.thread_server: Any = None
        self.base_url = ""

    def start(self) -> str:
        if self.where == "thread":
            from tests.support.engine_responder import openai_responder
            from tests.support.fake_openai_server import FakeOpenAIServer, LatencyModel

            self.thread_server = FakeOpenAIServer(
                latency=LatencyModel(base_ms=self.latency_ms), responder=openai_responder
            ).start()
            self.base_url = self.thread_server.base_url
            return self.base_url
        port = free_port()
        command = [sys.executable, "-m", "tests.support.fake_openai_server", "--port", str(port)]
        command += ["--latency-ms", str(self.latency_ms), "--responder", RESPONDER]
        self.stack.start("fake_openai", command, {**os.environ, "PYTHONUNBUFFERED": "1"}, self.log_dir)
        self.base_url = f"http://127.0.0.1:{port}/v1"
        wait_until("the fake OpenAI server", 30, lambda: http_ok(f"{self.base_url}/models"))
        return self.base_url

    def _control(self, path: str, *, post: bool = False) -> Any:
        url = self.base_url.removesuffix("/v1") + path
        request = urllib.request.Request(url, data=b"{}" if post else None, method="POST" if post else "GET")
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())

    def reset(self) -> None:
        if self.thread_server is not None:
            self.thread_server.reset()
        else:
            self._control("/_control/reset", post=True)

    def chat_calls(self) -> int:
        """Chat completions the server received since the last reset (its log keeps the last 10,000)."""
        if self.thread_server is not None:
            return len(self.thread_server.chat_requests())
        logged = self._control("/_control/requests")["requests"]
        return sum(1 for entry in logged if entry["path"].endswith("/chat/completions"))

    def stop(self) -> None:
        if self.thread_server is not None:
            self.thread_server.stop()
        self.stack.stop()


def environment_prepare(arguments: argparse.Namespace, base_url: str) -> None:
    """Settings come from the environment: set before django.setup()."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "OPENAI_BASE_URL": base_url,
            "OPENAI_API_KEY": "fake",
            "EMBEDDER": "hashing",
            "LOG_LEVEL": "WARNING",
            "DEBUG": "false",
            "SECURE_COOKIES": "false",
            "EVAL_MAX_CONCURRENCY": str(max(16, arguments.concurrency)),
            "EVAL_THREADS": str(arguments.concurrency),  # the embedded mode's pool
        }
    )
    os.environ.setdefault("SECRET_KEY", "eval-bench-secret-key")
    os.environ.pop("TURNS_RUN_INLINE", None)


def django_setup() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def world_prepare(arguments: argparse.Namespace) -> tuple[Any, Any]:
    """The demo agent with the generated cases instead of its own; returns (agent, version or None = draft)."""
    from behavior.demo.seeding import demo_seed
    from behavior.evaluations.cases import case_create
    from bench.eval_cases import bench_cases

    agent, _version = demo_seed()
    agent.eval_cases.all().delete()
    for data in bench_cases(arguments.cases, seed=arguments.seed):
        case_create(agent=agent, data=data, actor=None)
    agent.refresh_from_db()
    return agent, (agent.published_version if arguments.on == "published" else None)


# ---------------------------------------------------------------- running the attempts


def run_in_threads(run: Any) -> None:
    """The attempts in a pool of `run.concurrency` threads, exactly as `manage.py run_evals` runs them (its own
    executor; its progress lines are not printed)."""
    from behavior.management.commands.run_evals import Command

    Command(stdout=io.StringIO(), stderr=sys.stderr)._execute(run)


def run_embedded(run: Any, *, timeout: float) -> None:
    """Dispatch through `runs.run_dispatch` (the embedded default's evaluation threads) and wait for the run's end."""
    from behavior.evaluations.models import EvalRun
    from behavior.evaluations.runs import run_dispatch

    run_dispatch(run.pk)
    deadline = time.monotonic() + timeout
    while not EvalRun.objects.get(pk=run.pk).finished:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the run did not finish within {timeout:.0f} s")
        time.sleep(0.1)


# ---------------------------------------------------------------- figures


def most_overlapping(intervals: list[tuple[Any, Any]]) -> int:
    """The largest number of intervals open at one moment."""
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])  # ends first
    most = current = 0
    for _, step in edges:
        current += step
        most = max(most, current)
    return most


def attempt_rows(run: Any, ledger: Ledger, latency_ms: float) -> list[dict[str, Any]]:
    rows = []
    for result in run.results.order_by("case_key", "repeat"):
        timing = ledger.attempts.get(result.pk)
        metrics = result.metrics or {}
        definition = result.definition or {}
        wall = timing.wall_ms if timing else float(metrics.get("wall_ms") or 0.0)
        wait = timing.llm_wait_ms(latency_ms) if timing else 0.0
        turns = int(metrics.get("turns") or len(result.turns or []))
        round_trips = [(end - start) * 1000 - latency_ms for start, end in (timing.calls if timing else [])]
        rows.append(
            {
                "case": result.case_key,
                "repeat": result.repeat,
                "kind": definition.get("kind", "scripted"),
                "scripted_turns": len(definition.get("turns") or []),
                "status": result.status,
                "error": result.error,
                "failed": [
                    f"{item['label']}: {item['cause']}" for item in result.assertions or [] if not item["passed"]
                ],
                "turns": turns,
                "llm_calls": len(timing.calls) if timing else 0,
                "engine_calls": int(metrics.get("llm_calls") or 0),
                "evaluator_calls": int(metrics.get("evaluator_calls") or 0),
                "wall_ms": round(wall, 1),
                "llm_wait_ms": round(wait, 1),
                "overhead_ms": round(wall - wait, 1),
                "overhead_per_turn_ms": round((wall - wait) / turns, 1) if turns else None,
                "call_extra_ms": round(sum(round_trips) / len(round_trips), 1) if round_trips else None,
                "engine_ms": metrics.get("engine_ms"),
                "started_at": result.started_at.isoformat() if result.started_at else None,
                "finished_at": result.finished_at.isoformat() if result.finished_at else None,
            }
        )
    return rows


def group_figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def values(name: str) -> list[float]:
        return [row[name] for row in rows if row[name] is not None]

    def p50_p95(name: str) -> dict[str, float | None]:
        return {"p50": percentile(values(name), 0.5), "p95": percentile(values(name), 0.95)}

    count = len(rows)
    return {
        "attempts": count,
        "cases": len({row["case"] for row in rows}),
        "turns_per_attempt": round(sum(values("turns")) / count, 2) if count else None,
        "llm_calls_per_attempt": round(sum(values("llm_calls")) / count, 2) if count else None,
        "wall_ms": p50_p95("wall_ms"),
        "llm_wait_ms": p50_p95("llm_wait_ms"),
        "overhead_ms": p50_p95("overhead_ms"),
        "overhead_per_turn_ms": p50_p95("overhead_per_turn_ms"),
        "passed": sum(1 for row in rows if row["status"] == "passed"),
        "pass_rate": round(sum(1 for row in rows if row["status"] == "passed") / count, 3) if count else None,
        "errors": sum(1 for row in rows if row["status"] == "error"),
    }


def bench_report(
    arguments: argparse.Namespace,
    run: Any,
    ledger: Ledger,
    *,
    wall_seconds: float,
    server_calls: int,
    database: str,
) -> dict[str, Any]:
    rows = attempt_rows(run, ledger, arguments.llm_latency_ms)
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        label = "simulated" if row["kind"] == "simulated" else f"scripted, {row['scripted_turns']} turn(s)"
        groups.setdefault(label, []).append(row)
    database_overlap = most_overlapping(
        [(row["started_at"], row["finished_at"]) for row in rows if row["started_at"] and row["finished_at"]]
    )
    counted_calls = sum(row["llm_calls"] for row in rows)
    extras = [row["call_extra_ms"] for row in rows if row["call_extra_ms"] is not None]
    summary = run.summary or {}
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "config": {
            "cases": arguments.cases,
            "repeats": arguments.repeats,
            "concurrency": arguments.concurrency,
            "llm_latency_ms": arguments.llm_latency_ms,
            "mode": arguments.mode,
            "llm_server": arguments.llm_server,
            "database": database,
            "on": arguments.on,
            "seed": arguments.seed,
        },
        "run": {"id": run.pk, "status": run.status, "pass_rate": summary.get("pass_rate"), "summary": summary},
        "wall_seconds": round(wall_seconds, 2),
        "attempts_per_second": round(len(rows) / wall_seconds, 2) if wall_seconds else None,
        "concurrency_reached": ledger.most_running,
        "concurrency_reached_in_database": database_overlap,
        "busy_share": round(sum(row["wall_ms"] for row in rows) / 1000 / (wall_seconds * arguments.concurrency), 3)
        if wall_seconds
        else None,
        "llm_calls": {
            "counted": counted_calls,
            "server_saw": server_calls,
            "outside_attempts": ledger.unbooked_calls,
            "per_attempt": round(counted_calls / len(rows), 2) if rows else None,
            "engine": sum(row["engine_calls"] for row in rows),
            "evaluator": sum(row["evaluator_calls"] for row in rows),
            "round_trip_beyond_latency_ms": {"p50": percentile(extras, 0.5), "p95": percentile(extras, 0.95)},
        },
        "all": group_figures(rows),
        "by_kind": {label: group_figures(group) for label, group in sorted(groups.items())},
        "error_examples": sorted({row["error"] for row in rows if row["error"]})[:5],
        "attempts": rows,
    }


def _pair(figures: dict[str, Any]) -> str:
    return f"{figures['p50']} / {figures['p95']}"


def report_text(report: dict[str, Any]) -> str:
    from bench.report import table

    config, calls = report["config"], report["llm_calls"]
    head = table(
        ["attempts", "wall s", "attempts/s", "concurrency set / reached", "pass rate", "errors", "LLM calls / attempt"],
        [
            [
                report["all"]["attempts"],
                report["wall_seconds"],
                report["attempts_per_second"],
                f"{config['concurrency']} / {report['concurrency_reached']}",
                f"{report['all']['pass_rate']:.1%}" if report["all"]["pass_rate"] is not None else "-",
                report["all"]["errors"],
                calls["per_attempt"],
            ]
        ],
    )
    rows = []
    for label, figures in [*report["by_kind"].items(), ("all", report["all"])]:
        rows.append(
            [
                label,
                figures["cases"],
                figures["attempts"],
                figures["turns_per_attempt"],
                figures["llm_calls_per_attempt"],
                _pair(figures["wall_ms"]),
                _pair(figures["llm_wait_ms"]),
                _pair(figures["overhead_ms"]),
                _pair(figures["overhead_per_turn_ms"]),
                f"{figures['pass_rate']:.0%}" if figures["pass_rate"] is not None else "-",
            ]
        )
    per_case = table(
        [
            "kind",
            "cases",
            "attempts",
            "turns",
            "LLM calls",
            "attempt ms p50/p95",
            "LLM wait p50/p95",
            "overhead p50/p95",
            "overhead/turn p50/p95",
            "pass",
        ],
        rows,
    )
    return "\n".join(
        [
            f"Evaluation bench: {config['cases']} cases x {config['repeats']} repeats, concurrency {config['concurrency']}, "
            f"{config['llm_latency_ms']:g} ms per LLM call ({config['mode']} mode, {config['database']}, "
            f"fake server in a {'thread' if config['llm_server'] == 'thread' else 'subprocess'}, on the {config['on']})",
            "",
            head,
            "",
            per_case,
            "",
            f"LLM calls: {calls['counted']} made ({calls['engine']} by the engine, {calls['evaluator']} by the simulated "
            f"customer and the judge), {calls['server_saw']} seen by the server; HTTP round trip beyond the fixed "
            f"latency per call p50/p95: {_pair(calls['round_trip_beyond_latency_ms'])} ms (part of the overhead)",
            f"Concurrency reached: {report['concurrency_reached']} attempts at once (database: "
            f"{report['concurrency_reached_in_database']}); the pool was busy {report['busy_share']:.0%} of the time",
            "(times in ms; LLM wait = the fixed latency of the attempt's calls; overhead = attempt wall time - LLM wait)",
            *cpu_lines(report),
        ]
    )


def cpu_lines(report: dict[str, Any]) -> list[str]:
    cpu = report.get("cpu_seconds")
    if not cpu:
        return []
    wall, attempts = report["wall_seconds"] or 1.0, max(1, report["all"]["attempts"])
    parts = [
        f"{name} {seconds:.1f} s ({seconds / wall:.0%} of a core, {1000 * seconds / attempts:.0f} ms/attempt)"
        for name, seconds in cpu.items()
    ]
    load = report["machine"].get("load_average_1min") or {}
    busy = f"; load average {load['before']:.1f} before, {load['after']:.1f} after" if load else ""
    return [f"CPU during the run ({os.cpu_count()} cores{busy}): " + "; ".join(parts)]


# ---------------------------------------------------------------- main


def arguments_parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100, help="generated test cases (1-1000)")
    parser.add_argument("--repeats", type=int, default=3, help="attempts per case (1-10)")
    parser.add_argument("--concurrency", type=int, default=8, help=f"attempts at once (1-{MAX_CONCURRENCY})")
    parser.add_argument("--llm-latency-ms", type=float, default=300.0, help="fixed time per model call")
    parser.add_argument(
        "--mode",
        choices=["threads", "embedded"],
        default="threads",
        help="threads: the thread pool of manage.py run_evals running execute.result_execute; "
        "embedded: runs.run_dispatch and the in-process evaluation threads",
    )
    parser.add_argument("--llm-server", choices=["process", "thread"], default="process")
    parser.add_argument("--database-url", help="a PostgreSQL server (postgres://user@host:5432); default SQLite")
    parser.add_argument("--on", choices=["draft", "published"], default="draft", help="the version the run tests")
    parser.add_argument("--seed", type=int, default=10, help="seed of the generated cases")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds before the run is given up")
    parser.add_argument("--json", type=Path, help="write the figures (and every attempt) to this file")
    arguments = parser.parse_args(argv)
    if not 1 <= arguments.cases <= 1000:
        parser.error("--cases must be between 1 and 1000")
    if not 1 <= arguments.repeats <= 10:
        parser.error("--repeats must be between 1 and 10")
    if not 1 <= arguments.concurrency <= MAX_CONCURRENCY:
        parser.error(f"--concurrency must be between 1 and {MAX_CONCURRENCY}")
    if arguments.llm_latency_ms < 0:
        parser.error("--llm-latency-ms cannot be negative")
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = arguments_parse(argv)
    log_dir = Path(tempfile.mkdtemp(prefix="decorum-eval-bench-"))
    server = LLMServer(where=arguments.llm_server, latency_ms=arguments.llm_latency_ms, log_dir=log_dir)
    database: ThrowawayDatabase | None = None
    try:
        environment_prepare(arguments, server.start())
        database = database_prepare(postgres=arguments.database_url, prefix="decorum_eval_bench")
        django_setup()
        from behavior.evaluations.runs import run_create

        ledger = Ledger()
        instrument(ledger)
        agent, version = world_prepare(arguments)
        run = run_create(
            agent=agent,
            version=version,
            actor=None,
            repeats=arguments.repeats,
            concurrency=arguments.concurrency,
            start=False,
        )
        server.reset()
        print(
            f"running {arguments.cases} cases x {arguments.repeats} repeats, {arguments.concurrency} at a time ...",
            flush=True,
        )
        load_before = os.getloadavg()[0]
        cpu_before, began = server.stack.cpu_seconds(), time.perf_counter()
        process_cpu_before = time.process_time()
        if arguments.mode == "embedded":
            run_embedded(run, timeout=arguments.timeout)
        else:
            run_in_threads(run)
        wall = time.perf_counter() - began
        cpu = {"bench (Django, engine, this process)": time.process_time() - process_cpu_before}
        for name, seconds in server.stack.cpu_seconds().items():
            if name == "fake_openai" or (name == "postgres" and database.label == "postgres"):
                cpu[name] = seconds - cpu_before.get(name, 0.0)
        run.refresh_from_db()
        report = bench_report(
            arguments, run, ledger, wall_seconds=wall, server_calls=server.chat_calls(), database=database.label
        )
        report["cpu_seconds"] = {name: round(seconds, 2) for name, seconds in cpu.items()}
        report["machine"]["load_average_1min"] = {"before": load_before, "after": os.getloadavg()[0]}
    except Exception:
        for log in server.stack.logs:
            print(f"----- {log.name}\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
        raise
    finally:
        server.stop()
        if database is not None:
            database_drop(database)
    shutil.rmtree(log_dir, ignore_errors=True)
    print("\n" + report_text(report))
    if arguments.json:
        arguments.json.parent.mkdir(parents=True, exist_ok=True)
        arguments.json.write_text(json.dumps(report, indent=2))
        shown = arguments.json.relative_to(ROOT) if arguments.json.is_relative_to(ROOT) else arguments.json
        print(f"\nJSON: {shown}")
    return 1 if report["all"]["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
