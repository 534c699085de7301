/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * web_guess.h - the web console's guessing limit: proofs counted per peer
 * uid across the whole daemon, in the shared memory every worker maps
 * (daemon_shm.h), so that neither more workers nor more connections nor
 * closing early buys a guesser more tries.
 *
 * The limit, per peer uid: proofs are checked one at a time. When a proof
 * arrives its check is booked at the uid's next free time, and that
 * booking counts as a failure at once (a right proof clears the count when
 * it is checked), so a client that closes before its answer has spent its
 * turn without learning anything. The first check after a quiet spell is
 * at once; after n failures in a row the next waits WEB_GUESS_FIRST_MS *
 * 2^(n-1), at most WEB_GUESS_MAX_MS. A proof whose turn is more than
 * WEB_GUESS_MAX_MS away is refused unchecked (nothing booked, nothing
 * learned). The count is forgotten after a right proof, or after
 * WEB_GUESS_FORGET_MS without a booking. So in any T seconds a uid has at
 * most WEB_GUESS_BURST + T / 30 proofs checked. Another uid's failures
 * never delay the owner's.
 *
 * Concurrency: one process-shared, robust mutex. A worker killed while it
 * holds it leaves the lock to the next taker (EOWNERDEAD), which repairs
 * what a half-done update can leave (see web_guess.c); a lock that can no
 * longer be made consistent refuses every proof (fails closed).
 */
#ifndef VDC_WEB_GUESS_H
#define VDC_WEB_GUESS_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#define WEB_GUESS_FIRST_MS  500u
#define WEB_GUESS_MAX_MS    30000u
#define WEB_GUESS_FORGET_MS 600000u /* 10 minutes */
#define WEB_GUESS_BURST	    7u /* 0 + 0.5 + 1 + 2 + 4 + 8 + 16 s, then 30 s */
#define WEB_GUESS_UIDS	    64u /* uids tracked; the last entry is shared */

struct web_guess_entry {
	uint32_t uid;
	uint32_t used;
	uint32_t failures; /* in a row, bookings included */
	uint32_t reserved;
	uint64_t next_ms; /* the uid's next free check time */
	uint64_t last_ms; /* the last booking */
};

struct web_guess_table {
	pthread_mutex_t lock;
	uint64_t checks; /* proofs booked, every uid: for tests and status */
	struct web_guess_entry e[WEB_GUESS_UIDS];
};

/* The answer to a proof that has just arrived. */
enum web_guess_turn {
	WEB_GUESS_CHECK, /* check it at *at_ms (maybe now) */
	WEB_GUESS_REFUSE, /* refuse it unchecked: too many tries queued */
};

int web_guess_init(struct web_guess_table *t);
enum web_guess_turn web_guess_book(struct web_guess_table *t, uid_t uid,
				   uint64_t now_ms, uint64_t *at_ms);
void web_guess_right(struct web_guess_table *t, uid_t uid, uint64_t now_ms);
uint32_t web_guess_delay_ms(uint32_t failures);

#endif
