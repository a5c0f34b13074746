#!/usr/bin/env bash
# End to end with real processes: a throwaway PostgreSQL database, Redis, the fake OpenAI server, a celery
# worker and daphne; then `pytest -m e2e tests/e2e` drives a chat over a real websocket. Everything started
# here is stopped and the database dropped on exit. Exit code: pytest's (or 1 when the setup fails).
# Arguments, if any, go to pytest instead of tests/e2e (e.g. `bash tests/e2e/run_e2e.sh tests/e2e/test_e2e_widget.py`).
#   E2E_POSTGRES (postgres://postgres@127.0.0.1:5432)  E2E_REDIS (redis://127.0.0.1:6379)  E2E_REDIS_DB (14)
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT="$(pwd)"
if [ -z "${VIRTUAL_ENV:-}" ] && [ -x "$ROOT/.venv/bin/python" ] && ! command -v daphne >/dev/null; then
  export PATH="$ROOT/.venv/bin:$PATH"
fi
PG_BASE="${E2E_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
REDIS_BASE="${E2E_REDIS:-redis://127.0.0.1:6379}"
REDIS_DB="${E2E_REDIS_DB:-14}"
DB="decorum_e2e_$$"
WORK="$(mktemp -d)"
PIDS=()

log() { echo "[e2e] $*"; }
free_port() { python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

cleanup() {
  local code=$?
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for _ in $(seq 1 50); do
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.2
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  psql "$PG_BASE/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
  redis-cli -u "$REDIS_BASE/$REDIS_DB" FLUSHDB >/dev/null 2>&1
  if [ "$code" != 0 ]; then
    for file in "$WORK"/*.log; do echo "----- $(basename "$file") (last 40 lines)"; tail -n 40 "$file"; done
  fi
  rm -rf "$WORK"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() {  # description seconds command...
  local what="$1" seconds="$2"; shift 2
  for _ in $(seq 1 $((seconds * 5))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  log "timed out waiting for $what"; return 1
}

psql "$PG_BASE/postgres" -qc "CREATE DATABASE $DB" || { log "cannot create database $DB"; exit 1; }
redis-cli -u "$REDIS_BASE/$REDIS_DB" FLUSHDB >/dev/null || { log "Redis is not reachable at $REDIS_BASE"; exit 1; }

WEB_PORT="$(free_port)"
LLM_PORT="$(free_port)"
export DATABASE_URL="$PG_BASE/$DB"
export REDIS_URL="$REDIS_BASE/$REDIS_DB"
export SECRET_KEY="e2e-secret-key" DEBUG=false SECURE_COOKIES=false TURNS_IN_PROCESS=false
export OPENAI_BASE_URL="http://127.0.0.1:$LLM_PORT/v1" OPENAI_API_KEY=fake DEFAULT_LLM_MODEL=fake-model
export EMBEDDER="${E2E_EMBEDDER:-hashing}" DECORUM_DATA_DIR="$WORK/data" PYTHONUNBUFFERED=1
export E2E_BASE_URL="http://127.0.0.1:$WEB_PORT"

log "database $DB, web :$WEB_PORT, fake OpenAI :$LLM_PORT, Redis db $REDIS_DB"
python manage.py migrate --noinput >"$WORK/migrate.log" 2>&1 || { log "migrate failed"; cat "$WORK/migrate.log"; exit 1; }
python manage.py collectstatic --noinput >"$WORK/collectstatic.log" 2>&1 || { log "collectstatic failed"; cat "$WORK/collectstatic.log"; exit 1; }
python manage.py seed_demo >"$WORK/seed.log" 2>&1 || { log "seed_demo failed"; cat "$WORK/seed.log"; exit 1; }
python manage.py ensure_demo_users --force >>"$WORK/seed.log" 2>&1 || { log "ensure_demo_users failed"; exit 1; }

python -m tests.support.fake_openai_server --port "$LLM_PORT" --latency-ms 100 --ms-per-10-completion-tokens 10 \
  >"$WORK/fake_openai.log" 2>&1 &
PIDS+=($!)
celery -A config worker --loglevel=INFO --concurrency=2 --hostname "e2e-$$@%h" --without-gossip --without-mingle \
  >"$WORK/celery.log" 2>&1 &
PIDS+=($!)
daphne -b 127.0.0.1 -p "$WEB_PORT" config.asgi:application >"$WORK/daphne.log" 2>&1 &
PIDS+=($!)

wait_for "the fake OpenAI server" 30 python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$LLM_PORT/v1/models', timeout=1)" || exit 1
wait_for "daphne" 60 python -c "import urllib.request; urllib.request.urlopen('$E2E_BASE_URL/accounts/login/', timeout=1)" || exit 1
wait_for "the celery worker" 60 grep -q "ready." "$WORK/celery.log" || exit 1

[ "$#" -gt 0 ] || set -- tests/e2e
log "running pytest -m e2e $*"
timeout 300 python -m pytest -m e2e -q -p no:cacheprovider "$@"
