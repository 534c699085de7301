/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * log.c - the daemon's log lines.
 *
 * One line per call, written with a single write(2) so that lines from the
 * supervisor and its workers, which share stderr, never interleave.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/*
 * At most LOG_BURST info, warning and error lines a second: the guest and the
 * frontend can cause log lines at will, and a stalled stderr reader must not
 * stall the worker for long. What is held back is counted and reported.
 */
#define LOG_BURST 200

static enum log_level log_level = LOG_LEVEL_INFO;
static time_t burst_second;
static unsigned int burst_lines;
static unsigned long suppressed;
static int log_worker = -1;
static bool log_crlf;

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error", [LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",   [LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_TRACE] = "trace",
};

void log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level log_get_level(void)
{
	return log_level;
}

void log_set_worker(int index)
{
	log_worker = index;
}

void log_set_crlf(bool on)
{
	log_crlf = on;
}

bool log_enabled(enum log_level level)
{
	return level <= log_level;
}

/**
 * log_level_parse() - map a level name to its value
 * @name:	"error", "warn", "info", "debug" or "trace"
 * @level:	set on success
 *
 * Return: true if @name is a level
 */
bool log_level_parse(const char *name, enum log_level *level)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	     i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*level = (enum log_level)i;
			return true;
		}
	}
	return false;
}

static void write_line(const char *line, size_t n)
{
	while (write(STDERR_FILENO, line, n) < 0 && errno == EINTR)
		;
}

/* Is there room in this second's burst? Reports what was held back. */
static bool within_burst(void)
{
	struct timespec now;
	char note[96];
	int n;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	if (now.tv_sec != burst_second) {
		burst_second = now.tv_sec;
		burst_lines = 0;
		if (suppressed) {
			n = snprintf(note, sizeof(note),
				     "(%lu log lines were suppressed)%s\n",
				     suppressed, log_crlf ? "\r" : "");
			if (n > 0)
				write_line(note, (size_t)n);
			suppressed = 0;
		}
	}
	if (burst_lines >= LOG_BURST) {
		suppressed++;
		return false;
	}
	burst_lines++;
	return true;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int saved_errno = errno;
	va_list ap;
	int r;

	if (!log_enabled(level))
		return;
	/* Debug and trace were asked for, all of them. */
	if (level <= LOG_LEVEL_INFO && !within_burst())
		return;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	if (log_worker >= 0)
		r = snprintf(line + n, sizeof(line) - n,
			     ".%03ldZ w%d %s: ", ts.tv_nsec / 1000000,
			     log_worker, level_names[level]);
	else
		r = snprintf(line + n, sizeof(line) - n,
			     ".%03ldZ main %s: ", ts.tv_nsec / 1000000,
			     level_names[level]);
	if (r > 0)
		n += (size_t)r;

	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (r > 0)
		n += (size_t)r;
	/* Keep room for the line end even when the message was truncated. */
	if (n > sizeof(line) - 3)
		n = sizeof(line) - 3;
	if (log_crlf)
		line[n++] = '\r';
	line[n++] = '\n';

	write_line(line, n);
	errno = saved_errno;
}
