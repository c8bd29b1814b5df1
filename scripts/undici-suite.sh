#!/usr/bin/env bash
# undici's own tests with its Agent swapped for createDispatcher: is it a drop-in Agent?
#
#   bash scripts/undici-suite.sh /path/to/undici-checkout [fetch|interceptors|websocket ...]
#
# The checkout is undici's repository at the release this package depends on (e.g. `git worktree
# add ../undici v7.29.0` in a clone), with its dev dependencies installed (`npm install`, scripts
# included: one of them makes the test servers' certificate). Each suite runs twice with undici's
# own runner and flags: as it is, then with every `new Agent(opts)` in its files replaced by
# `createDispatcher(store, { agentOptions: opts })` (an empty store: no entry matches, so the
# adapter's TLS and routing are what is tested). The tests that fail only in the second run are
# the drop-in gaps. Nothing of undici is copied into this repository; the checkout's test files are
# restored afterwards.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
undici="${1:?usage: scripts/undici-suite.sh UNDICI_CHECKOUT [suite...]}"
shift
suites="${*:-fetch interceptors websocket}"
[ -f "$here/dist/index.cjs" ] || (cd "$here" && npm run build >/dev/null)
shim="$undici/test/mtls-resolver-agent.js"
cat > "$shim" <<JS
'use strict'
// createDispatcher where undici's tests make an Agent.
const { CertificateStore, createDispatcher } = require(${here@Q} + '/dist/index.cjs')
module.exports = function Agent (opts) {
  return createDispatcher(new CertificateStore(), { agentOptions: opts ?? {} })
}
JS
cd "$undici"
trap 'git checkout -- test >/dev/null 2>&1; rm -f "$shim"' EXIT
[ -f undici-fetch.js ] || npm run build:node >/dev/null 2>&1 || true
failing() { grep -E '^✖ ' "$1" | sed -n '/failing tests:/,$p' | grep -v 'failing tests:' | sed -E 's/ \([0-9.]+ms\)$//' | sort -u; }
status=0
for suite in $suites; do
  pattern="test/$suite/*.js"
  flags=(--timeout 180000)
  [ "$suite" = fetch ] && flags+=(--expose-gc --concurrency 1)
  [ "$suite" = websocket ] && pattern="test/websocket/**/*.js"
  npx borp "${flags[@]}" -p "$pattern" > "/tmp/undici-$suite.plain.log" 2>&1 || true
  files=$(grep -rl "new Agent(" "test/$suite" || true)
  for f in $files; do sed -i "s#new Agent(#new (require('$shim'))(#g" "$f"; done
  npx borp "${flags[@]}" -p "$pattern" > "/tmp/undici-$suite.mtls.log" 2>&1 || true
  git checkout -- test >/dev/null 2>&1
  summary() { grep -E '^ℹ (tests|pass|fail|cancelled)' "$1" | sed 's/ℹ //' | tr '\n' ' '; }
  echo "== undici test/$suite ($(echo "$files" | grep -c . || true) files make an Agent)"
  echo "   as it is:          $(summary "/tmp/undici-$suite.plain.log")"
  echo "   createDispatcher:  $(summary "/tmp/undici-$suite.mtls.log")"
  only=$(comm -13 <(failing "/tmp/undici-$suite.plain.log") <(failing "/tmp/undici-$suite.mtls.log"))
  if [ -n "$only" ]; then
    status=1
    echo "   failing only with createDispatcher (logs: /tmp/undici-$suite.*.log):"
    echo "$only" | sed 's/^/     /'
  else
    echo "   no test fails only with createDispatcher"
  fi
done
exit $status
