/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * status_report.h - the guests' counters as people and programs read
 * them: `status` lines, `status json`, and Prometheus's text exposition
 * format 0.0.4.
 *
 * No I/O here: a snapshot in, text out (the control socket and the
 * metrics listener write it). Every string that came from outside (a
 * path, a peer's address) is escaped for the format it goes into.
 */
#ifndef VDC_STATUS_REPORT_H
#define VDC_STATUS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest_stats.h"

/* A growing buffer of text; ->failed once memory ran out. */
struct report_buf {
	char *p;
	size_t len, cap;
	bool failed;
};

void report_printf(struct report_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void report_free(struct report_buf *b);

/* One guest as read from shared memory. */
struct status_guest {
	bool ok; /* false: no consistent copy (its worker died mid-update) */
	struct guest_stats_data d;
};

struct status_snapshot {
	const char *version; /* the supervisor's */
	long pid; /* the supervisor's */
	uint64_t now; /* CLOCK_REALTIME seconds */
	unsigned int guests;
	const struct status_guest *guest;
};

/* The answer's format version: bumped when a field changes meaning. */
#define STATUS_FORMAT 1

void status_report_text(struct report_buf *b, const struct status_snapshot *s);
void status_report_json(struct report_buf *b, const struct status_snapshot *s);
void status_report_metrics(struct report_buf *b,
			   const struct status_snapshot *s);

#endif
