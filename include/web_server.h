/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * web_server.h - the console in a browser: one worker's web listener
 * (127.0.0.1:--web-port+i), its browser connections, and each one whose
 * proof was right as one more client of the console.
 *
 * Who may hold a connection: only allowed uids (peer.h) get past accept;
 * at most WEB_PREAUTH_MAX connections wait unauthenticated, no uid more
 * than half of them; when there is no room, the oldest unauthenticated
 * connection of the uid holding the most makes room (a uid at its share,
 * its own oldest). An authenticated session is never pushed out.
 */
#ifndef VDC_WEB_SERVER_H
#define VDC_WEB_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "door.h"
#include "event_loop.h"
#include "options.h"
#include "web_conn.h"
#include "web_guess.h"
#include "web_ticket.h"
#include "web_token.h"

#define WEB_PREAUTH_MAX	    32 /* unauthenticated connections at once */
#define WEB_PREAUTH_PER_UID (WEB_PREAUTH_MAX / 2)
/* Every browser connection at once: the unauthenticated ones, and the
 * console's clients (--max-clients at most). */
#define WEB_MAX_SESSIONS (WEB_PREAUTH_MAX + MAX_CLIENTS_LIMIT)
/* An HTTP answer being written must move WEB_PROGRESS_BYTES (or end)
 * every WEB_PROGRESS_MS: a slow link gets the whole page, a reader that
 * stops does not hold its connection. */
#define WEB_PROGRESS_MS	   10000
#define WEB_PROGRESS_BYTES 8192

struct web_server;

struct web_session {
	struct web_server *srv;
	bool used;
	int fd;
	int timer_fd;
	struct ev_watch watch;
	struct ev_watch timer_watch;
	struct web_conn *conn;
	unsigned int phase; /* web_conn_phase() last seen */
	uid_t uid; /* who connected (peer_uid()) */
	bool authed; /* its proof was right: never evicted */
	uint64_t accept_ms; /* the one pre-auth deadline counts from here */
	uint64_t phase_ms; /* when web_conn_phase() last moved */
	uint64_t check_at_ms; /* the proof's booked turn */
	uint64_t progress_ms; /* an answer's last progress */
	size_t progress_bytes; /* written since then */
	uint64_t armed_ms; /* the timer's deadline now, 0: none */
	struct client *client; /* a console client, once authenticated */
	bool port_wants_output; /* the console has output for it */
	char peer[64];
};

/* One log line per second per kind at most, with a count of the rest. */
struct web_log_limit {
	uint64_t last_ms;
	unsigned int quiet; /* lines not written since */
};

struct web_server {
	struct ev_loop *loop;
	int listen_fd; /* owned by the supervisor */
	struct ev_watch listen_watch;
	uint16_t port; /* this guest's: --web-port + i */
	const struct web_token *token;
	struct door door; /* who may come in, checked right after accept */
	struct web_guess_table *guesses; /* the daemon's, in shared memory */
	struct web_ticket_table *tickets; /* the daemon's; NULL: none */
	unsigned int guest; /* the guest index tickets must name */
	const struct web_origins *origins; /* --web-origin */
	const struct web_origins *frame_ancestors; /* --web-frame-ancestors */
	struct backend *console; /* port 0's host side */
	void (*resize)(void *opaque, unsigned int cols, unsigned int rows);
	void *opaque;
	struct web_log_limit log_evicted, log_busy;
	struct web_session sessions[WEB_MAX_SESSIONS];
};

struct web_server_config {
	struct ev_loop *loop;
	int listen_fd;
	uint16_t port;
	const struct web_token *token;
	const struct peer_policy *policy; /* --allow-user, --allow-group */
	const char *door_name; /* "web console 0", for the log */
	struct web_guess_table *guesses;
	struct web_ticket_table *tickets; /* NULL: tickets are refused */
	unsigned int guest;
	const struct web_origins *origins; /* --web-origin; NULL: none */
	const struct web_origins *frame_ancestors; /* NULL: no framing */
	struct backend *console;
	void (*resize)(void *opaque, unsigned int cols, unsigned int rows);
	void *opaque;
};

int web_server_init(struct web_server *ws, const struct web_server_config *cfg);
void web_server_fini(struct web_server *ws);

#endif
