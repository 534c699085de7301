/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * web_guess.h - wrong proofs counted per peer uid across the whole daemon,
 * in the shared memory every worker maps (daemon_shm.h).
 */
#ifndef VDC_WEB_GUESS_H
#define VDC_WEB_GUESS_H

#include <stdint.h>

struct web_guess_table {
	uint32_t reserved;
};

#endif
