"""manage.py run_evals: run an agent's test suite (or a file's cases, or some tags) on its draft, its published
version or a past one, print each attempt's progress, a summary table with every failed assertion's cause and the
run's figures, write JUnit XML and a JSON report, and exit 1 below the pass-rate threshold: the CI gate.

The attempts run in this process's own threads (`--concurrency`), never through Celery, so the command behaves
the same on every configuration. Ctrl-C cancels the run and exits 130."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections
from django.utils import timezone

from agents.models import Agent
from behavior.evaluations.cases import suite_import
from behavior.evaluations.execute import result_execute
from behavior.evaluations.format import suite_parse
from behavior.evaluations.models import RESULT_FINISHED, EvalResult, EvalRun, ResultStatus, RunPurpose, RunStatus
from behavior.evaluations.runs import MAX_REPEATS, run_cancel, run_create, run_finish_if_done
from behavior.management.commands._documents import command_error
from behavior.management.commands._eval_reports import (
    figures_lines,
    json_report,
    junit_xml,
    progress_line,
    summary_lines,
)
from behavior.models import AuditSource, BehaviorVersion
from behavior.services.audit import Actor
from config.errors import DomainError

logger = logging.getLogger(__name__)

COMMAND_ACTOR = Actor(source=AuditSource.COMMAND)
SUITE_MAX_BYTES = 5 * 1024 * 1024
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
AGENTS_LISTED = 20


def _comma_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _fraction(value: str) -> float:
    try:
        number = float(value.rstrip("%")) / (100 if value.endswith("%") else 1)
    except ValueError:
        raise CommandError(f"--min-pass-rate must be a number between 0 and 1 (0.9 = 90%), not {value!r}") from None
    if not 0.0 <= number <= 1.0:
        raise CommandError(f"--min-pass-rate must be between 0 and 1 (0.9 = 90%), not {value!r}")
    return number


def agent_named(value: str) -> Agent:
    """The agent by exact name (or id); CommandError listing the agents there are."""
    agent = Agent.objects.filter(name=value).first()
    if agent is None and value.isdigit():
        agent = Agent.objects.filter(pk=int(value)).first()
    if agent is not None:
        return agent
    names = list(Agent.objects.order_by("name").values_list("name", flat=True)[: AGENTS_LISTED + 1])
    listed = ", ".join(f'"{name}"' for name in names[:AGENTS_LISTED]) + (", …" if len(names) > AGENTS_LISTED else "")
    raise CommandError(f"No agent named {value!r}. Agents: {listed or 'none (run manage.py seed_demo?)'}.")


def version_chosen(agent: Agent, value: str) -> BehaviorVersion | None:
    """None for the draft, the published version, or version N; CommandError listing the versions there are."""
    chosen = value.strip().lower().removeprefix("v")
    numbers = list(agent.versions.order_by("number").values_list("number", flat=True))
    available = "draft" + (", published" if agent.published_version_id else "") + "".join(f", {n}" for n in numbers)
    if chosen == "draft":
        return None
    if chosen == "published":
        if agent.published_version_id is None:
            raise CommandError(f'Agent "{agent.name}" has no published version. Choose one of: {available}.')
        return agent.published_version
    if chosen.isdigit():
        version = agent.versions.filter(number=int(chosen)).first()
        if version is not None:
            return version
    raise CommandError(f'Agent "{agent.name}" has no version {value!r}. Choose one of: {available}.')


def suite_file_load(path: str) -> Any:
    """The suite file's data (YAML, or JSON by its extension)."""
    file = Path(path)
    try:
        if file.stat().st_size > SUITE_MAX_BYTES:
            raise CommandError(f"{path} is larger than {SUITE_MAX_BYTES // (1024 * 1024)} MiB.")
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not UTF-8 text.") from None
    try:
        return json.loads(text) if file.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise CommandError(
            f"{path} is not valid {'JSON' if file.suffix.lower() == '.json' else 'YAML'}: {error}"
        ) from None


def _attempt_in_thread(result_id: int) -> str:
    """One attempt on a thread of the command's pool, with its own database connection."""
    close_old_connections()
    try:
        return result_execute(result_id)
    finally:
        close_old_connections()


