#!/usr/bin/env bash
# Purity check: keeps the Sans-IO core free of IO, clocks, randomness and runtimes, the shared
# async layer free of runtimes, the smol adapter free of tokio and the tokio adapter of smol.
#
#   scripts/check-purity.sh              check the workspace (exit 1 on any violation)
#   scripts/check-purity.sh --self-test  prove the checks fail on forbidden input
#
# mcp-proto's normal dependency tree (all targets) must consist of reviewed crates only: a new
# dependency fails here until it is added to PROTO_ALLOWED below, after checking it does no IO.
set -euo pipefail
cd "$(dirname "$0")/.."

# Runtimes and IO crates: named explicitly so their appearance gets a clear message.
FORBIDDEN_IN_PROTO='tokio|tokio-.*|smol|async-io|async-std|async-net|async-process|async-fs|mio|polling|futures-executor|futures-io|hyper|reqwest|socket2|libc|getrandom|rand|rand_core|nix|windows-sys'
# Pure crates reviewed for mcp-proto (no IO, no clock, no OS randomness).
PROTO_ALLOWED='mcp-proto|serde|serde_core|serde_derive|serde_json|proc-macro2|quote|syn|unicode-ident|thiserror|thiserror-impl|itoa|ryu|zmij|memchr|base64|http|bytes|fnv|httparse|mime'
FORBIDDEN_IN_SMOL='tokio|tokio-.*'
# The shared async layer serves both adapters: no runtime, reactor or executor of its own, and
# (its `tower` feature included) no HTTP implementation or web framework: only the service and
# body traits.
FORBIDDEN_IN_SHARED='tokio|tokio-.*|smol|async-io|async-executor|async-global-executor|async-std|async-net|async-process|async-fs|blocking|mio|polling|futures-executor|hyper|hyper-.*|axum|axum-.*|tower|tower-http'
# The tokio adapter must not drag in smol's reactor or executor.
FORBIDDEN_IN_TOKIO='smol|async-io|async-executor|async-global-executor|async-net|async-process|async-fs|blocking|polling'

# Source patterns mcp-proto/src must not contain (outside comments): clock reads, OS randomness,
# sockets, files, processes, environment, threads, and the standard streams.
FORBIDDEN_SOURCE='Instant::now|SystemTime::now|getrandom|thread_rng|OsRng|rand::|std::net|std::fs|std::process|std::env|std::thread|std::io::(stdin|stdout|stderr)|\bstdin\(|\bstdout\(|\bstderr\(|\b(e?print(ln)?|dbg)!|std::\{[^}]*\b(net|fs|process|env|thread)\b|tokio::|smol::|async_io::'

# check_tree NAME FORBIDDEN ALLOWED: reads `cargo tree --prefix none` lines on stdin.
check_tree() {
  local name=$1 forbidden=$2 allowed=$3 status=0 crates
  crates=$(awk '{print $1}' | sort -u)
  local bad
  bad=$(grep -xE "($forbidden)" <<<"$crates" || true)
  if [ -n "$bad" ]; then
    echo "purity: $name depends on forbidden crates: $(tr '\n' ' ' <<<"$bad")" >&2
    status=1
  fi
  if [ -n "$allowed" ]; then
    local unreviewed
    unreviewed=$(grep -vxE "($allowed)" <<<"$crates" || true)
    if [ -n "$unreviewed" ]; then
      echo "purity: $name depends on unreviewed crates (review them, then extend PROTO_ALLOWED): $(tr '\n' ' ' <<<"$unreviewed")" >&2
      status=1
    fi
  fi
  return $status
}

# check_sources DIR: greps Rust sources for forbidden calls, skipping comment lines.
check_sources() {
  local dir=$1 hits
  hits=$(grep -rnE --include='*.rs' "$FORBIDDEN_SOURCE" "$dir" | grep -vE '^[^:]+:[0-9]+:[[:space:]]*//' || true)
  if [ -n "$hits" ]; then
    echo "purity: $dir performs IO, reads a clock or draws randomness:" >&2
    echo "$hits" >&2
    return 1
  fi
}

# tree CRATE [CARGO-TREE-OPTIONS…]
tree() {
  cargo tree --quiet --locked -p "$1" "${@:2}" -e normal --target all --prefix none --format '{p}'
}

