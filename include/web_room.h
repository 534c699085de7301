/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * web_room.h - who makes room when a browser connection arrives: the
 * rationing of the web console's places for unauthenticated connections,
 * as a pure decision over a list of places (web_server.c does the rest).
 *
 * The rules (web_server.h states the numbers): a newcomer whose uid holds
 * its share (WEB_PREAUTH_PER_UID) of unauthenticated places displaces that
 * uid's own oldest; otherwise, when all WEB_PREAUTH_MAX are taken, the
 * oldest of the uid holding the most makes room. An authenticated place is
 * never chosen.
 */
#ifndef VDC_WEB_ROOM_H
#define VDC_WEB_ROOM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct web_place {
	bool used;
	bool authed; /* its proof was right */
	uid_t uid;
	uint64_t since_ms; /* accepted then */
};

int web_room_victim(const struct web_place *p, unsigned int n, uid_t uid,
		    unsigned int max, unsigned int per_uid);

#endif
