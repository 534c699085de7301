/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * web_server.h - the console in a browser: one worker's web listener
 * (127.0.0.1:--web-port+i), its browser connections, and each one that
 * gave the right token as one more client of the console.
 */
#ifndef VDC_WEB_SERVER_H
#define VDC_WEB_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "event_loop.h"
#include "web_conn.h"
#include "web_token.h"

#define WEB_MAX_SESSIONS 32 /* browser connections at once, any state */

struct web_server;

struct web_session {
	struct web_server *srv;
	bool used;
	int fd;
	int timer_fd;
	struct ev_watch watch;
	struct ev_watch timer_watch;
	struct web_conn *conn;
	unsigned int phase; /* web_conn_phase() when the timer was armed */
	struct client *client; /* a console client, once authenticated */
	bool port_wants_output; /* the console has output for it */
	char peer[64];
};

struct web_server {
	struct ev_loop *loop;
	int listen_fd; /* owned by the supervisor */
	struct ev_watch listen_watch;
	uint16_t port; /* this guest's: --web-port + i */
	const struct web_token *token;
	struct backend *console; /* port 0's host side */
	void (*resize)(void *opaque, unsigned int cols, unsigned int rows);
	void *opaque;
	unsigned int failures; /* recent wrong tokens */
	uint64_t last_failure_ms;
	struct web_session sessions[WEB_MAX_SESSIONS];
};

struct web_server_config {
	struct ev_loop *loop;
	int listen_fd;
	uint16_t port;
	const struct web_token *token;
	struct backend *console;
	void (*resize)(void *opaque, unsigned int cols, unsigned int rows);
	void *opaque;
};

int web_server_init(struct web_server *ws, const struct web_server_config *cfg);
void web_server_fini(struct web_server *ws);

#endif
