/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * guest_stats.h - one guest's counters, published by its worker in the
 * daemon's shared memory (daemon_shm.h) for status and metrics.
 *
 * The worker is the only writer of its entry; readers never stop it.
 */
#ifndef VDC_GUEST_STATS_H
#define VDC_GUEST_STATS_H

#include <stdint.h>

struct guest_stats {
	uint64_t seq; /* even: stable; odd: the worker is writing */
};

#endif
