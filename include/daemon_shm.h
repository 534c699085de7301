/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * daemon_shm.h - the memory the supervisor shares with every worker.
 *
 * One mapping, created by the supervisor before it forks (a memfd, so
 * that it could also be handed on across an exec), inherited by every
 * worker and by every worker restarted later. It holds what must outlive
 * a worker or be seen across workers without a message: the web console's
 * wrong-proof counts per peer uid (one limit for the whole daemon) and
 * each guest's counters, which the supervisor reads for status and
 * metrics without waking the worker.
 *
 * Nothing in here is trusted blindly by the supervisor: a worker may have
 * died in the middle of an update, so each section says how a reader
 * sees a consistent copy (a lock that survives its holder's death, or a
 * sequence count).
 */
#ifndef VDC_DAEMON_SHM_H
#define VDC_DAEMON_SHM_H

#include <stddef.h>
#include <stdint.h>

#include "guest_stats.h"
#include "web_guess.h"
#include "web_ticket.h"

#define DAEMON_SHM_MAGIC  0x56444353u /* "VDCS" */
#define DAEMON_SHM_LAYOUT 2u	      /* bump when a section changes */

struct daemon_shm {
	uint32_t magic;
	uint32_t layout;
	uint32_t guests; /* entries in guest[] */
	uint32_t reserved;
	struct web_guess_table guesses;
	struct web_ticket_table tickets; /* zeroed: every slot free */
	struct guest_stats guest[];
};

/**
 * daemon_shm_create() - map the shared memory for @guests guests
 * @guests:	--socket-count
 * @err:	a human reason on failure
 * @errlen:	size of @err
 *
 * Return: the mapping, zeroed but for its header and each section's own
 * initialisation; NULL with @err filled
 */
struct daemon_shm *daemon_shm_create(unsigned int guests, char *err,
				     size_t errlen);

/*
 * daemon_shm_destroy() - unmap it (the supervisor, at exit)
 * @guests:	what it was created for: the header's count is writable by
 *		every worker, so the supervisor never sizes by it
 */
void daemon_shm_destroy(struct daemon_shm *shm, unsigned int guests);

/* daemon_shm_size() - bytes mapped for @guests guests */
size_t daemon_shm_size(unsigned int guests);

#endif
