#!/usr/bin/env bash
# Packs the package as npm would publish it and checks the tarball with publint and
# @arethetypeswrong/cli (ESM, CJS and type resolution of every subpath export).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
npm run --silent build >/dev/null
tarball=$(npm pack --silent --ignore-scripts --pack-destination "$out" | tail -n 1)
npx --no-install publint "$out/$tarball" --strict
npx --no-install attw "$out/$tarball"
