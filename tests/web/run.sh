#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# The web console page in a real browser: build tests/web/serve.c (the
# web modules in front of a fake echo console), start it on a free
# loopback port with a fresh token file, and drive Debian's chromium with
# browser-test.mjs. Not part of make check. Needs /usr/bin/chromium
# (apt-get install chromium) and node with npm (puppeteer-core is
# installed here on first run; it downloads no browser).
#
# usage: tests/web/run.sh [PORT]     (from the top of the tree)
set -eu
cd "$(dirname "$0")/../.."

port=${1:-18080}
out=build/web-test
mkdir -p "$out"
[ -x /usr/bin/chromium ] || {
	echo "run.sh: /usr/bin/chromium missing: apt-get install chromium" >&2
	exit 1
}
[ -d tests/web/node_modules/puppeteer-core ] ||
	(cd tests/web && npm ci --no-audit --no-fund)

${CC:-cc} -std=gnu11 -D_GNU_SOURCE -Iinclude -O1 -g -Wall -Wextra -Werror \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	-o "$out/serve" tests/web/serve.c src/web_conn.c src/web_http.c src/web_token.c \
	src/sha1.c src/sha256.c src/web_guess.c src/base64.c src/web_assets.c src/web_assets_data.S src/log.c

rm -f "$out/token"
"$out/serve" "$port" "$out/token" 2>"$out/serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT INT TERM
i=0
while [ ! -s "$out/token" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.2

status=0
node tests/web/browser-test.mjs "$port" "$out/token" "$out" || status=1
echo "screenshot: $out/web-console.png; server log: $out/serve.log"
exit $status
