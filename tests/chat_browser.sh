#!/usr/bin/env bash
# chat_browser.sh NODE SERVER BUILD_DIR
# Runs tests/chat_browser.js (lesson 06's page in headless chromium) against SERVER.
# playwright-core, pinned in tests/browser/package-lock.json, is installed with npm ci
# into BUILD_DIR/browser, not the source tree, and only when missing or when the lock
# file changed; the first run needs the npm registry. Screenshots land in
# BUILD_DIR/artifacts, which is also the test's working directory.
set -u
if (($# != 3)); then
    echo "usage: $0 NODE SERVER BUILD_DIR" >&2
    exit 2
fi
node=$1
server=$2
build=$3
here=$(cd "$(dirname "$0")" && pwd)
modules=$build/browser

[[ -x /usr/bin/chromium ]] || { echo "FAIL: no /usr/bin/chromium (scripts/setup installs it)"; exit 1; }

# A copy of the lock file beside node_modules tells whether they are still current.
if ! cmp -s "$here/browser/package-lock.json" "$modules/package-lock.json" ||
    [[ ! -d $modules/node_modules/playwright-core ]]; then
    mkdir -p "$modules"
    cp "$here/browser/package.json" "$here/browser/package-lock.json" "$modules/"
    timeout 80 npm ci --prefix "$modules" --no-audit --no-fund >"$modules/npm.log" 2>&1 ||
        { echo "FAIL: npm ci in $modules:"; cat "$modules/npm.log"; exit 1; }
fi

mkdir -p "$build/artifacts"
cd "$build/artifacts" || exit 1
rm -f chat_browser.png chat_browser.zh.png
NODE_PATH=$modules/node_modules exec timeout 120 "$node" "$here/chat_browser.js" "$server" "$build/artifacts"
