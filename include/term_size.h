/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * term_size.h - the size of the terminal the daemon runs in: what the
 * nested backend tells the guest.
 */
#ifndef VDC_TERM_SIZE_H
#define VDC_TERM_SIZE_H

#include <stdint.h>

int term_size_get(uint16_t *cols, uint16_t *rows);

#endif
