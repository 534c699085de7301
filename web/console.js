// SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
//
// console.js - the web console: ask for the token, open the WebSocket,
// send the token as the first message, then connect it to xterm.js.
//
// Protocol (include/web_conn.h): client text messages are the token
// first, then commands ("resize COLS ROWS"); client binary messages are
// input; the server says "ok" in a text message, then sends output as
// binary messages. A wrong token is answered, after a delay, with close
// code 1008.
//
// The token is kept in this page's memory only, so that a dropped
// connection can be resumed without asking again; it is never put in a
// URL, in localStorage or in sessionStorage. sessionStorage would survive
// a reload, but also leave the secret on disk with the browser's session
// state, readable by anyone who later gets at the profile; typing or
// pasting it again after a reload is the smaller cost.
'use strict';

(function () {
	const login = document.getElementById('login');
	const tokenInput = document.getElementById('token');
	const termEl = document.getElementById('terminal');
	const statusEl = document.getElementById('status');
	const statusText = document.getElementById('status-text');
	const reconnectBtn = document.getElementById('reconnect');
	const encoder = new TextEncoder();
	const CLOSE_POLICY = 1008;

	let token = null;
	let ws = null;
	let accepted = false;
	let term = null;
	let fit = null;

	function setStatus(text, kind) {
		statusText.textContent = text;
		statusEl.className = kind || '';
	}

	// xterm.js writes its colours and cell sizes into <style> elements,
	// which this page's Content-Security-Policy (style-src 'self', no
	// 'unsafe-inline') does not apply. Their text is applied instead
	// through a constructed stylesheet: CSP governs style elements and
	// attributes in markup, not the CSSOM. Only xterm.js writes these
	// elements, from colour values it has parsed, never from raw
	// terminal output.
	function adoptStyles(root) {
		const sheet = new CSSStyleSheet();
		document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
		const update = () => {
			const css = Array.from(root.querySelectorAll('style'),
				(s) => s.textContent).join('\n');
			sheet.replaceSync(css);
		};
		new MutationObserver(update).observe(root, {
			subtree: true, childList: true, characterData: true,
		});
	}

	function send(data) {
		if (ws && accepted && ws.readyState === WebSocket.OPEN)
			ws.send(data);
	}

	let sentSize = '';

	// Once per size: fitting and the resize event may both ask.
	function sendSize() {
		if (!term)
			return;
		const size = term.cols + ' ' + term.rows;
		if (size !== sentSize && accepted) {
			sentSize = size;
			send('resize ' + size);
		}
	}

	function makeTerminal() {
		if (term)
			return;
		termEl.hidden = false;
		adoptStyles(termEl);
		term = new Terminal({
			cursorBlink: true,
			scrollback: 5000,
			fontFamily: 'monospace',
		});
		fit = new FitAddon.FitAddon();
		term.loadAddon(fit);
		term.open(termEl);
		// Keys and paste arrive as strings, sent as UTF-8 bytes.
		term.onData((d) => send(encoder.encode(d)));
		// Some mouse reports are raw bytes in a string.
		term.onBinary((d) => {
			const b = new Uint8Array(d.length);
			for (let i = 0; i < d.length; i++)
				b[i] = d.charCodeAt(i) & 0xff;
			send(b);
		});
		term.onResize(sendSize);
		window.addEventListener('resize', () => fit.fit());
		fit.fit();
	}

	function showLogin(message) {
		token = null;
		termEl.hidden = term === null;
		login.hidden = false;
		reconnectBtn.hidden = true;
		setStatus(message, 'error');
		tokenInput.focus();
	}

	function connect() {
		const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') +
			location.host + '/ws';

		accepted = false;
		sentSize = '';
		reconnectBtn.hidden = true;
		setStatus('Connecting…');
		ws = new WebSocket(url);
		ws.binaryType = 'arraybuffer';
		ws.onopen = () => {
			setStatus('Checking the token…');
			ws.send(token);
		};
		ws.onmessage = (ev) => {
			if (!accepted) {
				if (ev.data !== 'ok')
					return;
				accepted = true;
				login.hidden = true;
				makeTerminal();
				fit.fit();
				sendSize();
				term.focus();
				setStatus('Connected', 'ok');
				return;
			}
			if (typeof ev.data !== 'string')
				term.write(new Uint8Array(ev.data));
		};
		ws.onclose = (ev) => {
			const was = accepted;

			accepted = false;
			ws = null;
			if (ev.code === CLOSE_POLICY && !was) {
				showLogin('The token was refused.');
				return;
			}
			const why = ev.reason ? ': ' + ev.reason : ' (code ' + ev.code + ')';
			setStatus((was ? 'Disconnected' : 'Cannot connect') + why, 'error');
			reconnectBtn.hidden = token === null;
		};
	}

	login.addEventListener('submit', (e) => {
		e.preventDefault();
		token = tokenInput.value.trim();
		tokenInput.value = '';
		if (token)
			connect();
	});
	reconnectBtn.addEventListener('click', () => {
		if (token && !ws)
			connect();
	});
	setStatus('Not connected');
	tokenInput.focus();
})();
