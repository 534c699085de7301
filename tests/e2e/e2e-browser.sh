#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# End-to-end test of the web console in a real browser: the daemon (uds
# backend, --web-port), one UML guest with its shell on hvc0, Debian's
# chromium driven over the DevTools protocol by puppeteer-core
# (tests/web/e2e-browser.mjs), and nginx with TLS in front, configured from
# the man page's example. One guest boot for all of it:
#  - a wrong token: the page shows the refusal, no console byte arrives,
#    the daemon log names the peer;
#  - the right token: the guest's boot output, `echo $((6*7))` typed into
#    the page prints 42; a screenshot of the page;
#  - the window resized: `stty size` in the guest follows (the RESIZE
#    control message, in the spec's order);
#  - a page of another origin cannot open the WebSocket (403, logged);
#  - through nginx (https://console.example.org:PORT/, a self-signed
#    certificate made here, the name mapped to 127.0.0.1 in chromium): the
#    token, a command, the size; a foreign Origin gets nginx's 403 and never
#    reaches the daemon;
#  - an impostor: with a second daemon stopped (close 1001 on the page), a
#    fake listener on its port gets nothing the daemon would accept (no
#    token, no proof; what it recorded, replayed, gets no "ok"), and once
#    that daemon is back the page logs in again.
#
#   VDC_DAEMON=build/san/vhost-device-console bash tests/e2e/e2e-browser.sh
#
# Needs chromium, node with npm, nginx and openssl (tests/ensure-deps.sh);
# puppeteer-core (the version tests/web/package-lock.json pins) is installed
# on first use into $VDC_NPM_CACHE (default
# /var/cache/vhost-device-console/npm). VDC_E2E_SCREENSHOT=FILE copies the
# page's screenshot to FILE.
#
# Exit status 0 pass, 77 skip (no UML guest, no chromium, the npm registry
# unreachable), 1 fail.

set -u
# shellcheck source-path=SCRIPTDIR source=e2e-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e-lib.sh"

WEB_DIR=$(cd "$UML_E2E_DIR/../web" && pwd)

# A run takes about 30 s; the first one also installs puppeteer-core (npm
# ci, bounded to 120 s below).
: "${VDC_E2E_WATCHDOG:=240}"
export VDC_E2E_WATCHDOG
e2e_init browser

# --- what the browser needs -----------------------------------------------

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] ||
	e2e_skip "no chromium ($CHROMIUM): apt-get install chromium (tests/ensure-deps.sh does)"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	e2e_skip "no node or npm: tests/ensure-deps.sh installs Debian's nodejs and npm"
fi
for t in nginx openssl; do
	command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] ||
		e2e_fail "no $t: run tests/ensure-deps.sh (as root) to install it"
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# browser_modules: puppeteer-core as the lock file pins it, installed once
# into a cache directory named after the lock file's contents. BROWSER_MODULES
# is that directory.
browser_modules() {
	local base sum tmp
	sum=$(cat "$WEB_DIR/package.json" "$WEB_DIR/package-lock.json" | sha256sum)
	sum=${sum:0:16}
	base=${VDC_NPM_CACHE:-/var/cache/vhost-device-console/npm}
	if ! mkdir -p "$base" 2>/dev/null || [ ! -w "$base" ]; then
		base="${XDG_CACHE_HOME:-$HOME/.cache}/vhost-device-console/npm"
		mkdir -p "$base" || e2e_fail "cannot make the npm cache directory $base"
	fi
	BROWSER_MODULES="$base/$sum"
	if [ -f "$BROWSER_MODULES/node_modules/puppeteer-core/package.json" ]; then
		e2e_log "puppeteer-core from $BROWSER_MODULES"
		return 0
	fi
	e2e_log "installing puppeteer-core (package-lock.json) into $BROWSER_MODULES"
	tmp=$(mktemp -d "$base/.install.XXXXXX") || e2e_fail "mktemp in $base failed"
	cp "$WEB_DIR/package.json" "$WEB_DIR/package-lock.json" "$tmp/"
	# No install scripts: puppeteer-core downloads no browser anyway.
	if ! (cd "$tmp" && timeout 120 npm ci --no-audit --no-fund --ignore-scripts \
		--fetch-timeout=30000 --fetch-retries=1) >"$E2E_DIR/npm.log" 2>&1; then
		rm -rf "$tmp"
		if ! timeout 20 npm ping --fetch-timeout=15000 --fetch-retries=0 >>"$E2E_DIR/npm.log" 2>&1; then
			tail -n 5 "$E2E_DIR/npm.log"
			e2e_skip "the npm registry cannot be reached to install puppeteer-core (npm ping failed; log above)"
		fi
		e2e_fail "npm ci of puppeteer-core failed, though the registry answers" "$(tail -n 20 "$E2E_DIR/npm.log")"
	fi
	# Another run may have installed it meanwhile: keep theirs.
	mv -T "$tmp" "$BROWSER_MODULES" 2>/dev/null || rm -rf "$tmp"
	[ -f "$BROWSER_MODULES/node_modules/puppeteer-core/package.json" ] ||
		e2e_fail "puppeteer-core is not in $BROWSER_MODULES after npm ci"
}

