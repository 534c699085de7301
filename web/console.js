// SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
//
// console.js - the web console: ask for the token, open the WebSocket,
// prove to each other that both sides know the token without sending it,
// then connect the WebSocket to xterm.js.
//
// The handshake (include/web_conn.h; N is 32 bytes, base64url):
//   server: "hello <sn>"      its fresh nonce
//   page:   "client <cn>"     ours, fresh from crypto.getRandomValues
//   server: "server <HMAC-SHA-256(token, 'vdc-web-1 server' | sn | cn)>"
//   page:   checks that FIRST; a server without the token (anybody who
//           listens on the port while the daemon is stopped) gets nothing
//           more: no proof, no token, and the page says so (it cannot tell
//           that from a mistyped token, which fails the same way)
//   page:   "proof <HMAC-SHA-256(token, 'vdc-web-1 client' | sn | cn)>"
//   server: "ok", then output as binary messages; or close 1008
// What an impostor can record is the page's nonce, which is public and
// fresh; the page's proof covers the server's fresh nonce, so even a proof
// seen by a real daemon is worth nothing on the next connection.
// Or, with a one-time ticket a management tool minted (`ticket` command,
// page opened at #ticket=...): after "hello" the page sends
// "ticket <ticket>" and the server answers "ok" or "ok watch" (watch-only)
// or closes 1008 "proof refused"; the ticket is the secret, good once.
// After "ok": client text messages are commands ("resize COLS ROWS"),
// binary messages are input.
//
// The token is turned at once into a non-extractable WebCrypto key, kept
// in this page's memory only, so that a dropped connection can be resumed
// without asking again; the text itself is not kept, and is never put in
// a URL, in localStorage or in sessionStorage. sessionStorage would survive
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
	const CLOSE_IMPOSTOR = 4001; // ours: the server's proof was wrong
	const LABEL_SERVER = encoder.encode('vdc-web-1 server');
	const LABEL_CLIENT = encoder.encode('vdc-web-1 client');

	let key = null; // the token, as an HMAC key that cannot be read back
	// A one-time ticket a management tool put in the fragment
	// (#ticket=...): taken out of the address bar at once (history,
	// bookmarks, a shared screen) and spent by the first connection.
	let ticket = null;
	let watchOnly = false;
	let usedTicket = false; // the last connection tried a ticket
	const fragment = /^#ticket=([A-Za-z0-9_-]{43})$/.exec(location.hash);
	if (location.hash) {
		history.replaceState(null, '', location.pathname + location.search);
	}
	if (fragment) {
		ticket = fragment[1];
	}
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

	function b64url(bytes) {
		let s = '';
		for (const b of bytes)
			s += String.fromCharCode(b);
		return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
	}

	// "WORD <43 characters of base64url>" -> the 32 bytes, or null.
	function takeWord(msg, word) {
		if (typeof msg !== 'string' || !msg.startsWith(word + ' '))
			return null;
		const t = msg.slice(word.length + 1);
		if (!/^[A-Za-z0-9_-]{43}$/.test(t))
			return null;
		const s = atob(t.replace(/-/g, '+').replace(/_/g, '/') + '=');
		return Uint8Array.from(s, (c) => c.charCodeAt(0));
	}

	function joined(label, sn, cn) {
		const m = new Uint8Array(label.length + sn.length + cn.length);
		m.set(label, 0);
		m.set(sn, label.length);
		m.set(cn, label.length + sn.length);
		return m;
	}

	function showLogin(message) {
		key = null;
		termEl.hidden = term === null;
		login.hidden = false;
		reconnectBtn.hidden = true;
		setStatus(message, 'error');
		tokenInput.focus();
	}

	function connect() {
		const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') +
			location.host + location.pathname.replace(/[^/]*$/, '') + 'ws';
		// Relative to the page: behind a proxy's /1/, the WebSocket is /1/ws.

		accepted = false;
		sentSize = '';
		reconnectBtn.hidden = true;
		setStatus('Connecting…');
		const sock = new WebSocket(url);
		let step = 'hello';
		let sn = null;
		let cn = null;
		let impostor = false;
		const byTicket = ticket !== null;
		usedTicket = byTicket;
		// One message at a time: the crypto below is asynchronous.
		let queue = Promise.resolve();

		ws = sock;
		sock.binaryType = 'arraybuffer';
		sock.onopen = () => setStatus('Checking that this is the daemon…');

		async function handshake(data) {
			if (step === 'hello') {
				sn = takeWord(data, 'hello');
				if (!sn)
					throw new Error('no hello from the server');
				if (byTicket) {
					// The ticket is the secret: one use, one guest,
					// short-lived. Spent now, whatever comes back.
					step = 'ok';
					setStatus('Checking the ticket…');
					sock.send('ticket ' + ticket);
					ticket = null;
					return;
				}
				cn = crypto.getRandomValues(new Uint8Array(32));
				step = 'server';
				sock.send('client ' + b64url(cn));
			} else if (step === 'server') {
				const mac = takeWord(data, 'server');
				const good = mac && await crypto.subtle.verify('HMAC', key, mac,
					joined(LABEL_SERVER, sn, cn));
				if (!good) {
					// Not the daemon: it gets nothing more from us.
					impostor = true;
					sock.close(CLOSE_IMPOSTOR, 'wrong server proof');
					return;
				}
				const proof = new Uint8Array(await crypto.subtle.sign('HMAC', key,
					joined(LABEL_CLIENT, sn, cn)));
				step = 'ok';
				setStatus('Checking the token…');
				sock.send('proof ' + b64url(proof));
			} else if (step === 'ok') {
				if (data !== 'ok' && !(byTicket && data === 'ok watch'))
					throw new Error('no ok from the server');
				watchOnly = data === 'ok watch';
				step = 'open';
				accepted = true;
				login.hidden = true;
				makeTerminal();
				fit.fit();
				sendSize();
				term.focus();
				setStatus(watchOnly ? 'Connected, watching only: what you type is not sent to the guest'
					: 'Connected', 'ok');
			}
		}

		sock.onmessage = (ev) => {
			if (step === 'open') {
				if (typeof ev.data !== 'string')
					term.write(new Uint8Array(ev.data));
				return;
			}
			queue = queue.then(() => handshake(ev.data)).catch(() => {
				impostor = true;
				sock.close(CLOSE_IMPOSTOR, 'not the console protocol');
			});
		};
		sock.onclose = (ev) => {
			if (ws !== sock)
				return;
			if (impostor) {
				// The page cannot tell a mistyped token from a server
				// that has none: offer both a new token and a retry.
				accepted = false;
				ws = null;
				login.hidden = false;
				reconnectBtn.hidden = key === null;
				setStatus('The token was refused: the server\'s proof does not match it (a wrong token, or not the daemon). Nothing was sent to it.', 'error');
				tokenInput.focus();
				return;
			}
			onClosed(ev);
		};
	}

	// The session (or the try) ended: say why; a refused proof asks for
	// the token again, anything else offers to reconnect.
	function onClosed(ev) {
		const was = accepted;
		const lastByTicket = usedTicket;

		accepted = false;
		ws = null;
		if (ev.code === CLOSE_POLICY && !was && ev.reason === 'proof refused') {
			showLogin(lastByTicket
				? 'The ticket was refused (used already, expired, or for another guest). Ask for a new one, or give the token.'
				: 'The token was refused.');
			return;
		}
		const why = ev.reason ? ': ' + ev.reason : ' (code ' + ev.code + ')';
		setStatus((was ? 'Disconnected' : 'Cannot connect') + why, 'error');
		reconnectBtn.hidden = key === null;
		if (key === null && was)
			showLogin('Disconnected' + why + '. The ticket is spent: give the token, or open a new ticket.');
	}

	login.addEventListener('submit', async (e) => {
		e.preventDefault();
		const text = tokenInput.value.trim();
		tokenInput.value = '';
		if (!text)
			return;
		if (!window.crypto || !crypto.subtle) {
			setStatus('This browser offers no WebCrypto here (open http://127.0.0.1:PORT/ itself, or https)', 'error');
			return;
		}
		key = await crypto.subtle.importKey('raw', encoder.encode(text),
			{ name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
		connect();
	});
	reconnectBtn.addEventListener('click', () => {
		if (key && !ws)
			connect();
	});
	if (ticket !== null) {
		login.hidden = true;
		if (window.WebSocket)
			connect();
	} else {
		setStatus('Not connected');
		tokenInput.focus();
	}
})();
