/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * wait.h - how long a test waits for what must come.
 *
 * CI is a loaded 2-core machine: a wait of a second or more is for
 * something that must come, and gets at least WAIT_FLOOR_MS (what comes
 * ends the wait at once, so only a failure takes that long). A shorter
 * wait is a window in which nothing must come, and stays as it is.
 */
#ifndef VDC_TEST_WAIT_H
#define VDC_TEST_WAIT_H

#define WAIT_FLOOR_MS 10000

/* The time a wait of @timeout_ms is given. */
static inline int wait_floor_ms(int timeout_ms)
{
	return timeout_ms >= 1000 && timeout_ms < WAIT_FLOOR_MS ? WAIT_FLOOR_MS
								: timeout_ms;
}

#endif
