/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fuzz_log.c - log.h for the fuzz targets, in place of src/log.c.
 *
 * Every level is enabled, so every log line's arguments are formatted and
 * UBSan sees them, but nothing is written: millions of "bad request" lines
 * would bury libFuzzer's own output. Set VDC_FUZZ_LOG=1 to see them while
 * replaying one input.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static enum log_level level = LOG_LEVEL_TRACE;
static int verbose = -1; /* unknown until the first line */

/* log_set_level() - the lowest level still formatted */
void log_set_level(enum log_level l)
{
	level = l;
}

/* log_get_level() - as set; LOG_LEVEL_TRACE unless changed */
enum log_level log_get_level(void)
{
	return level;
}

/* log_set_worker() - lines carry no process name here */
void log_set_worker(int index)
{
	(void)index;
}

/* log_set_crlf() - nothing reaches a terminal here */
void log_set_crlf(bool on)
{
	(void)on;
}

/* log_enabled() - would a line at @l be formatted? */
bool log_enabled(enum log_level l)
{
	return l <= level;
}

/**
 * log_level_parse() - map a level name to its value
 * @name:	"error", "warn", "info", "debug" or "trace"
 * @l:		set on success
 *
 * Return: true if @name is a level
 */
bool log_level_parse(const char *name, enum log_level *l)
{
	static const char *const names[] = {"error", "warn", "info", "debug",
					    "trace"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*l = (enum log_level)i;
			return true;
		}
	}
	return false;
}

/**
 * log_msg() - format a line; print it only when VDC_FUZZ_LOG is set
 * @l:		its level
 * @fmt:	printf format
 */
void log_msg(enum log_level l, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!log_enabled(l))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (verbose < 0)
		verbose = getenv("VDC_FUZZ_LOG") != NULL;
	if (verbose)
		fprintf(stderr, "[%d] %s\n", (int)l, line);
}