class Command(BaseCommand):
    help = (
        "Run an agent's test cases on its draft, published or a past version; print the results and the causes of "
        "failures; exit 1 when the pass rate is below --min-pass-rate or an attempt errored (130 on Ctrl-C)."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # --version chooses the behavior version here; it replaces Django's own --version (its release number)
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--agent", required=True, help="the agent's name (or id)")
        parser.add_argument("--version", default="draft", help="draft (default), published, or a version number N")
        parser.add_argument(
            "--suite",
            help="a suite file (YAML or JSON, docs/evaluations.md): its cases are imported into the agent "
            "(created, or updated by key) and only they run",
        )
        parser.add_argument("--cases", type=_comma_list, default=[], help="comma-separated case keys to run")
        parser.add_argument("--tags", type=_comma_list, default=[], help="comma-separated tags: run the cases with one")
        parser.add_argument("--repeats", type=int, default=1, help=f"attempts per case, 1 to {MAX_REPEATS} (default 1)")
        parser.add_argument(
            "--concurrency",
            type=int,
            help="attempts at a time (default EVAL_DEFAULT_CONCURRENCY, at most EVAL_MAX_CONCURRENCY)",
        )
        parser.add_argument(
            "--min-pass-rate",
            type=_fraction,
            default=1.0,
            help="pass rate below which the command exits 1 (0.9 = 90%%)",
        )
        parser.add_argument("--junit", help="write JUnit XML to this file")
        parser.add_argument("--json", dest="json_path", help="write the run's summary and every attempt as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if int(options.get("verbosity", 1)) < 2:  # one line per model request drowns the progress lines
            for name in ("httpx", "httpx2"):
                logging.getLogger(name).setLevel(logging.WARNING)
        agent = agent_named(options["agent"])
        version = version_chosen(agent, options["version"])
        keys, tags = list(options["cases"]), list(options["tags"])
        if not 1 <= options["repeats"] <= MAX_REPEATS:  # before a suite file changes the agent's cases
            raise CommandError(f"--repeats must be between 1 and {MAX_REPEATS}.")
        if options["suite"]:
            keys = self._suite_keys(agent, options["suite"], keys=keys, tags=tags)
            tags = []
        try:
            run = run_create(
                agent=agent,
                version=version,
                actor=COMMAND_ACTOR,
                keys=keys,
                tags=tags,
                repeats=options["repeats"],
                concurrency=options["concurrency"],
                min_pass_rate=options["min_pass_rate"],
                purpose=RunPurpose.CLI,
                start=False,
            )
        except DomainError as error:
            raise command_error(error) from None
        self.stdout.write(
            f'Run {run.pk}: agent "{agent.name}", {run.version_label}, {run.progress_total} attempts '
            f"({run.progress_total // run.repeats} cases x {run.repeats}), {run.concurrency} at a time"
        )
        interrupted = self._execute(run)
        run.refresh_from_db()
        results = list(run.results.select_related("session").order_by("case_key", "repeat"))
        self.stdout.write("")
        for line in summary_lines(run, results):
            self.stdout.write(line)
        self.stdout.write("")
        for line in figures_lines(run):
            self.stdout.write(line)
        self._write_reports(run, results, junit=options["junit"], json_path=options["json_path"])
        summary = run.summary or {}
        if interrupted:
            raise CommandError(f"Run {run.pk} was cancelled (interrupted).", returncode=EXIT_INTERRUPTED)
        if run.status != RunStatus.PASSED or summary.get("errors"):
            raise CommandError(self._verdict(run), returncode=EXIT_FAILED)
        self.stdout.write(f"\nRun {run.pk} passed: {float(summary.get('pass_rate') or 0) * 100:.1f}% of attempts.")

    # ------------------------------------------------------------ the suite file

    def _suite_keys(self, agent: Agent, path: str, *, keys: Sequence[str], tags: Sequence[str]) -> list[str]:
        data = suite_file_load(path)
        try:
            suite = suite_parse(data)
            counts = suite_import(agent, data, actor=COMMAND_ACTOR)
        except DomainError as error:
            raise command_error(error) from None
        self.stdout.write(
            f'Imported {path} into "{agent.name}": {counts["created"]} created, {counts["updated"]} updated, '
            f"{len(suite.cases) - counts['created'] - counts['updated']} unchanged"
        )
        chosen = [
            case.key
            for case in suite.cases
            if (not keys or case.key in keys) and (not tags or set(tags) & set(case.tags))
        ]
        unknown = sorted(set(keys) - {case.key for case in suite.cases})
        if unknown:
            raise CommandError(f"{path} has no case with the key {unknown[0]!r}.")
        if not chosen:
            raise CommandError(f"{path} has no test case" + (" with those tags." if tags else "."))
        return chosen

    # ------------------------------------------------------------ execution

    def _execute(self, run: EvalRun) -> bool:
        """Every attempt, `run.concurrency` at a time on this command's threads; True when Ctrl-C stopped it.

        The attempts are marked queued before they start, so the dispatch each finished attempt calls finds nothing
        pending to hand to Celery or the web process's threads: this command runs them all."""
        ids = list(run.results.order_by("repeat", "case_key").values_list("id", flat=True))
        EvalRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, started_at=timezone.now())
        EvalResult.objects.filter(run=run, status=ResultStatus.PENDING).update(status=ResultStatus.QUEUED)
        inline = bool(getattr(settings, "TURNS_RUN_INLINE", False))
        pool = None if inline else ThreadPoolExecutor(run.concurrency, thread_name_prefix=f"run-evals-{run.pk}")
        interrupted = False
        try:
            for done, result_id in enumerate(self._finished_attempts(ids, pool), start=1):
                result = EvalResult.objects.get(pk=result_id)
                self.stdout.write(progress_line(result, done=done, total=len(ids)))
        except KeyboardInterrupt:
            interrupted = True
            self.stderr.write("\nInterrupted: cancelling the run (attempts under way stop before their next turn)…")
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
            try:
                run_cancel(run, actor=COMMAND_ACTOR)
            except DomainError:  # it finished meanwhile
                pass
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
        self._finish(run)
        return interrupted

    def _finished_attempts(self, ids: Sequence[int], pool: ThreadPoolExecutor | None) -> Iterator[int]:
        """The attempts' ids as they finish: on the pool's threads, or one after another on this thread when turns
        run inline (the tests: SQLite's in-memory test database locks out concurrent writers)."""
        if pool is None:
            for result_id in ids:
                try:
                    result_execute(result_id)
                except Exception as failure:
                    self._crashed(result_id, failure)
                yield result_id
            return
        futures = {pool.submit(_attempt_in_thread, result_id): result_id for result_id in ids}
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=lambda item: futures[item]):
                crash = future.exception()
                if crash is not None:
                    self._crashed(futures[future], crash)
                yield futures[future]

    def _crashed(self, result_id: int, failure: BaseException) -> None:
        """An attempt whose thread failed outside result_execute's own handling becomes an error."""
        logger.error("Evaluation attempt %s crashed", result_id, exc_info=failure)
        message = (str(failure).strip() or type(failure).__name__)[:2000]
        EvalResult.objects.filter(pk=result_id).exclude(status__in=RESULT_FINISHED).update(
            status=ResultStatus.ERROR, error=f"The attempt crashed: {message}", finished_at=timezone.now()
        )

    def _finish(self, run: EvalRun) -> None:
        """The run's figures, once every attempt has finished (attempts left unfinished become errors)."""
        EvalResult.objects.filter(run=run).exclude(status__in=RESULT_FINISHED).update(
            status=ResultStatus.ERROR, error="The attempt did not finish.", finished_at=timezone.now()
        )
        run_finish_if_done(run.pk)

    # ------------------------------------------------------------ reports

    def _write_reports(
        self, run: EvalRun, results: Sequence[EvalResult], *, junit: str | None, json_path: str | None
    ) -> None:
        if junit:
            self._write(junit, junit_xml(run, results), what="JUnit XML")
        if json_path:
            text = json.dumps(json_report(run, results), ensure_ascii=False, indent=2, default=str)
            self._write(json_path, text.encode("utf-8"), what="JSON report")

    def _write(self, path: str, content: bytes, *, what: str) -> None:
        try:
            target = Path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        except OSError as error:
            raise CommandError(f"Cannot write {path}: {error.strerror}") from None
        self.stdout.write(f"Wrote {what} to {path}")

    def _verdict(self, run: EvalRun) -> str:
        summary = run.summary or {}
        rate, threshold = float(summary.get("pass_rate") or 0), float(summary.get("min_pass_rate") or 0)
        reasons = []
        if run.status == RunStatus.ERROR:
            reasons.append(f"every attempt errored ({run.error or 'see above'})")
        elif not summary.get("meets_threshold"):
            reasons.append(f"pass rate {rate * 100:.1f}% is below the threshold {threshold * 100:.1f}%")
        if summary.get("errors") and run.status != RunStatus.ERROR:
            reasons.append(f"{summary['errors']} attempt(s) errored")
        if run.status == RunStatus.CANCELLED:
            reasons.append("the run was cancelled")
        return f"Run {run.pk} failed: " + "; ".join(reasons or [f"status {run.status}"]) + "."
