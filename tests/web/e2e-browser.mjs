// SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
//
// e2e-browser.mjs - the web console in a real browser (Debian's chromium,
// driven over the DevTools protocol by puppeteer-core) against the real
// daemon and a real guest (User Mode Linux) whose shell runs on hvc0.
// tests/e2e/e2e-browser.sh starts the daemon, the guest and nginx, and
// runs this; it prints "ok: browser: ..." per check, and "FAIL: browser:
// ..." and exits 1 at the first failure.
//
// Checks, in one browser:
//  1. wrong token: the page finds the daemon's proof does not match it and
//     says so, sends no proof; no console byte arrives (no binary message,
//     no text but the handshake's, nothing on the screen); the daemon logs
//     the peer that left after its proof;
//  2. the right token: the guest's boot output, kept by the daemon, is on
//     the screen; a command typed into the guest's shell runs and its
//     output comes back; a screenshot;
//  3. resizing the window resizes the guest's console: `stty size` in the
//     guest says what the terminal on the page is, before and after;
//  4. a page from another origin cannot open the WebSocket: no open, the
//     daemon answers 403 and logs the Origin;
//  5. (with NGINX_URL) the same console through nginx with TLS, configured
//     from the man page's example: the token, a command, its output; a
//     foreign Origin gets 403 from nginx and never reaches the daemon;
//  6. (with DAEMON_BIN) an impostor: a second daemon of our own is
//     stopped, a fake listener takes its port and replays a real daemon's
//     hello and server proof; the page refuses it and sends it nothing but
//     its fresh nonce (no token, no proof valid for any challenge), what it
//     recorded replayed to the daemon gets no "ok", and once the daemon is
//     back the same page logs in again.
//
// usage: node e2e-browser.mjs   (everything in the environment:)
//   BROWSER_MODULES  directory holding node_modules/puppeteer-core
//   WEB_URL          http://127.0.0.1:PORT/
//   TOKEN_FILE, DAEMON_LOG, OUT_DIR
//   NGINX_URL        https://console.example.org:PORT/ (optional)
//   NGINX_ACCESS_LOG nginx's access log (with NGINX_URL)
//   GUEST            the guest's name (its boot output names it)
//   DAEMON_BIN, WORK_DIR, IMPOSTOR_PORT  for 6 (optional)
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const env = process.env;
const require = createRequire(path.join(env.BROWSER_MODULES, 'package.json'));
const puppeteer = require('puppeteer-core');

const token = fs.readFileSync(env.TOKEN_FILE, 'utf8').trim();
const webUrl = env.WEB_URL;
const webPort = Number(new URL(webUrl).port);
const guest = env.GUEST || 'g1';
const outDir = env.OUT_DIR;
// The harness's clock, so that the times line up with its own lines.
const t0 = Number(env.E2E_T0) || Date.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

function ok(msg) {
	console.log(`ok: browser: ${msg} [${elapsed()}]`);
}

class CheckFailed extends Error {}

function fail(msg, ...details) {
	throw new CheckFailed([msg, ...details].join('\n    '));
}

// waitFor(fn, ms, what): poll fn until it returns a truthy value (returned)
// or ms pass (fail, with the last value described by what(last)).
async function waitFor(fn, ms, what) {
	const end = Date.now() + ms;
	let last;
	for (;;) {
		last = await fn();
		if (last)
			return last;
		if (Date.now() > end)
			fail(what(last));
		await sleep(100);
	}
}

function daemonLog() {
	return fs.readFileSync(env.DAEMON_LOG, 'utf8');
}

async function waitLog(re, ms, what) {
	return waitFor(() => daemonLog().match(re), ms,
		() => `${what}: no line matching ${re} in the daemon log within ${ms / 1000} s`);
}

// The terminal's text, from xterm.js's buffer (the whole scrollback).
async function termLines(page) {
	return page.evaluate(() => {
		const t = window.__vdcTerm;
		if (!t)
			return [];
		const b = t.buffer.active;
		const out = [];
		for (let i = 0; i < b.length; i++)
			out.push(b.getLine(i).translateToString(true));
		return out;
	});
}

