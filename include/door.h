/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * door.h - the check at a console door: who connected, and may they in.
 *
 * Every listener of a console or a named port is a door. A client it has
 * just accepted is looked up (peer.h) before it takes a client slot or is
 * sent a byte; a refused client gets one line and is closed by the caller.
 */
#ifndef VDC_DOOR_H
#define VDC_DOOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "options.h"
#include "peer.h"

#define DOOR_NAME_LEN 192

struct door {
	const struct peer_policy *policy;
	bool tcp;
	const char *place; /* "console", "port": the refused hear "this ..." */
	char name[DOOR_NAME_LEN]; /* for the log: "console 0 (tcp
				     127.0.0.1:12345)" */
	uint64_t logged_ms; /* when the last refusal was logged */
	unsigned long unlogged; /* refusals since then, not logged yet */
};

void door_init(struct door *d, const struct peer_policy *policy, int listen_fd,
	       const char *what, const char *place);
bool door_admit(struct door *d, int fd, char *line, size_t linelen);
bool door_admit_uid(struct door *d, int fd, uid_t *uid, char *line,
		    size_t linelen);
void door_check_kernel(const struct options *o);

#endif
