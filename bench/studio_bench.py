"""Studio benchmark: server time and query count of the guideline pages at 50, 1,000 and 5,000 guidelines.

    .venv/bin/python bench/studio_bench.py                         # SQLite in a temporary directory
    .venv/bin/python bench/studio_bench.py --database postgres     # a throwaway PostgreSQL database
    .venv/bin/python bench/studio_bench.py --sizes 50,1000 --repeat 10

For each size it imports a generated behavior model (bench/generate.py: the airline core with its journeys,
tools, tags and relationships, then filler guidelines up to the size, plus a journey of 6 states) and, in
process with Django's test Client logged in as an editor, times each request and counts its queries
(CaptureQueriesContext): the guideline list (first page, 50 rows), a search, the journey page (skipped with
a note while `studio:journey-detail` does not resolve) and one guideline edit (POST, redirect not
followed). It prints p50/p95 wall milliseconds, the p50 of this process's CPU time (steadier than wall time
on a busy machine; with PostgreSQL it leaves out the server's own work) and the query count, and writes
bench/out/studio_bench_<database>.json.

The database is created for the run and dropped at the end: SQLite in a temporary directory, or
`decorum_studio_bench_<pid>` on the server given by --postgres (default $BENCH_POSTGRES or
postgres://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.inprocess import ThrowawayDatabase, database_drop
from bench.inprocess import database_prepare as throwaway_database

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bench" / "out"
SIZES = (50, 1000, 5000)
SEARCH = "refund"
LIST_TARGET_MS = 150.0


def database_prepare(arguments: argparse.Namespace) -> ThrowawayDatabase:
    """Point Django at a fresh database (before django.setup())."""
    os.environ.update({"EMBEDDER": "hashing", "LOG_LEVEL": "WARNING", "DEBUG": "false", "SECURE_COOKIES": "false"})
    os.environ.setdefault("SECRET_KEY", "studio-bench-secret-key")
    postgres = arguments.postgres if arguments.database == "postgres" else None
    return throwaway_database(postgres=postgres, prefix="decorum_studio_bench")


def django_setup() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    from django.conf import settings

    # Pages link static files by name; the hashed manifest only exists after collectstatic.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing root
    call_command("migrate", verbosity=0, interactive=False)


def bench_journey(agent_name: str) -> dict[str, Any]:
    """A six-state journey (greeting to confirmation) added to every generated model."""
    from bench.generate import state, transition

    keys = ["greet", "identify", "check-booking", "offer-options", "confirm", "done"]
    return {
        "key": "bench-rebooking",
        "title": f"Rebooking ({agent_name})",
        "description": "Six steps, for the journey page.",
        "conditions": ["The customer wants to change a flight"],
        "triggers": [],
        "tags": [],
        "states": [
            state(key, action=f"Do the {key.replace('-', ' ')} step", initial=index == 0)
            for index, key in enumerate(keys)
        ],
        "transitions": [transition(source, target) for source, target in itertools.pairwise(keys)],
    }


def world_seed(size: int) -> tuple[Any, Any]:
    """An editor and an agent holding `size` guidelines (imported, so tags, tools and relationships exist)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from behavior.services import agent_import_document
    from behavior.services.audit import SYSTEM
    from bench.generate import behavior_document

    user, _ = get_user_model().objects.get_or_create(username="bench-editor")
    user.groups.add(Group.objects.get_or_create(name="editor")[0])
    document = behavior_document(size, name=f"Studio bench {size}")
    document["journeys"].append(bench_journey(document["agent"]["name"]))
    return user, agent_import_document(document, actor=SYSTEM)


