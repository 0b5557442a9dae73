#!/usr/bin/env bash
# Side-by-side load runs of MCP servers that expose `echo`, written to BENCHMARKS.md.
#
#   scripts/bench.sh                 the full matrix (about 8 minutes): 10 s measured per run
#   scripts/bench.sh --quick         the same matrix in about 2 minutes (2 s per run)
#   scripts/bench.sh --servers "ours-smol rmcp" --duration 5 --out /tmp/b.md
#
# Servers (rows): ours-smol and ours-tokio (the `server` examples of mcp-smol and mcp-tokio;
# ours-tokio-1w is the tokio one with TOKIO_WORKER_THREADS=1: one worker thread, as smol runs),
# rmcp (peers/rmcp-echo: `rmcp-echo --http ADDR` serving /mcp, `rmcp-echo --stdio`; skipped
# with a note when absent), ceiling (`mcp-load ceiling`: the machine and load-tool limit).
# Scenarios: Streamable HTTP with 1 session (server and load tool pinned to different cores
# when taskset exists) and 32 sessions, each in the legacy and the modern era, plus 8 modern
# sessions whose request ids clash (each counts 1, 2, 3…, as independent clients do); stdio with a
# window of 1 (pinned) and 64; 1,000 and 10,000 idle legacy sessions each holding its
# connection, and 1,000 held without connections (server RSS). Every run gets a freshly
# started server. Results go to a JSON-lines file, then `mcp-load report`
# renders the Markdown.
#
# Measure on a quiet machine: the 1-minute load average at the start of each run is in the
# report. The build uses CARGO_TARGET_DIR when set.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=10
WARMUP=2
SAME_IDS_DURATION=2
HOLD=2
SERVERS="ours-smol ours-tokio ours-tokio-1w rmcp ceiling"
OUT=BENCHMARKS.md
RESULTS=""
IDLE_COUNTS="1000 10000"
IDLE_DETACHED=1000
BASE_PORT=${BENCH_BASE_PORT:-18300}
ARGS_TEXT=""

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  echo "options: --quick | --duration S | --servers \"LIST\" | --idle \"COUNTS\" | --idle-detached N (\"\" for none)"
  echo "         --out FILE | --results FILE"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) DURATION=2; WARMUP=0.5; HOLD=1; SAME_IDS_DURATION=1; ARGS_TEXT="$ARGS_TEXT --quick" ;;
    --duration) DURATION=$2; ARGS_TEXT="$ARGS_TEXT --duration $2"; shift ;;
    --servers) SERVERS=$2; ARGS_TEXT="$ARGS_TEXT --servers \"$2\""; shift ;;
    --idle) IDLE_COUNTS=$2; ARGS_TEXT="$ARGS_TEXT --idle \"$2\""; shift ;;
    --idle-detached) IDLE_DETACHED=$2; ARGS_TEXT="$ARGS_TEXT --idle-detached \"$2\""; shift ;;
    --out) OUT=$2; shift ;;
    --results) RESULTS=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

TARGET_DIR=${CARGO_TARGET_DIR:-target}
WORK="$TARGET_DIR/bench"
mkdir -p "$WORK"
RESULTS=${RESULTS:-$WORK/results.jsonl}
: >"$RESULTS"
NOTES=()

# N idle sessions with their connections need N descriptors in the load tool and N in the
# server (each process has its own limit, inherited from here): raise the soft limit to the
# hard one, and say so when even that is too low for the largest idle run.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
FDS=$(ulimit -n)
MOST_IDLE=0
for count in $IDLE_COUNTS; do
  if [ "$count" -gt "$MOST_IDLE" ]; then MOST_IDLE=$count; fi
done
if [ "$FDS" != unlimited ] && [ "$FDS" -lt $((MOST_IDLE + 100)) ]; then
  note="the descriptor limit is $FDS (soft, raised to the hard limit $(ulimit -Hn)): idle runs above ~$((FDS - 100)) sessions fail for lack of descriptors, not because of the server"
  NOTES+=("$note")
  echo "bench: $note" >&2
