"""The processes of the realtime benchmark (bench/realtime_bench.py): a throwaway PostgreSQL database, a
flushed Redis db, the fake OpenAI server, celery workers and one daphne; only processes started here are
stopped. Also their CPU accounting (from /proc)."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Stack:
    """The processes this benchmark started (and only those are stopped)."""

    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)
    database: str | None = None
    postgres: str = ""
    redis_url: str = ""

    def start(self, name: str, command: list[str], env: dict[str, str], log_dir: Path) -> None:
        log = log_dir / f"{name}.log"
        self.logs.append(log)
        handle = log.open("wb")
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append(process)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) used so far by each started process (with its reaped children), and by
        the PostgreSQL and Redis servers (read from /proc, best effort: postgres backends are reaped children
        of the postmaster, so their time lands there when they exit)."""
        usage: dict[str, float] = {}
        for process, log in zip(self.processes, self.logs, strict=True):
            name = log.stem.split("-")[0]
            usage[name] = usage.get(name, 0.0) + _process_cpu_seconds(process.pid)
        for name, pid in _server_pids().items():
            usage[name] = _process_cpu_seconds(pid)
        return usage

    def stop(self) -> None:
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        if self.database:
            subprocess.run(
                ["psql", f"{self.postgres}/postgres", "-qc", f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)"],
                check=False,
                capture_output=True,
            )
        if self.redis_url:
            subprocess.run(["redis-cli", "-u", self.redis_url, "FLUSHDB"], check=False, capture_output=True)


def _process_cpu_seconds(pid: int, *, with_children: bool = True) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime, stime, cutime, cstime are fields 14-17 of /proc/<pid>/stat: 11-14 after the ")".
    values = fields[11:15] if with_children else fields[11:13]
    return sum(int(value) for value in values) / os.sysconf("SC_CLK_TCK")


def _server_pids() -> dict[str, int]:
    """The postmaster and redis-server of this machine, if they run here (for CPU accounting only)."""
    found: dict[str, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if "redis-server" in command and "redis" not in found:
            found["redis"] = int(entry.name)
        elif "postgres" in command and " -D " in f" {command} " and parent == 1:
            found["postgres"] = int(entry.name)
    return found


def wait_until(what: str, seconds: float, check: Any) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=1) as response:
        return response.status == 200


def stack_start(arguments: argparse.Namespace, stack: Stack, log_dir: Path) -> str:
    """Create the database, migrate, start the fake model, the workers and daphne; returns the base URL."""
    stack.postgres = arguments.postgres.rstrip("/")
    stack.database = f"decorum_bench_{os.getpid()}"
    stack.redis_url = f"{arguments.redis.rstrip('/')}/{arguments.redis_db}"
    subprocess.run(["psql", f"{stack.postgres}/postgres", "-qc", f"CREATE DATABASE {stack.database}"], check=True)
    subprocess.run(["redis-cli", "-u", stack.redis_url, "FLUSHDB"], check=True, capture_output=True)
    web_port, llm_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"{stack.postgres}/{stack.database}",
        "REDIS_URL": stack.redis_url,
        "SECRET_KEY": "bench-secret-key",
        "DEBUG": "false",
        "STATIC_MANIFEST": "false",  # pages link unhashed names: no collectstatic needed (static files are not benched)
        "SECURE_COOKIES": "false",
        "TURNS_IN_PROCESS": "false",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{llm_port}/v1",
        "OPENAI_API_KEY": "fake",
        "DEFAULT_LLM_MODEL": "fake-model",
        "EMBEDDER": "hashing",
        "DECORUM_DATA_DIR": str(log_dir / "data"),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        # Every simulated widget visitor comes from 127.0.0.1: the per-address limits (0 = off) would refuse them.
        "WIDGET_REQUESTS_PER_MINUTE_PER_IP": "0",
        "WIDGET_NEW_SESSIONS_PER_HOUR_PER_IP": "0",
        "WIDGET_CONNECTIONS_PER_IP": "0",
        "WIDGET_MESSAGES_PER_MINUTE_PER_SESSION": "0",
    }
    os.environ.update({key: env[key] for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "SECURE_COOKIES")})
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True)
    stack.start(
        "fake_openai",
        [
            python,
            "-m",
            "tests.support.fake_openai_server",
            "--port",
            str(llm_port),
            "--latency-ms",
            str(arguments.llm_latency_ms),
            "--ms-per-10-completion-tokens",
            str(arguments.ms_per_10_completion_tokens),
        ],
        env,
        log_dir,
    )
    bin_dir = Path(python).parent
    for number in range(arguments.workers):
        stack.start(
            f"celery-{number}",
            [
                str(bin_dir / "celery"),
                "-A",
                "config",
                "worker",
                "--loglevel=INFO",
                f"--pool={arguments.pool}",
                f"--concurrency={arguments.concurrency}",
                f"--hostname=bench{number}-{os.getpid()}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            env,
            log_dir,
        )
    stack.start(
        "daphne",
        [str(bin_dir / "daphne"), "-b", "127.0.0.1", "-p", str(web_port), "config.asgi:application"],
        env,
        log_dir,
    )
    base_url = f"http://127.0.0.1:{web_port}"
    wait_until("the fake OpenAI server", 30, lambda: http_ok(f"http://127.0.0.1:{llm_port}/v1/models"))
    wait_until("daphne", 60, lambda: http_ok(f"{base_url}/accounts/login/"))
    wait_until(
        "the celery workers",
        90,
        lambda: (
            sum("ready" in log.read_text(errors="replace") for log in stack.logs if log.name.startswith("celery"))
            >= arguments.workers
        ),
    )
    return base_url