async function termSize(page) {
	return page.evaluate(() => window.__vdcTerm ?
		{ cols: window.__vdcTerm.cols, rows: window.__vdcTerm.rows } : null);
}

// waitLine(page, re, ms, what): a line of the terminal matches re.
async function waitLine(page, re, ms, what) {
	let lines = [];
	const m = await waitFor(async () => {
		lines = await termLines(page);
		for (const l of lines) {
			const x = l.match(re);
			if (x)
				return x;
		}
		return null;
	}, ms, () => `${what}: no line matching ${re} on the terminal within ${ms / 1000} s; ` +
		`its last lines:\n      | ${lines.filter((l) => l).slice(-12).join('\n      | ')}`);
	return m;
}

async function statusText(page) {
	return page.$eval('#status-text', (e) => e.textContent);
}

// Record every WebSocket of a page through the DevTools protocol: its URL,
// handshake status, whether it opened, the data frames it received.
async function watchSockets(page) {
	const socks = new Map();
	const cdp = await page.createCDPSession();
	await cdp.send('Network.enable');
	const get = (id) => {
		if (!socks.has(id))
			socks.set(id, { url: '', status: null, frames: 0, bytes: 0, binary: 0, texts: [], closed: false });
		return socks.get(id);
	};
	cdp.on('Network.webSocketCreated', (e) => { get(e.requestId).url = e.url; });
	cdp.on('Network.webSocketHandshakeResponseReceived', (e) => {
		get(e.requestId).status = e.response.status;
	});
	cdp.on('Network.webSocketFrameReceived', (e) => {
		const s = get(e.requestId);
		// 1 text, 2 binary; a close frame carries no console byte.
		if (e.response.opcode === 1 || e.response.opcode === 2) {
			s.frames++;
			s.bytes += e.response.payloadData.length;
		}
		if (e.response.opcode === 2)
			s.binary++;
		else if (e.response.opcode === 1)
			s.texts.push(e.response.payloadData.split(' ')[0]);
	});
	cdp.on('Network.webSocketClosed', (e) => { get(e.requestId).closed = true; });
	return socks;
}

// Before any script of the page: keep a reference to the xterm.js Terminal
// the page makes (xterm.js assigns globalThis.Terminal; wrap the class).
function hookTerminal() {
	let T;
	Object.defineProperty(window, 'Terminal', {
		configurable: true,
		get() { return T; },
		set(v) {
			T = class extends v {
				constructor(...a) {
					super(...a);
					window.__vdcTerm = this;
				}
			};
		},
	});
}

async function openConsole(browser, url, label) {
	const page = await browser.newPage();
	await page.setViewport({ width: 1000, height: 600 });
	await page.evaluateOnNewDocument(hookTerminal);
	const socks = await watchSockets(page);
	const errors = [];
	page.on('pageerror', (e) => errors.push(String(e)));
	const resp = await page.goto(url, { waitUntil: 'load', timeout: 30000 });
	if (!resp || resp.status() !== 200)
		fail(`${label}: GET ${url} answered ${resp ? resp.status() : 'nothing'}, want 200`);
	await page.waitForSelector('#token', { timeout: 15000 });
	await waitFor(async () => (await statusText(page)) === 'Not connected', 15000,
		() => `${label}: the page's script did not start (status not 'Not connected')`);
	// The status line sits at the bottom of the window before login too.
	const bar = await page.evaluate(() => [document.getElementById('status')
		.getBoundingClientRect().bottom, window.innerHeight]);
	if (Math.abs(bar[0] - bar[1]) > 1)
		fail(`${label}: the status line ends at ${bar[0]} px, the window at ${bar[1]} px`);
	return { page, socks, errors };
}

async function login(page, tok) {
	await page.click('#token');
	await page.type('#token', tok);
	await page.keyboard.press('Enter');
}

// typeLine(page, text): type text and Enter into the terminal.
async function typeLine(page, text) {
	await page.focus('.xterm-helper-textarea');
	await page.keyboard.type(text);
	await page.keyboard.press('Enter');
}

