#!/usr/bin/env bash
# Vendor the pages' front-end libraries into src/cervixwatch/web/static/vendor/: the app serves
# every asset itself (hospital networks block CDNs, and the content-security policy allows
# scripts from 'self' only).
#
# Each package is fetched from the npm registry with `npm pack` (which checks the tarball
# against the registry's integrity hash), and only its minified browser build and licence are
# copied. The README beside them is rewritten with each file's version and sha256.
#
#   scripts/vendor-assets.sh                        # the pinned versions below
#   HTMX_VERSION=2.0.12 scripts/vendor-assets.sh    # an upgrade: review the diff, run the tests
set -euo pipefail

HTMX_VERSION="${HTMX_VERSION:-2.0.11}"
CHARTJS_VERSION="${CHARTJS_VERSION:-4.6.1}"
HTMX_SSE_VERSION="${HTMX_SSE_VERSION:-2.2.4}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
vendor="$root/src/cervixwatch/web/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

command -v npm >/dev/null || { echo "vendor-assets: npm is needed (apt-get install npm)" >&2; exit 1; }

# pack NAME VERSION -> prints the tarball's integrity; unpacks into $work/NAME
pack() {
  local name="$1" version="$2" integrity
  integrity="$(cd "$work" && npm pack --silent --json "$name@$version" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["integrity"])')"
  mkdir -p "$work/$name"
  tar -xzf "$work/$name-$version.tgz" -C "$work/$name"
  echo "$integrity"
}

# copy NAME SRC DEST: one file of an unpacked package into the vendor directory
copy() {
  mkdir -p "$(dirname "$vendor/$3")"
  cp "$work/$1/package/$2" "$vendor/$3"
}

htmx_integrity="$(pack htmx.org "$HTMX_VERSION")"
chart_integrity="$(pack chart.js "$CHARTJS_VERSION")"
sse_integrity="$(pack htmx-ext-sse "$HTMX_SSE_VERSION")"

rm -rf "$vendor/htmx" "$vendor/chart.js" "$vendor/htmx-ext-sse"
copy htmx.org dist/htmx.min.js htmx/htmx.min.js
copy htmx.org LICENSE htmx/LICENSE
copy chart.js dist/chart.umd.min.js chart.js/chart.umd.min.js
copy chart.js LICENSE.md chart.js/LICENSE.md
copy htmx-ext-sse dist/sse.min.js htmx-ext-sse/sse.min.js
copy htmx-ext-sse LICENSE htmx-ext-sse/LICENSE

# The source maps point at files we do not ship: drop the comment so browsers do not ask.
sed -i '/^\/\/# sourceMappingURL=/d' "$vendor/chart.js/chart.umd.min.js" "$vendor/htmx/htmx.min.js" \
  "$vendor/htmx-ext-sse/sse.min.js"

sha() { sha256sum "$vendor/$1" | cut -d' ' -f1; }

cat > "$vendor/README.md" <<EOF
# Vendored front-end libraries

Served by the app from \`/static/vendor/\` (no CDN). Written by \`scripts/vendor-assets.sh\`,
which fetches each package from the npm registry with \`npm pack\` (checked against the
registry's integrity hash) and copies its minified browser build and licence; do not edit these
files by hand. To upgrade, change the version in the script (or set \`HTMX_VERSION\` /
\`CHARTJS_VERSION\`), run it, and run the page tests.

| package | version | file | sha256 | licence |
| --- | --- | --- | --- | --- |
| htmx.org | $HTMX_VERSION | \`htmx/htmx.min.js\` | \`$(sha htmx/htmx.min.js)\` | BSD Zero Clause (\`htmx/LICENSE\`) |
| chart.js | $CHARTJS_VERSION | \`chart.js/chart.umd.min.js\` | \`$(sha chart.js/chart.umd.min.js)\` | MIT (\`chart.js/LICENSE.md\`) |
| htmx-ext-sse | $HTMX_SSE_VERSION | \`htmx-ext-sse/sse.min.js\` | \`$(sha htmx-ext-sse/sse.min.js)\` | BSD Zero Clause (\`htmx-ext-sse/LICENSE\`) |

npm tarball integrity: htmx.org@$HTMX_VERSION \`$htmx_integrity\`;
chart.js@$CHARTJS_VERSION \`$chart_integrity\`;
htmx-ext-sse@$HTMX_SSE_VERSION \`$sse_integrity\`.
The \`//# sourceMappingURL\` comment is removed from the files (the maps are not shipped).

## Why these, and how they stay inside the content-security policy
- **htmx 2.x** (not 4.x): 2.x is the long-established line and still maintained; htmx 4 was
  released in September 2026 with changed attribute inheritance and request engine, and the
  pages need nothing from it. A page that loads it configures it in its \`<head>\` with

  \`\`\`html
  <meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"historyCacheSize":0,"refreshOnHistoryMiss":true,"historyRestoreAsHxRequest":false,"selfRequestsOnly":true}'>
  \`\`\`

  so that it injects no \`<style>\` (blocked by \`style-src 'self'\`; the \`.htmx-indicator\`
  rules are in the page's stylesheet instead), uses no \`eval\` (\`hx-on\`, event filters and
  \`js:\` values are off: \`script-src 'self'\` would block them), runs no \`<script>\` from
  swapped HTML, keeps no snapshot of patient data in the browser's storage (the back button
  reloads the page from the server), and sends requests to this app only.
  \`/static/js/htmx-csrf.js\` adds the \`X-CSRF-Token\` header to every htmx request.
- **Chart.js 4** (UMD build): draws into a \`<canvas>\` and only sets \`element.style\`
  properties from script (allowed by CSP); it injects no stylesheet and uses no \`eval\`.
  \`/static/js/cl-chart.js\` reads the chart's data from a \`data-chart\` attribute.
- **htmx-ext-sse 2.x** (htmx's server-sent events extension, for htmx 2): the worklist's live
  update (\`/worklist/events\`). It opens an \`EventSource\` to this app only and triggers
  htmx requests on its events; it injects no style and uses no \`eval\`.
EOF

echo "vendored htmx.org@$HTMX_VERSION, chart.js@$CHARTJS_VERSION and htmx-ext-sse@$HTMX_SSE_VERSION into $vendor"
