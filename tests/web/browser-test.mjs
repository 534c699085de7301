// SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
//
// browser-test.mjs - the web console page in a real browser (Debian's
// chromium, driven by puppeteer-core), against tests/web/serve.c and its
// fake echo console. Not part of make check; run.sh starts everything.
//
// It checks: a wrong token is refused (the page finds the server's proof
// does not match it) and the page asks again; the right
// one opens the terminal; typed keys reach the console and its output
// (with colours) reaches the screen; a paste arrives whole; a window
// resize is sent; the token never appears in the URL; a page of another
// origin cannot open the WebSocket; and nothing on the page breaks the
// Content-Security-Policy except the style elements xterm.js writes,
// whose text the page applies through a constructed stylesheet.
//
// usage: node browser-test.mjs PORT TOKEN_FILE OUT_DIR
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

const [port, tokenFile, outDir] = process.argv.slice(2);
const token = fs.readFileSync(tokenFile, 'utf8').trim();
const base = `http://127.0.0.1:${port}/`;
const results = [];
let failed = 0;

function check(name, ok, detail = '') {
	results.push(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ': ' + detail : ''}`);
	if (!ok)
		failed++;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function screenText(page) {
	return page.evaluate(() => {
		const rows = document.querySelector('.xterm-rows');
		return rows ? Array.from(rows.children, (r) => r.textContent).join('\n') : '';
	});
}

async function waitForText(page, want, ms = 5000) {
	const end = Date.now() + ms;
	let text = '';
	while (Date.now() < end) {
		text = await screenText(page);
		if (text.includes(want))
			return text;
		await sleep(50);
	}
	return text;
}

async function statusText(page) {
	return page.$eval('#status-text', (e) => e.textContent);
}

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vdc-chromium-'));
const browser = await puppeteer.launch({
	executablePath: '/usr/bin/chromium',
	headless: true,
	userDataDir,
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
		'--no-first-run', '--disable-background-networking',
		'--disable-component-update', '--disable-sync'],
});

try {
	const page = await browser.newPage();
	await page.setViewport({ width: 1000, height: 600 });
	const violations = [];
	const consoleErrors = [];
	page.on('console', (m) => {
		if (m.type() === 'error')
			consoleErrors.push(m.text());
	});
	await page.evaluateOnNewDocument(() => {
		document.addEventListener('securitypolicyviolation', (e) => {
			window.__violations = window.__violations || [];
			window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
		});
	});
	const resp = await page.goto(base, { waitUntil: 'load' });
	const headers = resp.headers();
	check('page served with CSP', (headers['content-security-policy'] || '').includes("script-src 'self'"));
	check('X-Frame-Options DENY', headers['x-frame-options'] === 'DENY');

	// A same-origin socket that proves nothing hears only the hello (the
	// server's nonce), and its typing reaches nobody (the fake console
	// would echo it).
	const silent = await page.evaluate(() => new Promise((resolve) => {
		const ws = new WebSocket(`ws://${location.host}/ws`);
		const got = [];
		ws.binaryType = 'arraybuffer';
		ws.onopen = () => {
			ws.send(new TextEncoder().encode('typed-before-token'));
		};
		ws.onmessage = (e) => { got.push(typeof e.data === 'string' ? e.data.split(' ')[0] : 'binary'); };
		ws.onclose = (e) => resolve({ got, code: e.code });
	}));
	check('nothing passes before the proof', silent.got.join() === 'hello' && silent.code === 1008,
		JSON.stringify(silent));

	// A wrong token: the server's proof does not match it, so the page
	// sends no proof and asks again at once.
	await page.type('#token', 'wrong-token-wrong-token-wrong-token');
	const t0 = Date.now();
	await page.keyboard.press('Enter');
	await page.waitForFunction(() =>
		document.getElementById('status-text').textContent.includes('refused'), { timeout: 10000 });
	const delay = Date.now() - t0;
	check('wrong token refused', true, `after ${delay} ms`);
	check('login form shown again', await page.$eval('#login', (e) => !e.hidden));

	// The right token.
	await page.type('#token', token);
	await page.keyboard.press('Enter');
	await page.waitForFunction(() =>
		document.getElementById('status-text').textContent === 'Connected', { timeout: 10000 });
	check('right token accepted', true);
	check('token not in the URL', !page.url().includes(token) && page.url() === base, page.url());
	let text = await waitForText(page, 'Welcome to the fake guest.');
	check('console output on screen', text.includes('Welcome to the fake guest.'));
	text = await waitForText(page, '[resize ');
	const m = text.match(/\[resize (\d+)x(\d+)\]/);
	check('initial size sent', m !== null, m ? `${m[1]}x${m[2]}` : text);

	// Keys.
	await page.keyboard.type('echo hello');
	await page.keyboard.press('Enter');
	text = await waitForText(page, 'echo hello');
	check('typed keys echoed', text.includes('echo hello'));
	check('input sent before the token went nowhere', !text.includes('typed-before-token'));

	// Colours: the prompt's "guest" is bold green in the fake console.
	const colour = await page.evaluate(() => {
		const spans = Array.from(document.querySelectorAll('.xterm-rows span'));
		const s = spans.find((x) => x.textContent === 'guest');
		return s ? getComputedStyle(s).color : null;
	});
	check('ANSI colours rendered', colour !== null && colour !== 'rgb(255, 255, 255)' &&
		/rgb\(\d+, (1\d\d|2\d\d), \d+\)/.test(colour), String(colour));

	// Paste.
	await page.evaluate(() => {
		const ta = document.querySelector('.xterm-helper-textarea');
		const dt = new DataTransfer();
		dt.setData('text/plain', 'pasted-text-123');
		ta.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
	});
	text = await waitForText(page, 'pasted-text-123');
	check('paste delivered', text.includes('pasted-text-123'));

	// Resize the window.
	await page.setViewport({ width: 700, height: 400 });
	await sleep(500);
	text = await screenText(page);
	const sizes = Array.from(text.matchAll(/\[resize (\d+)x(\d+)\]/g));
	const last = sizes.length ? sizes[sizes.length - 1] : null;
	check('resize sent on window resize', sizes.length >= 2 && m && last[1] !== m[1],
		last ? `${last[1]}x${last[2]}` : 'none');
	fs.mkdirSync(outDir, { recursive: true });
	await page.screenshot({ path: path.join(outDir, 'web-console.png') });

	const v = await page.evaluate(() => window.__violations || []);
	const notStyle = v.filter((x) => !x.startsWith('style-src-elem inline'));
	check('no CSP violation but xterm.js style elements', notStyle.length === 0,
		notStyle.join('; ') || `${v.length} style-src-elem reports`);

	// Another origin tries the WebSocket (cross-site WebSocket hijacking).
	const evil = http.createServer((req, res) => {
		res.setHeader('Content-Type', 'text/html');
		res.end('<!doctype html><title>evil</title><p>evil</p>');
	});
	await new Promise((r) => evil.listen(0, '127.0.0.1', r));
	const evilPage = await browser.newPage();
	await evilPage.goto(`http://127.0.0.1:${evil.address().port}/`);
	const evilResult = await evilPage.evaluate((p, tok) => new Promise((resolve) => {
		const ws = new WebSocket(`ws://127.0.0.1:${p}/ws`);
		let opened = false;
		let messages = 0;
		ws.onopen = () => { opened = true; ws.send(tok); };
		ws.onmessage = () => { messages++; };
		ws.onclose = (e) => resolve({ opened, messages, code: e.code });
		setTimeout(() => resolve({ opened, messages, code: 'timeout' }), 5000);
	}), port, token);
	check('cross-origin WebSocket refused', !evilResult.opened && evilResult.messages === 0,
		JSON.stringify(evilResult));
	evil.close();

	// Not under "localhost": that name may be [::1], where anybody may
	// listen (docs/web-console.md).
	const page2 = await browser.newPage();
	const r2 = await page2.goto(`http://localhost:${port}/`).catch(() => null);
	check('page refused as localhost', !r2 || r2.status() === 403, r2 ? String(r2.status()) : 'no answer');
	const otherErrors = consoleErrors.filter((e) => !e.includes('Content Security Policy'));
	check('no console errors but CSP reports', otherErrors.length === 0,
		otherErrors.join(' | ') || `${consoleErrors.length} CSP reports`);
} finally {
	await browser.close();
	fs.rmSync(userDataDir, { recursive: true, force: true });
}

console.log(results.join('\n'));
console.log(failed ? `${failed} FAILED` : 'all passed');
process.exit(failed ? 1 : 0);
