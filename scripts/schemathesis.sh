#!/usr/bin/env bash
# Property-test the live JSON API against its own OpenAPI description (issue 7): installs
# schemathesis from PyPI into a venv under target/, serves a fresh demo database on a free port,
# creates a token for the 督查专员 `ducha`, and fails on any 5xx or any response that breaks the
# schema. Bounded: SCHEMATHESIS_EXAMPLES examples per operation (default 25).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=target/schemathesis-venv
if [ ! -x "$VENV/bin/schemathesis" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q schemathesis
fi
cargo build -q -p taizhang
BIN="${CARGO_TARGET_DIR:-target}/debug/taizhang"
WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat > "$WORK/taizhang.toml" <<TOML
bind = "127.0.0.1:$PORT"
database_url = "sqlite://$WORK/st.db"
data_dir = "$WORK/data"
audit_key_file = "$WORK/data/audit.key"
TOML
"$BIN" --config "$WORK/taizhang.toml" serve --demo --password 'Demo#Pass2026x' >"$WORK/serve.log" 2>&1 &
PID=$!
cleanup() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 "$PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
  sleep 0.5
done
TOKEN="$("$BIN" --config "$WORK/taizhang.toml" admin create-token --user ducha --expires-days 1 | tail -1)"
"$VENV/bin/schemathesis" run "http://127.0.0.1:$PORT/api/openapi.json" \
  -H "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-25}" \
  --exclude-path /api/v1/auth/login \
  --no-color
