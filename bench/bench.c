/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * bench.c - what every part of the benchmark calls: the clock, messages
 * and fatal errors, and the run's settings (main() fills them in).
 *
 * Everything here is below every other file: it calls none of them, so
 * calls go one way, from main.c down through the runs to these.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

const struct bench_opts *bench_opts;

/* --- time and messages ---------------------------------------------- */

/* Monotonic nanoseconds. */
uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Monotonic seconds. */
double bench_now(void)
{
	return (double)bench_now_ns() / 1e9;
}

/* Sleep @ms milliseconds, whatever interrupts. */
void bench_sleep_ms(unsigned int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A fatal error: print it and exit; the atexit cleanup runs. */
void bench_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vdc-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

/* Progress on stderr, unless --json. */
void bench_note(const char *fmt, ...)
{
	va_list ap;

	if (bench_opts->json_only)
		return;
	fprintf(stderr, "vdc-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

/* Is measurement group @name selected by --only? */
bool bench_group(const char *name)
{
	const char *p = bench_opts->only;
	size_t n = strlen(name);

	if (!p)
		return true;
	while (*p) {
		size_t k = strcspn(p, ",");

		if (k == n && strncmp(p, name, n) == 0)
			return true;
		p += k + (p[k] == ',');
	}
	return false;
}