let mark = 100;
// runCommand(page, label, cmd): type `echo "M-<n> $(cmd)"`; the echo of
// the typed line never matches (it shows $((n-1+1))); returns cmd's output.
async function runCommand(page, label, cmd, ms = 20000) {
	mark++;
	const re = new RegExp(`^M-${mark} (.*)$`);
	await typeLine(page, `echo "M-$((${mark - 1}+1)) $(${cmd})"`);
	const m = await waitLine(page, re, ms, `${label}: the output of '${cmd}'`);
	return m[1].trim();
}

// A page of another origin tries the console's WebSocket.
async function foreignOrigin(browser, wsUrl, label) {
	const evil = http.createServer((req, res) => {
		res.setHeader('Content-Type', 'text/html');
		res.end('<!doctype html><title>another site</title><p>another site</p>');
	});
	await new Promise((r) => evil.listen(0, '127.0.0.1', r));
	const origin = `http://127.0.0.1:${evil.address().port}`;
	const page = await browser.newPage();
	const socks = await watchSockets(page);
	// Chromium reports a refused handshake only on the page's console.
	const said = [];
	page.on('console', (m) => said.push(m.text()));
	try {
		await page.goto(origin + '/', { waitUntil: 'load' });
		const r = await page.evaluate((u, tok) => new Promise((resolve) => {
			const ws = new WebSocket(u);
			const got = { opened: false, messages: 0, error: false, code: null };
			ws.onopen = () => { got.opened = true; ws.send(tok); };
			ws.onmessage = () => { got.messages++; };
			ws.onerror = () => { got.error = true; };
			ws.onclose = (e) => { got.code = e.code; resolve(got); };
			setTimeout(() => resolve(got), 15000);
		}), wsUrl, token);
		const s = [...socks.values()].find((x) => x.url === wsUrl);
		if (r.opened || r.messages || r.code === null)
			fail(`${label}: a page of ${origin} should not open ${wsUrl}`, `got ${JSON.stringify(r)}`);
		const codes = said.map((t) => t.match(/Unexpected response code: (\d+)/)).filter((m) => m);
		const status = s && s.status !== null ? s.status : (codes.length ? Number(codes[0][1]) : null);
		if (status !== 403)
			fail(`${label}: the WebSocket handshake from ${origin} should be answered 403`,
				`got ${JSON.stringify(s || null)}; the page's console: ${said.join(' | ')}`);
		return { origin, result: r };
	} finally {
		await page.close();
		evil.close();
	}
}

// --- 6. An impostor on the port while the daemon is stopped -------------
//
// A second daemon of our own (no guest needed: the page logs in to a
// console without a frontend), so that it can be stopped and started
// again: DAEMON_BIN, in WORK_DIR, on IMPOSTOR_PORT, its own token file.

const crypto = await import('node:crypto');
const net = await import('node:net');
const { spawn } = await import('node:child_process');

const b64url = (b) => Buffer.from(b).toString('base64url');

// wsFrame(opcode, payload, masked): one WebSocket frame.
function wsFrame(opcode, payload, masked) {
	const p = Buffer.from(payload);
	const head = [0x80 | opcode];
	const m = masked ? 0x80 : 0;
	if (p.length < 126)
		head.push(m | p.length);
	else
		head.push(m | 126, p.length >> 8, p.length & 0xff);
	if (!masked)
		return Buffer.concat([Buffer.from(head), p]);
	const mask = crypto.randomBytes(4);
	const body = Buffer.from(p.map((b, i) => b ^ mask[i % 4]));
	return Buffer.concat([Buffer.from(head), mask, body]);
}

// wsParse(buf): complete frames at the front of buf, unmasked, and the rest.
function wsParse(buf) {
	const frames = [];
	let at = 0;
	for (;;) {
		if (buf.length - at < 2)
			break;
		let len = buf[at + 1] & 0x7f, h = 2;
		if (len === 126) {
			if (buf.length - at < 4)
				break;
			len = buf.readUInt16BE(at + 2);
			h = 4;
		} else if (len === 127) {
			break; // nothing here sends that much
		}
		const masked = buf[at + 1] & 0x80;
		const need = h + (masked ? 4 : 0) + len;
		if (buf.length - at < need)
			break;
		const mask = masked ? buf.subarray(at + h, at + h + 4) : null;
		const p = Buffer.from(buf.subarray(at + need - len, at + need));
		if (mask)
			for (let i = 0; i < p.length; i++)
				p[i] ^= mask[i % 4];
		frames.push({ opcode: buf[at] & 0x0f, payload: p });
		at += need;
	}
	return { frames, rest: buf.subarray(at) };
}

