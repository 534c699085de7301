/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * session.h - a running daemon with the uds backend, a console client on
 * it, and test frontends talking to it: the fixture of the integration
 * tests.
 */
#ifndef VDC_TEST_SESSION_H
#define VDC_TEST_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "frontend.h"
#include "helpers.h"

struct session {
	char dir[64];
	char vu_path[128]; /* vhost-user socket 0 */
	char uds_path[128]; /* console socket 0 (uds) */
	unsigned int tcp_port; /* console 0's port (network), else 0 */
	struct daemon_proc d;
	pid_t worker;
	int client; /* console client, -1 when not connected */
};

void session_start(struct session *s, const char *const extra[]);
void session_start_tcp(struct session *s, unsigned int port,
		       const char *const extra[]);

/*
 * SESSION_FIXTURE(extra options..., or NULL) - the fixture of a suite whose
 * tests each run one daemon with the uds backend: the suite's session @s
 * and frontend @fe, setup() (session_start() with the options) and
 * teardown() for tcase_add_checked_fixture(). A suite whose tests start
 * the daemon themselves uses teardown() alone.
 */
#define SESSION_FIXTURE(...)                                                   \
	static struct session s;                                               \
	static struct fe fe;                                                   \
	static void __attribute__((unused)) setup(void)                        \
	{                                                                      \
		static const char *const extra[] = {__VA_ARGS__, NULL};        \
                                                                               \
		session_start(&s, extra);                                      \
	}                                                                      \
	static void teardown(void)                                             \
	{                                                                      \
		fe_close(&fe);                                                 \
		session_stop(&s);                                              \
	}
struct termios;
struct winsize;
void session_start_nested(struct session *s, int *master, int *slave,
			  const struct winsize *ws, struct termios *before);
void session_stop(struct session *s);
int session_client(struct session *s);
void session_frontend(struct session *s, struct fe *fe, enum fe_style style,
		      bool negotiate);
void session_console(struct session *s, struct fe *fe, enum fe_style style);
void session_sync(struct session *s, struct fe *fe);
bool log_has(struct session *s, const char *text, int timeout_ms);
size_t log_mark(struct session *s);
bool log_has_since(struct session *s, size_t mark, const char *text,
		   int timeout_ms);
void tx_and_expect(struct session *s, struct fe *fe, const void *data,
		   size_t len, uint32_t seg, bool indirect);
int session_watcher(struct session *s);
void guest_writes_letters(struct fe *fe, size_t total, size_t at);

#endif