# free_port: a loopback TCP port nobody listens on now, below the kernel's
# ephemeral range (32768-60999), so no outgoing connection takes it meanwhile.
free_port() {
	local p i
	for i in $(seq 50); do
		p=$((20000 + (RANDOM * 7 + $$ + i * 997) % 12000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# wait_port PORT PID SECS: something listens on PORT (or PID ended).
wait_port() {
	local n=$(($3 * 10))
	while [ "$n" -gt 0 ]; do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# nginx_conf WEB_PORT TLS_PORT DIR: the man page's nginx example, its port
# and file names substituted, inside a minimal nginx.conf of our own.
nginx_conf() {
	local web=$1 tls=$2 dir=$3 example from to
	# The example: the .nf block after "TLS reverse proxy" in WEB CONSOLE.
	example=$(sed -n '/^\.SH WEB CONSOLE/,/^\.SH /p' "$UML_E2E_DIR/../../docs/vhost-device-console.1" |
		sed -n '/TLS reverse proxy/,$p' | sed -n '/^\.nf/,/^\.fi/p' | sed '1d;$d' |
		sed 's/\\-/-/g; s/\\e/\\/g')
	[ -n "$example" ] || e2e_fail "no nginx example found in docs/vhost-device-console.1 (WEB CONSOLE)"
	printf '%s\n' "$example" >"$dir/example.conf"
	for from_to in \
		"listen 443 ssl;|listen 127.0.0.1:$tls ssl;" \
		"127.0.0.1:8000|127.0.0.1:$web" \
		"/etc/ssl/console.pem|$dir/console.pem" \
		"/etc/ssl/console.key|$dir/console.key" \
		"\"https://console.example.org\"|\"https://console.example.org:$tls\""; do
		from=${from_to%%|*} to=${from_to#*|}
		case $example in
		*"$from"*) example=${example//"$from"/"$to"} ;;
		*) e2e_fail "the man page's nginx example no longer has '$from' (the test substitutes it)" ;;
		esac
	done
	mkdir -p "$dir/tmp"
	cat <<EOF
# made by e2e-browser.sh: nginx in the foreground, one process, files in $dir
daemon off;
master_process off;
pid $dir/nginx.pid;
error_log $dir/error.log info;
events { worker_connections 64; }
http {
    access_log $dir/access.log;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
# --- the man page's example ---
$example
# ---
}
EOF
}

browser_modules

# --- the daemon and the guest ------------------------------------------------

WEB_PORT=$(free_port) || e2e_fail "no free loopback port for --web-port"
daemon_start uds --web-port="$WEB_PORT"
TOKEN_FILE="$DAEMON_SOCK.web-token"
[ -s "$TOKEN_FILE" ] || e2e_fail "the daemon made no token file $TOKEN_FILE (the default: --socket-path + .web-token)"
# The worker says so once it serves the port, after the main process's
# 'listening on'.
n=200
until grep -q "web console on http://127.0.0.1:$WEB_PORT/" "$DAEMON_LOG"; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || e2e_fail "the daemon log should say 'web console on http://127.0.0.1:$WEB_PORT/' within 10 s"
	sleep 0.05
done
guest_start g1 "${DAEMON_SOCK}0" 120
guest_wait_ready g1

# --- nginx with TLS in front --------------------------------------------------

NG="$E2E_DIR/nginx"
mkdir -p "$NG"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=console.example.org \
	-addext subjectAltName=DNS:console.example.org \
	-keyout "$NG/console.key" -out "$NG/console.pem" >"$NG/openssl.log" 2>&1 ||
	e2e_fail "openssl could not make a self-signed certificate" "$(cat "$NG/openssl.log")"
TLS_PORT=$(free_port) || e2e_fail "no free loopback port for nginx"
nginx_conf "$WEB_PORT" "$TLS_PORT" "$NG" >"$NG/nginx.conf"
"$NGINX" -t -p "$NG" -c "$NG/nginx.conf" -e "$NG/error.log" >"$NG/test.log" 2>&1 ||
	e2e_fail "nginx -t refuses the config made from the man page's example" \
		"$(cat "$NG/test.log")" "config: $(cat "$NG/nginx.conf")"
# A client of the harness: cleanup stops it, diagnostics show its output.
: >"$E2E_DIR/nginx.out"
_e2e_bg "$NGINX" -p "$NG" -c "$NG/nginx.conf" -e "$NG/error.log" \
	>"$E2E_DIR/nginx.out" 2>"$E2E_DIR/nginx.err" </dev/null
CLIENT_PID[nginx]=$!
wait_port "$TLS_PORT" "${CLIENT_PID[nginx]}" 10 ||
	e2e_fail "nginx did not listen on 127.0.0.1:$TLS_PORT" "$(cat "$E2E_DIR/nginx.err" "$NG/error.log")"
e2e_ok "nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') with TLS on 127.0.0.1:$TLS_PORT, config from the man page's example"

# --- the browser ----------------------------------------------------------------

# The impostor check's own daemon (e2e-browser.mjs starts and stops it).
IMPOSTOR_PORT=$(free_port) || e2e_fail "no free loopback port for the impostor check"

: >"$E2E_DIR/browser.out"
(
	_e2e_close_client_fds
	export BROWSER_MODULES CHROMIUM TOKEN_FILE DAEMON_LOG E2E_T0
	DAEMON_BIN="$E2E_DAEMON" WORK_DIR="$E2E_DIR" IMPOSTOR_PORT="$IMPOSTOR_PORT" \
	WEB_URL="http://127.0.0.1:$WEB_PORT/" OUT_DIR="$E2E_DIR/shots" GUEST=g1 \
		NGINX_URL="https://console.example.org:$TLS_PORT/" NGINX_ACCESS_LOG="$NG/access.log" \
		exec node "$WEB_DIR/e2e-browser.mjs"
) >"$E2E_DIR/browser.out" 2>"$E2E_DIR/browser.err" </dev/null &
CLIENT_PID[browser]=$!
# Show its lines as they come; `wait` lets the watchdog's signal in.
tail -n +1 -f "$E2E_DIR/browser.out" --pid="${CLIENT_PID[browser]}" &
tailpid=$!
rc=0
wait "${CLIENT_PID[browser]}" || rc=$?
wait "$tailpid" 2>/dev/null
CLIENT_PID[browser]=""
[ "$rc" = 0 ] || e2e_fail "the browser checks failed (status $rc; the FAIL line above)" \
	"chromium/node stderr: $(tail -n 20 "$E2E_DIR/browser.err")" \
	"nginx error log: $(tail -n 10 "$NG/error.log")"
if [ -n "${VDC_E2E_SCREENSHOT:-}" ]; then
	cp "$E2E_DIR/shots/web-console.png" "$VDC_E2E_SCREENSHOT" &&
		e2e_log "screenshot copied to $VDC_E2E_SCREENSHOT"
fi

# The browser typed `exit 0`: the guest powers off.
guest_wait_exit g1 20
kill "${CLIENT_PID[nginx]}" 2>/dev/null
wait "${CLIENT_PID[nginx]}" 2>/dev/null
CLIENT_PID[nginx]=""
daemon_stop
