"""Shared pieces of the benches that run Django in their own process (bench/studio_bench.py,
bench/eval_bench.py): a throwaway database (SQLite in a temporary directory, or a PostgreSQL database created on
a server and dropped at the end) and nearest-rank percentiles."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit


@dataclass(frozen=True)
class ThrowawayDatabase:
    label: str  # "sqlite" or "postgres"
    target: str  # the temporary directory (SQLite) or the database's name (PostgreSQL)
    server: str = ""  # PostgreSQL: the server's URL without a database name


def server_url(url: str) -> str:
    """`postgres://user@host:5432/anything?x` -> `postgres://user@host:5432` (the database name is ours)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"postgres", "postgresql"} or not parts.hostname:
        raise ValueError(f"not a PostgreSQL URL: {url!r} (postgres://user@host:5432)")
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def database_prepare(*, postgres: str | None, prefix: str) -> ThrowawayDatabase:
    """Point Django at a fresh database; call before django.setup(). With `postgres` (a server URL) it creates
    `<prefix>_<pid>` there, otherwise a SQLite file in a new temporary directory (the embedded default)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if postgres:
        server = server_url(postgres)
        name = f"{prefix}_{os.getpid()}"
        subprocess.run(["psql", f"{server}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
        os.environ["DATABASE_URL"] = f"{server}/{name}"
        return ThrowawayDatabase("postgres", name, server)
    directory = tempfile.mkdtemp(prefix=f"{prefix.replace('_', '-')}-")
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ["DECORUM_DATA_DIR"] = directory
    return ThrowawayDatabase("sqlite", directory)


def database_drop(database: ThrowawayDatabase) -> None:
    """Close Django's connections (when Django was set up) and remove the database."""
    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # Django never started (the run failed before setup)
        pass
    if database.label == "postgres":
        subprocess.run(
            ["psql", f"{database.server}/postgres", "-qc", f"DROP DATABASE IF EXISTS {database.target} WITH (FORCE)"],
            check=False,
        )
    else:
        shutil.rmtree(database.target, ignore_errors=True)


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (`share` 0.5 = median), rounded to 0.1; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return round(ordered[index], 1)
