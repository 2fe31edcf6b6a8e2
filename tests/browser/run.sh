#!/bin/sh
# ctest's entry for the browser test: installs Debian's Chromium (through
# deploy/install-deps.sh --browser) and playwright-core (npm ci from this
# folder's lockfile, into the build tree), then runs dashboard.test.js.
# Exits 77 (ctest SKIP, loudly) only when Chromium cannot be installed, or
# npm cannot reach its registry (no playwright-core, and a build without
# the chart library: coordinator/dash/npm_ci.sh).
#   run.sh SOURCE_DIR BIN_DIR WORK_DIR
set -u
src=$1 bin=$2 work=$3
if ! command -v chromium >/dev/null 2>&1; then
    echo "browser test: chromium missing; running deploy/install-deps.sh --browser"
    sh "$src/deploy/install-deps.sh" --browser || true
fi
chromium_bin=$(command -v chromium || true)
if [ -z "$chromium_bin" ]; then
    echo "SKIPPED: the browser test needs Debian's chromium, and deploy/install-deps.sh --browser" >&2
    echo "SKIPPED: could not install it (no root, or no package mirror). Nothing was tested." >&2
    exit 77
fi
if [ -f "$bin/../web/charts-missing.txt" ]; then
    echo "SKIPPED: this build has no chart library, so there are no charts to test:" >&2
    echo "SKIPPED: $(cat "$bin/../web/charts-missing.txt")" >&2
    exit 77
fi
mkdir -p "$work"
if ! cmp -s "$src/tests/browser/package-lock.json" "$work/package-lock.json" ||
   [ ! -d "$work/node_modules/playwright-core" ]; then
    cp "$src/tests/browser/package.json" "$src/tests/browser/package-lock.json" "$work/" || exit 1
    (cd "$work" && npm ci --no-audit --no-fund --ignore-scripts) || {
        if ! npm ping >/dev/null 2>&1; then
            echo "SKIPPED: npm cannot reach its registry from here, so playwright-core cannot be" >&2
            echo "SKIPPED: installed (see npm's error above). Nothing was tested." >&2
            exit 77
        fi
        echo "browser test: npm ci of playwright-core failed (the registry answers)" >&2
        exit 1
    }
fi
HP_SOURCE_DIR=$src HP_BIN_DIR=$bin CHROMIUM=$chromium_bin HP_BROWSER_MODULES=$work/node_modules \
    exec node --test-reporter=spec "$src/tests/browser/dashboard.test.js"