// A WebSocket client of our own over a raw socket (node 20 has none):
// connect(port) -> { next(ms): the next frame or null, send(text), close() }
function wsConnect(port) {
	return new Promise((resolve, reject) => {
		const sock = net.connect(port, '127.0.0.1');
		let buf = Buffer.alloc(0), upgraded = false;
		const queue = [], waiters = [];
		const push = (f) => (waiters.length ? waiters.shift()(f) : queue.push(f));
		sock.on('error', reject);
		sock.on('close', () => { while (waiters.length) waiters.shift()(null); });
		sock.on('data', (d) => {
			buf = Buffer.concat([buf, d]);
			if (!upgraded) {
				const end = buf.indexOf('\r\n\r\n');
				if (end < 0)
					return;
				const head = buf.subarray(0, end).toString();
				buf = buf.subarray(end + 4);
				if (!head.startsWith('HTTP/1.1 101')) {
					reject(new Error(`no 101: ${head.split('\r\n')[0]}`));
					return;
				}
				upgraded = true;
				resolve({
					next: (ms) => (queue.length ? Promise.resolve(queue.shift()) :
						new Promise((r) => {
							const t = setTimeout(() => r(null), ms);
							waiters.push((f) => { clearTimeout(t); r(f); });
						})),
					send: (text) => sock.write(wsFrame(1, text, true)),
					close: () => sock.destroy(),
				});
			}
			const { frames, rest } = wsParse(buf);
			buf = rest;
			frames.forEach(push);
		});
		sock.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: http://127.0.0.1:${port}\r\n` +
			'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
			`Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\n` +
			'Sec-WebSocket-Version: 13\r\n\r\n');
	});
}

const word = (f, w) => f && f.opcode === 1 && f.payload.toString().startsWith(w + ' ') ?
	Buffer.from(f.payload.toString().slice(w.length + 1), 'base64url') : null;
const hmac = (tok, label, sn, cn) => crypto.createHmac('sha256', tok)
	.update(label).update(sn).update(cn).digest();

