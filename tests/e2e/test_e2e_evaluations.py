"""End to end with real processes (started by tests/e2e/run_e2e.sh): an evaluation run of the demo agent's suite,
started the way the studio starts one, runs each case x repeat as a Celery task in the real worker (PostgreSQL,
Redis, the fake OpenAI server) up to the run's concurrency, and finishes with every attempt's conversation stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
FINISH_TIMEOUT_SECONDS = 180

START = """
from agents.models import Agent
from behavior.evaluations.runs import run_create
from django.db import transaction
agent = Agent.objects.get(name="Skyway Support")
keys = list(agent.eval_cases.order_by("key").values_list("key", flat=True))[:3]
with transaction.atomic():
    run = run_create(agent=agent, version=None, actor=None, keys=keys, repeats=2, concurrency=2)
print(run.pk)
"""

STATE = """
import json
from behavior.evaluations.models import EvalRun
run = EvalRun.objects.get(pk={run_id})
results = [
    {{"status": r.status, "session": r.session_id, "turns": len(r.turns), "claimed_by": r.claimed_by,
      "error": r.error, "started": r.started_at.timestamp() if r.started_at else None,
      "finished": r.finished_at.timestamp() if r.finished_at else None}}
    for r in run.results.all()
]
print(json.dumps({{"status": run.status, "done": run.progress_done, "total": run.progress_total,
                  "summary": run.summary, "results": results}}))
"""


def manage_shell(code: str) -> str:
    """Run Python in `manage.py shell` against the processes' database (run_e2e.sh exported DATABASE_URL)."""
    if not os.environ.get("DATABASE_URL"):
        pytest.fail("DATABASE_URL is not set: run tests/e2e/run_e2e.sh, which starts the processes")
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=REPO, env=os.environ.copy(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, f"manage.py shell failed: {done.stderr[-3000:]}"
    return done.stdout.strip().splitlines()[-1]


def test_a_run_executes_each_attempt_as_a_celery_task_in_the_worker() -> None:
    run_id = int(manage_shell(START))

    deadline = time.monotonic() + FINISH_TIMEOUT_SECONDS
    state = json.loads(manage_shell(STATE.format(run_id=run_id)))
    while state["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(1)
        state = json.loads(manage_shell(STATE.format(run_id=run_id)))

    assert state["status"] in ("passed", "failed"), state
    assert state["done"] == state["total"] == 6
    results = state["results"]
    assert all(result["status"] in ("passed", "failed") for result in results), results
    assert all(result["session"] and result["turns"] >= 1 for result in results), results
    assert all(result["claimed_by"] for result in results)  # TURNS_IN_PROCESS=false: the Celery worker ran them
    assert state["summary"]["attempts"] == 6 and state["summary"]["llm_calls"] > 0
    # never more than the run's concurrency (2) at once
    spans = sorted((r["started"], r["finished"]) for r in results)
    overlaps = max(sum(1 for s, f in spans if s <= start < f) for start, _ in spans)
    assert overlaps <= 2