def timed(call: Any, *, repeat: int) -> dict[str, Any]:
    """p50/p95 milliseconds and the query count (of the last run) of `call`, after one warm-up."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call()
    samples, cpu, queries, status = [], [], 0, 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = call()
            samples.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        queries, status = len(captured), response.status_code
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(p95, 1),
        "cpu_p50_ms": round(statistics.median(cpu), 1),
        "queries": queries,
        "status": status,
    }


def edit_call(client: Any, agent: Any) -> Any:
    """A closure that saves the same guideline again with its current revision (a real save each time)."""
    from django.urls import reverse

    from behavior.forms.guidelines import GuidelineForm
    from behavior.models import Guideline

    guideline = Guideline.objects.filter(agent=agent).order_by("key").first()
    assert guideline is not None
    url = reverse("studio:guideline-update", args=[agent.pk, guideline.pk])
    counter = {"n": 0}

    def call() -> Any:
        fresh = Guideline.objects.prefetch_related("tags", "tools").get(pk=guideline.pk)
        initial = GuidelineForm(agent=agent, guideline=fresh).initial
        counter["n"] += 1
        data = {
            **{name: value for name, value in initial.items() if name not in ("tags", "tools", "labels", "metadata")},
            "title": f"Edited {counter['n']}",
            "action": fresh.action or "",
            "tags": ", ".join(initial["tags"]),
            "tools": [str(pk) for pk in initial["tools"]],
            "labels": "\n".join(fresh.labels),
            "metadata-key": list(fresh.metadata),
            "metadata-value": [json.dumps(value) for value in fresh.metadata.values()],
        }
        data = {key: value for key, value in data.items() if value is not False and value is not None}
        response = client.post(url, data)
        if response.status_code != 302:
            raise RuntimeError(f"the edit was refused ({response.status_code}): {response.content[:500]!r}")
        return response

    return call


def bench_size(size: int, *, repeat: int) -> list[dict[str, Any]]:
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    user, agent = world_seed(size)
    gc.collect()  # the seeding's garbage is not the pages' cost
    client = Client()
    client.force_login(user)
    list_url = reverse("studio:guideline-list", args=[agent.pk])
    rows: list[dict[str, Any]] = []

    def row(operation: str, call: Any) -> None:
        rows.append({"size": size, "operation": operation, **timed(call, repeat=repeat)})

    row("guideline list", lambda: client.get(list_url))
    row(f"search q={SEARCH}", lambda: client.get(list_url, {"q": SEARCH}))
    journey = agent.journeys.get(key="bench-rebooking")
    try:
        journey_url = reverse("studio:journey-detail", kwargs={"agent_id": agent.pk, "journey_id": journey.pk})
    except NoReverseMatch:
        rows.append(
            {"size": size, "operation": "journey page", "note": "skipped: studio:journey-detail does not resolve yet"}
        )
    else:
        row(f"journey page ({journey.states.count()} states)", lambda: client.get(journey_url))
    row("guideline edit (POST)", edit_call(client, agent))
    return rows


def table(label: str, rows: list[dict[str, Any]]) -> str:
    lines = [
        f"\nStudio bench on {label}",
        f"{'size':>6}  {'operation':<28} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8} {'queries':>8}",
    ]
    for item in rows:
        if "note" in item:
            lines.append(f"{item['size']:>6}  {item['operation']:<28} {item['note']}")
        else:
            lines.append(
                f"{item['size']:>6}  {item['operation']:<28} {item['p50_ms']:>8.1f} {item['p95_ms']:>8.1f} {item['cpu_p50_ms']:>8.1f} {item['queries']:>8}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument(
        "--sizes", default=",".join(str(size) for size in SIZES), help="comma-separated guideline counts"
    )
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per request (after one warm-up)")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument(
        "--check", action="store_true", help=f"exit 1 when the list's p95 exceeds {LIST_TARGET_MS:.0f} ms"
    )
    arguments = parser.parse_args(argv)
    sizes = [int(part) for part in arguments.sizes.split(",") if part.strip()]
    database = database_prepare(arguments)
    label = database.label
    rows: list[dict[str, Any]] = []
    try:
        django_setup()
        for size in sizes:
            rows.extend(bench_size(size, repeat=max(1, arguments.repeat)))
    finally:
        database_drop(database)
    print(table(label, rows))
    arguments.out.mkdir(parents=True, exist_ok=True)
    out = arguments.out / f"studio_bench_{label}.json"
    out.write_text(json.dumps({"database": label, "repeat": arguments.repeat, "rows": rows}, indent=2))
    print(f"\nwritten {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    slow = [item for item in rows if item["operation"] == "guideline list" and item.get("p95_ms", 0) > LIST_TARGET_MS]
    return 1 if arguments.check and slow else 0


if __name__ == "__main__":
    raise SystemExit(main())
