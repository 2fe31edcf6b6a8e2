#!/bin/sh
# npm_ci.sh NPM NPM_DIR WEB_SRC OUT_DIR STAMP: installs the dashboard's chart
# library (echarts, web/package-lock.json) with `npm ci` into NPM_DIR and
# copies echarts.min.js into OUT_DIR.
#
# Where the npm registry cannot be reached at all (an air-gapped build
# machine, or a proxy whose certificate npm does not trust), the build goes
# on without the charts: OUT_DIR/charts-missing.txt says why, every page
# shows that reason instead of its charts (the tables and the API work),
# and this script says so loudly. When the registry answers, a failed
# install fails the build.
set -u
npm=$1 dir=$2 web=$3 out=$4 stamp=$5
mkdir -p "$dir" "$out" || exit 1
cp "$web/package.json" "$web/package-lock.json" "$dir/" || exit 1
rm -f "$out/charts-missing.txt"
if log=$("$npm" ci --prefix "$dir" --no-audit --no-fund --ignore-scripts 2>&1); then
    cp "$dir/node_modules/echarts/dist/echarts.min.js" "$out/echarts.min.js" || exit 1
    touch "$stamp"
    exit 0
fi
if "$npm" ping >/dev/null 2>&1; then
    printf '%s\n' "$log" >&2
    echo "npm ci of the dashboard's chart library failed (the registry answers): see above" >&2
    exit 1
fi
why=$(printf '%s\n' "$log" | sed -n -e 's/^npm ERR! //p' -e 's/^npm error //p' | grep -v '^ *$' | grep -v 'complete log' | head -n 2 | tr '\n' ' ')
rm -f "$out/echarts.min.js"
printf 'the chart library (echarts, from npm) is not installed: npm ci could not reach the registry when this was built (%s); rebuild where npm can reach it\n' "$why" \
    > "$out/charts-missing.txt"
cat >&2 <<MSG
*** WARNING: the dashboard is built WITHOUT its charts ***
*** npm could not reach its registry: $why
*** Everything else builds and works; the dashboard's pages show this reason
*** instead of charts, and the browser test skips. Rebuild where npm can reach
*** https://registry.npmjs.org (or set npm's cafile for a proxy) to get them.
MSG
touch "$stamp"
exit 0