self_test() {
  local tmp failures=0
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  expect_failure() {
    if "$@" 2>/dev/null; then echo "self-test: '$*' passed but must fail" >&2; failures=$((failures + 1)); fi
  }
  expect_success() {
    if ! "$@" 2>/dev/null; then echo "self-test: '$*' failed but must pass" >&2; failures=$((failures + 1)); fi
  }
  local clean=$'mcp-proto v0.1.0 (/x)\nserde v1.0.0\nserde_json v1.0.0'
  expect_success check_tree mcp-proto "$FORBIDDEN_IN_PROTO" "$PROTO_ALLOWED" <<<"$clean"
  for crate in tokio smol async-io async-std mio polling futures-executor getrandom some-new-crate; do
    expect_failure check_tree mcp-proto "$FORBIDDEN_IN_PROTO" "$PROTO_ALLOWED" <<<"$clean"$'\n'"$crate v1.0.0"
  done
  expect_failure check_tree mcp-smol "$FORBIDDEN_IN_SMOL" "" <<<$'mcp-smol v0.1.0\ntokio v1.40.0'
  expect_success check_tree mcp-smol "$FORBIDDEN_IN_SMOL" "" <<<$'mcp-smol v0.1.0\nasync-io v2.0.0'
  for crate in tokio smol async-io async-executor mio hyper hyper-util axum tower; do
    expect_failure check_tree mcp-async "$FORBIDDEN_IN_SHARED" "" <<<$'mcp-async v0.1.0\n'"$crate v1.0.0"
  done
  expect_success check_tree mcp-async "$FORBIDDEN_IN_SHARED" "" <<<$'mcp-async v0.1.0\nasync-channel v2.0.0'
  expect_success check_tree mcp-async "$FORBIDDEN_IN_SHARED" "" <<<$'mcp-async v0.1.0\ntower-service v0.3.3\nhttp-body v1.0.1'
  expect_failure check_tree mcp-tokio "$FORBIDDEN_IN_TOKIO" "" <<<$'mcp-tokio v0.1.0\nasync-io v2.0.0'
  expect_success check_tree mcp-tokio "$FORBIDDEN_IN_TOKIO" "" <<<$'mcp-tokio v0.1.0\ntokio v1.0.0'
  mkdir -p "$tmp/ok" && printf '// Instant::now is mentioned in a comment only\nfn f(now: Instant) {}\n' >"$tmp/ok/a.rs"
  expect_success check_sources "$tmp/ok"
  local bad
  for bad in 'let t = Instant::now();' 'let t = std::time::SystemTime::now();' 'getrandom::fill(&mut b)' \
             'let r = rand::thread_rng();' 'std::net::TcpStream::connect(a)' 'std::fs::read(p)' \
             'std::process::Command::new(c)' 'std::io::stdout().write(b)' 'println!("x")' 'use std::{fs, io};'; do
    rm -rf "$tmp/bad" && mkdir -p "$tmp/bad" && printf 'fn f() { %s }\n' "$bad" >"$tmp/bad/a.rs"
    expect_failure check_sources "$tmp/bad"
  done
  if [ $failures -ne 0 ]; then echo "purity self-test: $failures failures" >&2; return 1; fi
  echo "purity self-test: every forbidden dependency and call was caught"
}

if [ "${1:-}" = "--self-test" ]; then
  self_test
  exit $?
fi

status=0
tree mcp-proto | check_tree mcp-proto "$FORBIDDEN_IN_PROTO" "$PROTO_ALLOWED" || status=1
tree mcp-smol | check_tree mcp-smol "$FORBIDDEN_IN_SMOL" "" || status=1
tree mcp-async | check_tree mcp-async "$FORBIDDEN_IN_SHARED" "" || status=1
tree mcp-async --all-features | check_tree "mcp-async (all features)" "$FORBIDDEN_IN_SHARED" "" || status=1
tree mcp-tokio | check_tree mcp-tokio "$FORBIDDEN_IN_TOKIO" "" || status=1
check_sources mcp-proto/src || status=1
if [ $status -eq 0 ]; then
  echo "purity: mcp-proto is free of IO, clocks, randomness and runtimes; mcp-async (every" \
    "feature) of runtimes and HTTP stacks; mcp-smol of tokio; mcp-tokio of smol"
fi
exit $status