// The fake: any local user could run this on the port while the daemon
// is stopped. It plays the daemon as far as it can without the token:
// the 101, a hello, and for the page's nonce a server proof it replays
// from a real daemon's earlier answer (the best an impostor can have).
// Everything the page sends is recorded.
function fakeDaemon(port, replay) {
	const rec = { raw: [], messages: [], sn: replay.sn, cn: [] };
	const srv = http.createServer((req, res) => {
		rec.raw.push(Buffer.from(`${req.method} ${req.url}\n${JSON.stringify(req.headers)}`));
		res.statusCode = 404;
		res.end();
	});
	srv.on('upgrade', (req, sock, head) => {
		rec.raw.push(Buffer.from(JSON.stringify(req.headers)), head);
		const accept = crypto.createHash('sha1')
			.update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
			.digest('base64');
		sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n' +
			`Connection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
		sock.write(wsFrame(1, 'hello ' + b64url(replay.sn), false));
		let buf = Buffer.alloc(0);
		sock.on('error', () => {});
		sock.on('data', (d) => {
			rec.raw.push(Buffer.from(d));
			buf = Buffer.concat([buf, d]);
			const { frames, rest } = wsParse(buf);
			buf = rest;
			for (const f of frames) {
				rec.messages.push(f);
				const cn = word(f, 'client');
				if (cn) {
					rec.cn.push(cn);
					sock.write(wsFrame(1, 'server ' + b64url(replay.serverProof), false));
				}
				if (f.opcode === 8)
					sock.end(wsFrame(8, f.payload.subarray(0, 2), false));
			}
		});
	});
	return new Promise((r) => srv.listen(port, '127.0.0.1', () => r({ srv, rec })));
}

let impostorDaemon = null; // stopped in the end, whatever happened

function startDaemon(args, logPath) {
	const log = fs.openSync(logPath, 'a');
	const p = spawn(env.DAEMON_BIN, args, { stdio: ['ignore', 'ignore', log] });
	fs.closeSync(log);
	impostorDaemon = p;
	p.once('exit', () => { if (impostorDaemon === p) impostorDaemon = null; });
	return p;
}

async function impostorCheck(browser) {
	const port = Number(env.IMPOSTOR_PORT);
	const dir = env.WORK_DIR;
	const tokFile = path.join(dir, 'impostor.web-token');
	const logPath = path.join(dir, 'impostor-daemon.log');
	const args = ['-s', path.join(dir, 'imp-vu'), '-b', 'uds', '--uds-path', path.join(dir, 'imp-con'),
		`--web-port=${port}`, `--web-token-file=${tokFile}`, '--log-level=debug'];
	const url = `http://127.0.0.1:${port}/`;
	const ilog = () => (fs.existsSync(logPath) ? fs.readFileSync(logPath, 'utf8') : '');
	const stop = (p) => new Promise((r) => { p.once('exit', r); p.kill('SIGTERM'); });

	let d = startDaemon(args, logPath);
	await waitFor(() => ilog().includes(`web console on ${url}`), 15000,
		() => `impostor: the second daemon did not serve ${url}; its log:\n${ilog()}`);
	const tok = fs.readFileSync(tokFile, 'utf8').trim();
	// What a real daemon once answered: the impostor's best material.
	const c = await wsConnect(port);
	const sn = word(await c.next(3000), 'hello');
	const cn = crypto.randomBytes(32);
	c.send('client ' + b64url(cn));
	const serverProof = word(await c.next(3000), 'server');
	c.close();
	if (!sn || !serverProof || !serverProof.equals(hmac(tok, 'vdc-web-1 server', sn, cn)))
		fail('impostor: a real daemon\'s hello and server proof, as web_conn.h says', `sn ${sn}, proof ${serverProof}`);

	const P = await openConsole(browser, url, 'impostor');
	await login(P.page, tok);
	await waitFor(async () => (await statusText(P.page)) === 'Connected', 20000,
		() => 'impostor: the page should log in to the second daemon');
	ok('a second daemon (no guest) on its own port: the page logged in');

	await stop(d);
	let said = '';
	await waitFor(async () => /Disconnected: the daemon is stopping/.test(said = await statusText(P.page)), 10000,
		() => `impostor: when the daemon stops the page should say so (close 1001); it says '${said}'`);
	ok(`daemon stopped: the page says '${await statusText(P.page)}' (close 1001 with the reason)`);

	const fake = await fakeDaemon(port, { sn, serverProof });
	await P.page.click('#reconnect');
	await waitFor(async () => /not the daemon\)\. Nothing was sent/.test(said = await statusText(P.page)), 15000,
		() => `impostor: the page should refuse the fake daemon; it says '${said}'`);
	await sleep(500); // anything the page might still send
	fake.srv.close();
	const rec = fake.rec;
	const all = Buffer.concat(rec.raw);
	const texts = rec.messages.filter((f) => f.opcode === 1).map((f) => f.payload.toString());
	const problems = [];
	for (const enc of [tok, Buffer.from(tok).toString('base64'), b64url(tok)])
		if (all.includes(enc) || rec.messages.some((f) => f.payload.includes(enc)))
			problems.push(`the token (${enc === tok ? 'as text' : 'base64'}) was sent`);
	if (texts.length !== 1 || !texts[0].startsWith('client '))
		problems.push(`the page sent ${JSON.stringify(texts)}; only its nonce ("client ...") may go to a server that did not prove itself`);
	if (texts.some((t) => t.startsWith('proof ')))
		problems.push('the page sent a proof to the impostor');
	// No 32 bytes of anything sent is a proof for any challenge the
	// impostor could have relayed: the real daemon's nonce it replayed
	// with any nonce the page chose.
	for (const t of texts) {
		const v = Buffer.from(t.slice(t.indexOf(' ') + 1), 'base64url');
		for (const pcn of rec.cn)
			if (v.equals(hmac(tok, 'vdc-web-1 client', sn, pcn)))
				problems.push('a valid page proof for the replayed nonce was sent');
	}
	if (rec.cn.length && rec.cn[0].equals(cn))
		problems.push('the page reused a nonce');
	if (problems.length)
		fail('impostor: the fake listener must receive nothing the real daemon would accept', ...problems);
	ok(`a fake daemon on 127.0.0.1:${port} (replaying a real daemon's hello and server proof) ` +
		`got only the page's fresh nonce (${texts.length} text message, ${all.length} bytes in all, no token, no proof); ` +
		`the page says '${await statusText(P.page)}'`);

	const mark = ilog().length;
	d = startDaemon(args, logPath);
	await waitFor(() => ilog().slice(mark).includes(`web console on ${url}`), 15000,
		() => 'impostor: the daemon did not come back');
	// What the fake recorded, replayed to the real daemon, gets nowhere.
	const r = await wsConnect(port);
	await r.next(3000); // its hello, a new nonce
	for (const t of texts)
		r.send(t);
	let f, answers = [];
	while ((f = await r.next(3000)) !== null) {
		answers.push(f.opcode === 1 ? f.payload.toString() : `opcode ${f.opcode}`);
		if (f.opcode === 1 && f.payload.toString() === 'ok')
			fail('impostor: what the fake recorded, replayed to the real daemon, logged in');
		if (f.opcode === 8)
			break;
	}
	r.close();
	ok(`what the fake recorded, replayed to the daemon, got no "ok" (${answers.map((x) => x.split(' ')[0]).join(', ') || 'nothing'})`);
	await P.page.click('#reconnect');
	await waitFor(async () => (said = await statusText(P.page)) === 'Connected', 20000,
		() => `impostor: with the daemon back the page should log in again; it says '${said}'`);
	ok('the daemon is back: Reconnect on the same page logged in again (the token kept as a key in the page)');
	if (P.errors.length)
		fail('errors on the page', ...P.errors);
	await P.page.close();
	await stop(d);
}

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vdc-chromium-'));
let browser = null;
let status = 0;
try {
	browser = await puppeteer.launch({
		executablePath: env.CHROMIUM || '/usr/bin/chromium',
		headless: true,
		userDataDir,
		timeout: 60000,
		protocolTimeout: 60000,
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
			'--no-first-run', '--disable-background-networking',
			'--disable-component-update', '--disable-sync',
			'--disable-dev-shm-usage',
			// nginx below: its self-signed certificate, and the name
			// the man page's example uses
			'--ignore-certificate-errors',
			'--host-resolver-rules=MAP console.example.org 127.0.0.1'],
	});
	ok(`chromium ${await browser.version()} started`);

	// 1. A wrong token gets no console byte.
	const A = await openConsole(browser, webUrl, 'direct');
	const wrong = 'x'.repeat(43);
	await login(A.page, wrong);
	await waitFor(async () => (await statusText(A.page)).includes('refused'), 20000,
		() => 'wrong token: the page should say the token was refused');
	const loginShown = await A.page.$eval('#login', (e) => !e.hidden);
	const termShown = await A.page.$eval('#terminal', (e) => !e.hidden);
	const [ws1] = [...A.socks.values()];
	const bodyText = await A.page.evaluate(() => document.body.innerText);
	// The handshake's own text messages only: the daemon's hello and its
	// proof, which the page found not to match the token.
	if (!loginShown || termShown || !ws1 || ws1.binary !== 0 ||
	    ws1.texts.join(',') !== 'hello,server' ||
	    (await termLines(A.page)).length || bodyText.includes('BOOT-OUTPUT'))
		fail('wrong token: no console byte may pass, and the page must ask again',
			`login form shown: ${loginShown}, terminal shown: ${termShown}`,
			`WebSocket: ${JSON.stringify(ws1 || null)} (texts: the first word of each text message received)`,
			`page text: ${bodyText.replace(/\s+/g, ' ').slice(0, 200)}`);
	const refused = await waitLog(/web (127\.0\.0\.1:\d+): the page left after our proof/, 10000,
		'wrong token');
	ok(`wrong token refused: the page says '${await statusText(A.page)}', ` +
		`only the handshake's hello and server proof received (upgrade ${ws1.status}), no console byte, ` +
		`no proof sent; daemon log names the peer ${refused[1]}`);

	// 2. The right token: the guest's shell.
	const logA = daemonLog().length;
	await login(A.page, token);
	await waitFor(async () => (await statusText(A.page)) === 'Connected', 20000,
		() => 'right token: the page should say Connected');
	const writerA = await waitFor(() =>
		daemonLog().slice(logA).match(/web client (\S+) connected as the console's writer/), 10000,
	() => 'right token: the daemon should log the browser as the console\'s writer');
	await waitLine(A.page, new RegExp(`BOOT-OUTPUT ${guest}: hvc0 is up`), 15000,
		'right token: the boot output the daemon kept');
	ok('right token accepted: the guest\'s boot output (written before the browser came) is on the screen');
	await typeLine(A.page, 'echo $((6*7))');
	await waitLine(A.page, /^42$/, 20000, 'echo $((6*7)) typed into the page');
	ok('typed `echo $((6*7))` + Enter into the page: the guest\'s shell printed 42 on the terminal');
	// Typed plainly, for the screenshot: the typed line is '~ # uname -sr'.
	await typeLine(A.page, 'uname -sr');
	const uname = await waitLine(A.page, /^Linux \S+$/, 20000, 'uname -sr typed into the page');
	ok(`typed \`uname -sr\`: the guest says ${uname[0]}`);
	fs.mkdirSync(outDir, { recursive: true });
	await A.page.screenshot({ path: path.join(outDir, 'web-console.png') });
	ok(`screenshot: ${path.join(outDir, 'web-console.png')}`);

	// 3. The window's size is the guest console's size.
	const s1 = await termSize(A.page);
	let st = await runCommand(A.page, 'resize', 'stty size');
	if (st !== `${s1.rows} ${s1.cols}`)
		fail('stty size in the guest should be the terminal\'s size (rows cols)',
			`the page's terminal is ${s1.cols}x${s1.rows}, want '${s1.rows} ${s1.cols}', stty size says '${st}'`);
	ok(`stty size in the guest: '${st}', the page's terminal is ${s1.cols} columns by ${s1.rows} rows`);
	await A.page.setViewport({ width: 640, height: 420 });
	const s2 = await waitFor(async () => {
		const s = await termSize(A.page);
		return s && (s.cols !== s1.cols || s.rows !== s1.rows) ? s : null;
	}, 10000, () => 'the terminal did not refit to the smaller window');
	// The RESIZE control message and the typed command travel on separate
	// virtqueues: ask again until the guest has taken the new size.
	for (let i = 0; i < 20; i++) {
		st = await runCommand(A.page, 'resize', 'stty size');
		if (st === `${s2.rows} ${s2.cols}`)
			break;
		await sleep(500);
	}
	if (st !== `${s2.rows} ${s2.cols}`)
		fail('after the window was resized, stty size in the guest should follow',
			`the terminal is now ${s2.cols}x${s2.rows}, want '${s2.rows} ${s2.cols}', stty size says '${st}'` +
			(st === `${s2.cols} ${s2.rows}` ? ' (columns and rows swapped)' : ''));
	ok(`window resized 1000x600 -> 640x420: the terminal is ${s2.cols}x${s2.rows} and stty size in the guest says '${st}'`);
	await A.page.screenshot({ path: path.join(outDir, 'web-console-small.png') });

	// 4. Another origin cannot open the WebSocket.
	const f = await foreignOrigin(browser, `ws://127.0.0.1:${webPort}/ws`, 'cross-origin');
	const esc = f.origin.replace(/[.]/g, '\\.');
	await waitLog(new RegExp(`WebSocket refused: Origin '${esc}'`), 10000, 'cross-origin');
	ok(`a page of ${f.origin} could not open the WebSocket (403, close code ${f.result.code}, ` +
		`no open, no message); the daemon logged the refused Origin`);
	if (A.errors.length)
		fail('errors on the page', ...A.errors);
	// The next page must find the console without a writer.
	await A.page.close();
	await waitLog(new RegExp(`web client ${writerA[1].replace(/[.]/g, '\\.')}: closed`), 10000,
		'closing the page');

	// 5. Through nginx with TLS.
	if (env.NGINX_URL) {
		const before = daemonLog().length;
		const N = await openConsole(browser, env.NGINX_URL, 'nginx');
		if (!N.page.url().startsWith('https://console.example.org:'))
			fail(`nginx: the page is at ${N.page.url()}`);
		await login(N.page, token);
		await waitFor(async () => (await statusText(N.page)) === 'Connected', 20000,
			() => 'nginx: the right token through nginx should connect');
		await waitFor(() => /connected as the console's writer/.test(daemonLog().slice(before)), 10000,
			() => 'nginx: the daemon should log the browser behind nginx as the console\'s writer');
		const [wsN] = [...N.socks.values()];
		if (!wsN || !wsN.url.startsWith('wss://console.example.org:') || wsN.status !== 101)
			fail('nginx: the page should use wss:// through nginx', JSON.stringify(wsN || null));
		await typeLine(N.page, 'echo TLS-$((6*7))');
		await waitLine(N.page, /^TLS-42$/, 20000, 'nginx: echo TLS-$((6*7))');
		const st2 = await runCommand(N.page, 'nginx', 'stty size');
		const sN = await termSize(N.page);
		if (st2 !== `${sN.rows} ${sN.cols}`) {
			let st3 = st2;
			for (let i = 0; i < 20 && st3 !== `${sN.rows} ${sN.cols}`; i++) {
				await sleep(500);
				st3 = await runCommand(N.page, 'nginx', 'stty size');
			}
			if (st3 !== `${sN.rows} ${sN.cols}`)
				fail('nginx: stty size should be the terminal\'s size', `want '${sN.rows} ${sN.cols}', got '${st3}'`);
		}
		ok(`through nginx (${env.NGINX_URL}, ${wsN.url}): token accepted, ` +
			'`echo TLS-$((6*7))` printed TLS-42, the window\'s size reached the guest');
		const g = await foreignOrigin(browser, env.NGINX_URL.replace(/^https/, 'wss') + 'ws', 'nginx cross-origin');
		const access = fs.readFileSync(env.NGINX_ACCESS_LOG, 'utf8');
		if (!/"GET \/ws HTTP\/1\.1" 403 /.test(access))
			fail('nginx: its access log should show the 403 for /ws', access.split('\n').slice(-5).join('\n'));
		if (daemonLog().slice(before).includes('WebSocket refused'))
			fail('nginx: the foreign Origin should have been stopped by nginx, but it reached the daemon');
		ok(`through nginx: a page of ${g.origin} could not open the WebSocket: nginx answered 403, the daemon saw nothing of it`);
		if (N.errors.length)
			fail('errors on the page through nginx', ...N.errors);
		// The guest powers off when its shell ends (the harness waits for
		// it). The page stays connected: a console's clients outlive the
		// guest, as with the network and uds backends.
		const seen = daemonLog().length;
		await typeLine(N.page, 'exit 0');
		await waitFor(() => daemonLog().slice(seen).includes('frontend disconnected'), 20000,
			() => 'nginx: after `exit 0` typed in the page the guest should power off (daemon: frontend disconnected)');
		ok(`typed \`exit 0\` through nginx: the guest powered off; the page says '${await statusText(N.page)}'`);
		await N.page.close();
	}

	// 6. An impostor while the daemon is stopped gets nothing.
	if (env.DAEMON_BIN)
		await impostorCheck(browser);
} catch (e) {
	status = 1;
	if (e instanceof CheckFailed)
		console.log(`FAIL: browser: ${e.message} [${elapsed()}]`);
	else
		console.log(`FAIL: browser: ${e.stack || e} [${elapsed()}]`);
} finally {
	if (impostorDaemon)
		impostorDaemon.kill('SIGTERM');
	if (browser)
		await browser.close().catch(() => {});
	fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(status);
