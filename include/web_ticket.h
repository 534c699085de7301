/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * web_ticket.h - one-time web console tickets, in the memory the
 * supervisor shares with its workers (daemon_shm.h).
 *
 * A management tool asks the control socket for a ticket (`ticket
 * guest=I`); the supervisor mints it (32 bytes from getrandom) into a free
 * slot of this table; guest I's worker spends it when a page presents it
 * on the WebSocket. A ticket opens one session of one guest, once, before
 * its expiry; a watch-only ticket never makes its holder the writer.
 *
 * Concurrency: the supervisor is the only minter; any worker may spend.
 * Each slot's state word holds a generation and a state. The minter takes
 * a slot by compare-and-swap into WRITING (so a spender never sees half a
 * ticket), fills it, and publishes it READY with release ordering. A
 * spender reads the state (acquire), checks the fields, and spends by
 * compare-and-swap from exactly that READY word to SPENT: of two browsers
 * that race with the same ticket, one wins; a slot the minter reused
 * meanwhile has a new generation, so the stale check cannot spend it.
 * A worker killed mid-spend leaves either READY or SPENT, never half.
 */
#ifndef VDC_WEB_TICKET_H
#define VDC_WEB_TICKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEB_TICKET_LEN	    32u /* bytes; 43 characters of base64url; = WEB_TICKET_BYTES */
#define WEB_TICKET_SLOTS    64u /* tickets unspent at once */
#define WEB_TICKET_TTL_MS   30000u /* default */
#define WEB_TICKET_MAX_MS   600000u /* 10 minutes */

enum web_ticket_state {
	WEB_TICKET_FREE = 0,
	WEB_TICKET_WRITING = 1,
	WEB_TICKET_READY = 2,
	WEB_TICKET_SPENT = 3,
};

struct web_ticket_slot {
	uint64_t word; /* generation << 2 | enum web_ticket_state */
	uint64_t expires_ms; /* CLOCK_MONOTONIC */
	uint32_t guest;
	uint32_t watch_only;
	uint8_t secret[WEB_TICKET_LEN];
};

struct web_ticket_table {
	struct web_ticket_slot s[WEB_TICKET_SLOTS];
};

/* What spending a ticket gave. */
enum web_ticket_grant {
	WEB_TICKET_REFUSED, /* unknown, spent, expired or another guest's */
	WEB_TICKET_FULL, /* a session that may become the writer */
	WEB_TICKET_WATCH, /* a watch-only session */
};

int web_ticket_mint(struct web_ticket_table *t, unsigned int guest,
		    uint32_t ttl_ms, bool watch_only, uint64_t now_ms,
		    const uint8_t secret[WEB_TICKET_LEN]);
enum web_ticket_grant web_ticket_spend(struct web_ticket_table *t,
				       unsigned int guest,
				       const uint8_t secret[WEB_TICKET_LEN],
				       uint64_t now_ms);
int web_ticket_parse_ttl(const char *s, uint32_t *ttl_ms);

#endif