fi

# executable_of CARGO-BUILD-ARGS…: builds and prints the path of the one executable built.
executable_of() {
  cargo build --release --message-format=json-render-diagnostics "$@" |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1
}

echo "bench: building (release)" >&2
cargo build --release -p mcp-load -p mcp-smol -p mcp-tokio --examples >&2 2>&1 | tail -n 3 >&2 || true
MCP_LOAD=$(executable_of -p mcp-load --bin mcp-load)
# Both adapters name their example `server`: ask cargo for each one's own path.
declare -A HTTP_CMD STDIO_CMD
SMOL_SERVER=$(executable_of -p mcp-smol --example server)
TOKIO_SERVER=$(executable_of -p mcp-tokio --example server)
cp "$SMOL_SERVER" "$WORK/ours-smol-server"
cp "$TOKIO_SERVER" "$WORK/ours-tokio-server"
HTTP_CMD[ours-smol]="$WORK/ours-smol-server --listen"
STDIO_CMD[ours-smol]="$WORK/ours-smol-server --stdio"
HTTP_CMD[ours-tokio]="$WORK/ours-tokio-server --listen"
STDIO_CMD[ours-tokio]="$WORK/ours-tokio-server --stdio"
# The same program on one tokio worker: one task owns the server's state, so on a small machine
# a second worker mostly adds cross-thread wake-ups.
HTTP_CMD[ours-tokio-1w]="env TOKIO_WORKER_THREADS=1 $WORK/ours-tokio-server --listen"
STDIO_CMD[ours-tokio-1w]="env TOKIO_WORKER_THREADS=1 $WORK/ours-tokio-server --stdio"
HTTP_CMD[ceiling]="$MCP_LOAD ceiling --listen"
STDIO_CMD[ceiling]="$MCP_LOAD ceiling --stdio"
# rmcp: peers/rmcp-echo. Served by `axum::serve`, which leaves Nagle's algorithm on, its
# responses written in several pieces (an SSE head, then chunks) wait for the client's delayed
# ACK, ~40 ms a call. The issue's rmcp figures have no such stall, so unless peers/rmcp-echo
# sets TCP_NODELAY itself, a copy that does is measured as `rmcp` (the rest of the program
# unchanged), and peers/rmcp-echo as it is only for the 1-session row `rmcp-as-is`.
RMCP_AS_IS=""
if [ -f peers/rmcp-echo/Cargo.toml ]; then
  RMCP=$(executable_of --manifest-path peers/rmcp-echo/Cargo.toml)
  if [ -n "$RMCP" ] && ! grep -q set_nodelay peers/rmcp-echo/src/*.rs; then
    copy="$WORK/rmcp-echo-nodelay"
    stage="$WORK/rmcp-echo-nodelay.new"
    rm -rf "$stage" && mkdir -p "$stage"
    cp -r peers/rmcp-echo/Cargo.toml peers/rmcp-echo/Cargo.lock peers/rmcp-echo/src "$stage/"
    sed -i 's/^name = "rmcp-echo"$/name = "rmcp-echo-nodelay"/' "$stage/Cargo.toml" "$stage/Cargo.lock"
    sed -i 's/^\( *\)axum::serve(listener, router)/\1let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {\n\1    let _ = tcp.set_nodelay(true);\n\1});\n&/' \
      "$stage/src/main.rs"
    # Replaced only when it changed, so that cargo does not rebuild it every time.
    if diff -rq "$stage" "$copy" >/dev/null 2>&1; then
      rm -rf "$stage"
    else
      rm -rf "$copy" && mv "$stage" "$copy"
    fi
    PATCHED=""
    if grep -q set_nodelay "$copy/src/main.rs"; then
      PATCHED=$(executable_of --manifest-path "$copy/Cargo.toml" || true)
    fi
    if [ -n "$PATCHED" ]; then
      RMCP_AS_IS=$RMCP
      RMCP=$PATCHED
      NOTES+=("rmcp: peers/rmcp-echo serves with axum::serve, which leaves Nagle's algorithm on: its SSE answers (head, then chunks) wait ~40 ms for the client's delayed ACK (row rmcp-as-is). The rows named rmcp are a copy with TCP_NODELAY set on accepted connections (scripts/bench.sh makes it; nothing else changed), as the issue's rmcp figures assume; the fix belongs in peers/rmcp-echo")
    else
      NOTES+=("rmcp: peers/rmcp-echo does not set TCP_NODELAY and the copy that would could not be built: its HTTP rows include ~40 ms delayed-ACK stalls")
    fi
  fi
  if [ -n "$RMCP" ]; then
    HTTP_CMD[rmcp]="$RMCP --http"
    STDIO_CMD[rmcp]="$RMCP --stdio"
  fi
fi
if [ -z "${HTTP_CMD[rmcp]:-}" ]; then
  NOTES+=("rmcp was not measured: peers/rmcp-echo is missing or did not build, so every ratio to rmcp is n/a")
fi

PIN_SERVER=()
PIN_LOAD=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  PIN_SERVER=(taskset -c 0)
  PIN_LOAD=(taskset -c 1)
  NOTES+=("1-session HTTP and stdio-w1 runs: server on CPU 0, load tool on CPU 1 (taskset)")
else
  NOTES+=("no taskset or a single CPU: nothing is pinned")
fi

PORT=$BASE_PORT
SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
trap stop_server EXIT

# start_server NAME PINNED(0|1) [SESSIONS]: a fresh HTTP server on the next port; sets URL and
# SERVER_PID. With SESSIONS, our servers are told to hold that many legacy sessions and
# connections (their defaults are 1,024 of each; the other servers have no such flags).
start_server() {
  local name=$1 pinned=$2 sessions=${3:-}
  PORT=$((PORT + 1))
  local addr="127.0.0.1:$PORT"
  local -a pin=() limits=()
  if [ "$pinned" = 1 ]; then pin=("${PIN_SERVER[@]}"); fi
  if [ -n "$sessions" ] && [[ $name == ours-* ]]; then
    # A few more than needed: the load tool's spare connections, the listener.
    limits=(--max-sessions $((sessions + 64)) --max-connections $((sessions + 64)))
  fi
  # shellcheck disable=SC2086 # the command is a program and its flag, split on purpose
  "${pin[@]}" ${HTTP_CMD[$name]} "$addr" "${limits[@]}" >>"$WORK/$name.log" 2>&1 &
  SERVER_PID=$!
  URL="http://$addr/mcp"
}

# load NAME ARGS…: runs mcp-load, keeping going when it reports errors (3) or unsupported (4).
load() {
  local status=0
  "$@" || status=$?
  if [ $status -ne 0 ] && [ $status -ne 3 ] && [ $status -ne 4 ]; then
    echo "bench: '$*' failed with status $status" >&2
  fi
}

COMMON=(--duration "$DURATION" --warmup "$WARMUP" --out "$RESULTS")
AVAILABLE=()
for name in $SERVERS; do
  if [ -n "${HTTP_CMD[$name]:-}" ]; then
    AVAILABLE+=("$name")
  else
    echo "bench: skipping $name (not available)" >&2
  fi
done

# Each scenario runs on every server in turn (side by side), so that a change in the machine's
# load during the matrix touches all servers of a scenario alike.
http_run() { # SESSIONS ERA PINNED(0|1) [EXTRA mcp-load ARGS…]
  local sessions=$1 era=$2 pinned=$3
  shift 3
  local -a pin=()
  if [ "$pinned" = 1 ]; then pin=("${PIN_LOAD[@]}"); fi
  for name in "${AVAILABLE[@]}"; do
    start_server "$name" "$pinned"
    load "${pin[@]}" "$MCP_LOAD" http --url "$URL" --sessions "$sessions" --era "$era" \
      --server-pid "$SERVER_PID" --label "$name" "${COMMON[@]}" "$@"
    stop_server
  done
}

stdio_run() { # WINDOW PINNED(0|1)
  local window=$1 pinned=$2
  local -a pin_load=() pin_server=()
  if [ "$pinned" = 1 ]; then pin_load=("${PIN_LOAD[@]}"); pin_server=("${PIN_SERVER[@]}"); fi
  for name in "${AVAILABLE[@]}"; do
    # shellcheck disable=SC2206 # split the command into words on purpose
    local -a stdio_cmd=(${STDIO_CMD[$name]})
    load "${pin_load[@]}" "$MCP_LOAD" stdio --window "$window" --label "$name" "${COMMON[@]}" \
      -- "${pin_server[@]}" "${stdio_cmd[@]}" 2>>"$WORK/$name.log"
  done
}

idle_run() { # COUNT [--detached]
  local count=$1
  shift
  for name in "${AVAILABLE[@]}"; do
    start_server "$name" 0 "$count"
    load "$MCP_LOAD" idle --url "$URL" --sessions "$count" --hold "$HOLD" "$@" \
      --server-pid "$SERVER_PID" --label "$name" --out "$RESULTS"
    stop_server
  done
}

echo "bench: load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for era in legacy modern; do
  http_run 1 "$era" 1
  http_run 32 "$era" 0
done
# Correctness under load: 8 modern clients that all number their requests 1, 2, 3…, as
# independent clients do; a stateless server must answer each on its own.
COMMON=(--duration "$SAME_IDS_DURATION" --warmup 0.2 --out "$RESULTS")
http_run 8 modern 0 --same-ids
COMMON=(--duration "$DURATION" --warmup "$WARMUP" --out "$RESULTS")
stdio_run 1 1
stdio_run 64 0
for count in $IDLE_COUNTS; do
  idle_run "$count"
done
if [ -n "$IDLE_DETACHED" ]; then
  idle_run "$IDLE_DETACHED" --detached
fi
if [ -n "$RMCP_AS_IS" ] && [[ " $SERVERS " == *" rmcp "* ]]; then
  HTTP_CMD[rmcp-as-is]="$RMCP_AS_IS --http"
  start_server rmcp-as-is 1
  load "${PIN_LOAD[@]}" "$MCP_LOAD" http --url "$URL" --sessions 1 --era legacy \
    --server-pid "$SERVER_PID" --label rmcp-as-is "${COMMON[@]}"
  stop_server
fi
echo "bench: load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

NOTE_ARGS=()
for note in "${NOTES[@]}"; do NOTE_ARGS+=(--note "$note"); done
NOTE_ARGS+=(--note "durations: $WARMUP s warm-up + $DURATION s measured per run; idle sessions held $HOLD s; results in $RESULTS")
GENERATED="$WORK/report.md"
"$MCP_LOAD" report "$RESULTS" --date "$(date -u '+%Y-%m-%d %H:%M UTC')" \
  --command "scripts/bench.sh$ARGS_TEXT" "${NOTE_ARGS[@]}" >"$GENERATED"
# The report replaces what lies between the markers, so the hand-written analysis around it
# (profiles, micro-benchmarks) stays; a file without them is replaced whole.
BEGIN_MARK="<!-- generated by scripts/bench.sh: begin -->"
END_MARK="<!-- generated by scripts/bench.sh: end -->"
if [ -f "$OUT" ] && grep -qF "$BEGIN_MARK" "$OUT" && grep -qF "$END_MARK" "$OUT"; then
  awk -v begin="$BEGIN_MARK" -v end="$END_MARK" -v report="$GENERATED" '
    $0 == begin { print; while ((getline line < report) > 0) print line; skipping = 1; next }
    $0 == end { skipping = 0 }
    !skipping { print }
  ' "$OUT" >"$OUT.new"
  mv "$OUT.new" "$OUT"
else
  cp "$GENERATED" "$OUT"
fi
echo "bench: wrote $OUT" >&2
