#!/usr/bin/env bash
# One-time set-up shared by `npm run demo` and `npm test`: a pinned pnpm, then the locked dependencies.
# Safe to re-run: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
PNPM_VERSION=10.20.0
export ONNXRUNTIME_NODE_INSTALL=skip TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm@$PNPM_VERSION" >&2
  npm install -g --silent "pnpm@$PNPM_VERSION" >&2 \
    || { echo "setup: global install failed; trying corepack" >&2; COREPACK_INTEGRITY_KEYS=0 corepack enable pnpm; }
fi

stamp=node_modules/.caption-install-stamp
want="$(cat package.json packages/*/package.json $(ls pnpm-lock.yaml 2>/dev/null) | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: pnpm install" >&2
  if [ -f pnpm-lock.yaml ]; then pnpm install --frozen-lockfile >&2; else pnpm install >&2; fi
  echo "$want" > "$stamp"
fi
