#!/usr/bin/env bash
# Probe comparison: `conformance probe --url` against our server on both runtimes and against
# the official SDKs' servers, as one table (check × server: PASS, FAIL, WARN, SKIP).
#
#   scripts/probe-peers.sh [--markdown FILE] [--out DIR] [--timeout SECS]
#
# Installs what is missing (scripts/install-interop.sh: the Python SDK 2.x and 1.x, the
# TypeScript SDK, Node 22), builds `conformance` and peers/rmcp-echo (rmcp, from crates.io) with
# cargo, starts each server on a free loopback port, probes it, and stops it. Prints the table;
# with --markdown also writes it as a markdown file. Each server's full probe output (what it
# answered to every failed check) goes to DIR (default: $CARGO_TARGET_DIR/probe-peers, or
# target/probe-peers). Every server it started is stopped on exit.
#
# Servers: ours = `conformance server --runtime smol|tokio` (the conformance fixture);
# interop/python_server.py on mcp 2.x (MCPServer) and 1.x (FastMCP), each served by the SDK's
# own `run("streamable-http")`; peers/ts-echo/server.mjs (McpServer and a stateful
# StreamableHTTPServerTransport per session in the SDK's createMcpExpressApp(), as the SDK's
# examples deploy it: interop/ts_server.mjs answers 400 where the SDK's examples answer 404, so
# it would blame the SDK for its own code); peers/rmcp-echo in rmcp's default mode and with
# --stateless.
#
# Exit status: 0 when the table was made, 1 when our server has a FAIL, 2 when a server could
# not be started or probed at all.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
markdown=""
out=""
timeout=5
while [ $# -gt 0 ]; do
  case $1 in
    --markdown) markdown=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "probe-peers: unknown argument $1" >&2; exit 2 ;;
  esac
done
out=${out:-$target/probe-peers}
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ -n "$markdown" ]; then
  mkdir -p "$(dirname "$markdown")"
  markdown="$(cd "$(dirname "$markdown")" && pwd)/$(basename "$markdown")"
fi

say() { printf 'probe-peers: %s\n' "$*" >&2; }

pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Install and build ------------------------------------------------------------------------
interop=${MCP_INTEROP_DIR:-$target/interop}
MCP_INTEROP_DIR=$interop "$repo/scripts/install-interop.sh" >&2
# shellcheck disable=SC1091
. "$interop/env"

say "building conformance and peers/rmcp-echo"
(cd "$repo" && cargo build --quiet -p conformance)
cargo build --quiet --locked --manifest-path "$repo/peers/rmcp-echo/Cargo.toml" --target-dir "$target"
conformance=$target/debug/conformance
rmcp_echo=$target/debug/rmcp-echo
rmcp_version=$(sed -n 's/^# rmcp version: \([^ ]*\).*/\1/p' "$repo/peers/rmcp-echo/Cargo.toml")

# --- Servers ----------------------------------------------------------------------------------
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT PID: until something listens on PORT (30 s), or the server died.
wait_port() {
  local i
  for i in $(seq 150); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

# with_pythonpath PATH COMMAND…: becomes COMMAND (exec: started with `&`, its pid is the
# server's own, so stopping it stops the server) with PYTHONPATH set only when PATH is not empty.
with_pythonpath() {
  local path=$1; shift
  if [ -n "$path" ]; then PYTHONPATH=$path exec "$@"; else exec "$@"; fi
}

# start NAME: starts server NAME on a fresh port; sets $url.
start() {
  local name=$1 port log=$out/$1.server.log
  port=$(free_port)
  case $name in
    ours-smol) "$conformance" server --runtime smol --listen "127.0.0.1:$port" >"$log" 2>&1 & ;;
    ours-tokio) "$conformance" server --runtime tokio --listen "127.0.0.1:$port" >"$log" 2>&1 & ;;
    python-2) with_pythonpath "$PYTHONPATH" "$PYTHON" "$repo/interop/python_server.py" --http "$port" >"$log" 2>&1 & ;;
    python-1) with_pythonpath "$PYTHONPATH_V1" "$PYTHON_V1" "$repo/interop/python_server.py" --http "$port" >"$log" 2>&1 & ;;
    typescript) NODE_PATH=$NODE_PATH "$NODE" "$repo/peers/ts-echo/server.mjs" --http "$port" >"$log" 2>&1 & ;;
    rmcp) "$rmcp_echo" --http "127.0.0.1:$port" >"$log" 2>&1 & ;;
    rmcp-stateless) "$rmcp_echo" --http "127.0.0.1:$port" --stateless >"$log" 2>&1 & ;;
  esac
  local pid=$!
  pids+=("$pid")
  server_pid=$pid
  url=http://127.0.0.1:$port/mcp
  wait_port "$port" "$pid"
}

stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

servers=(ours-smol ours-tokio python-2 python-1 typescript rmcp rmcp-stateless)
declare -A label=(
  [ours-smol]="ours (smol)"
  [ours-tokio]="ours (tokio)"
  [python-2]="Python SDK $PYTHON_MCP_VERSION"
  [python-1]="Python SDK $PYTHON_MCP_V1_VERSION"
  [typescript]="TypeScript SDK $TS_SDK_VERSION"
  [rmcp]="rmcp $rmcp_version"
  [rmcp-stateless]="rmcp $rmcp_version --stateless"
)
status=0
for name in "${servers[@]}"; do
  if ! start "$name"; then
    say "$name did not start (see $out/$name.server.log)"
    status=2
    continue
  fi
  say "probing $name at $url"
  set +e
  "$conformance" probe --url "$url" --timeout "$timeout" >"$out/$name.txt" 2>&1
  code=$?
  set -e
  stop "$server_pid"
  if [ "$code" = 2 ]; then
    say "$name could not be probed: $(tail -n 1 "$out/$name.txt")"
    status=2
  elif [ "$code" = 1 ] && [[ $name == ours-* ]]; then
    [ "$status" = 0 ] && status=1
  fi
  say "$name: $(tail -n 1 "$out/$name.txt")"
done

# --- The table --------------------------------------------------------------------------------
table_args=()
for name in "${servers[@]}"; do
  table_args+=("${label[$name]}=$out/$name.txt")
done
python3 - "$markdown" "$(date -u +%Y-%m-%d)" "$NODE_VERSION" "${table_args[@]}" <<'PY'
import re, sys

markdown, date, node = sys.argv[1], sys.argv[2], sys.argv[3]
columns = [arg.split("=", 1) for arg in sys.argv[4:]]
line = re.compile(r"^(PASS|FAIL|WARN|SKIP)  (\S+)\s+(.*?)(?: — (.*))?$")
order, rules, cells, totals = [], {}, {}, {}
for name, path in columns:
    verdicts = {}
    try:
        text = open(path, encoding="utf-8").read().splitlines()
    except OSError:
        text = []
    for row in text:
        m = line.match(row)
        if not m:
            continue
        verdict, check, rule = m.group(1), m.group(2), m.group(3).strip()
        verdicts[check] = verdict
        if check not in rules:
            order.append(check)
            rules[check] = rule
    cells[name] = verdicts
    totals[name] = text[-1] if text and re.match(r"^\d+ passed", text[-1]) else "not probed"

names = [name for name, _ in columns]
# Plain text on stdout.
width = max([len(c) for c in order] + [5])
short = lambda v: {"PASS": "pass", "FAIL": "FAIL", "WARN": "warn", "SKIP": "-"}.get(v, "?")
print(f"{'check':{width}}  " + "  ".join(f"{n[:14]:>14}" for n in names))
for check in order:
    print(f"{check:{width}}  " + "  ".join(f"{short(cells[n].get(check, '')):>14}" for n in names))
for n in names:
    print(f"{n}: {totals[n]}")

if markdown:
    with open(markdown, "w", encoding="utf-8") as f:
        f.write(f"Probed on {date} (Node {node}) with `scripts/probe-peers.sh`.\n\n")
        f.write("| check | rule | " + " | ".join(names) + " |\n")
        f.write("|---|---|" + "---|" * len(names) + "\n")
        esc = lambda s: s.replace("|", "\\|").replace("*", "\\*")
        cell = lambda v: f"**{v}**" if v == "FAIL" else v
        for check in order:
            row = [f"`{esc(check)}`", esc(rules[check])]
            row += [cell(cells[n].get(check, "")) for n in names]
            f.write("| " + " | ".join(row) + " |\n")
        f.write("| **total** | passed, failed, warnings, skipped | ")
        f.write(" | ".join(esc(", ".join(x.split()[0] for x in totals[n].split(", "))) if totals[n] != "not probed" else "not probed" for n in names))
        f.write(" |\n")
    print(f"wrote {markdown}", file=sys.stderr)
PY
exit "$status"
