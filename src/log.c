/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * log.c - the daemon's log lines.
 *
 * One line per call, written with a single write(2) so that lines from the
 * supervisor and its workers, which share stderr, never interleave.
 *
 * The log never blocks: a reader that stops reading (a pipe nobody drains,
 * a terminal on hold) would otherwise stall a worker, and with it a guest.
 * stderr's own file status flags are shared with whoever started us and,
 * for a terminal, with the nested backend, so O_NONBLOCK is not set on it:
 * the log writes through a private open file description of the same pipe
 * or terminal, or with MSG_DONTWAIT on a socket. A line that cannot be
 * written now is dropped and counted, and the count is reported with the
 * next line that gets through.
 *
 * When stderr is the journal ($JOURNAL_STREAM names its device and inode,
 * see systemd.exec(5)), each line starts with its syslog priority, "<3>"
 * for an error to "<7>" for debug (sd-daemon(3)'s prefixes), and carries no
 * timestamp: the journal keeps its own, and the priority is what
 * `journalctl -p` filters on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
static bool log_journal; /* stderr is the journal: <N> prefixes */

/* Where lines go and how; see log_open(). */
enum log_sink {
	LOG_SINK_FD, /* write(2) on log_fd: a private O_NONBLOCK description */
	LOG_SINK_SOCKET, /* send(2) with MSG_DONTWAIT on stderr */
	LOG_SINK_FILE, /* write(2) on stderr: a regular file never waits */
};
static enum log_sink log_sink = LOG_SINK_FILE;
static int log_fd = STDERR_FILENO;
static unsigned long dropped; /* lines the log could not take */

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error", [LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",   [LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_TRACE] = "trace",
};

/* syslog priorities (LOG_ERR ... LOG_DEBUG), for the journal's prefix. */
static const int level_priority[] = {
	[LOG_LEVEL_ERROR] = 3, [LOG_LEVEL_WARN] = 4,  [LOG_LEVEL_INFO] = 6,
	[LOG_LEVEL_DEBUG] = 7, [LOG_LEVEL_TRACE] = 7,
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

/**
 * log_journal_stream_matches() - does $JOURNAL_STREAM name this file?
 * @env:	"DEVICE:INODE" in decimal, as systemd sets it, or NULL
 * @dev:	st_dev of stderr
 * @ino:	st_ino of stderr
 *
 * stderr may have been redirected since systemd set the variable (a
 * wrapper script's 2>file); only the very same file counts.
 *
 * Return: true if @env names @dev and @ino
 */
bool log_journal_stream_matches(const char *env, dev_t dev, ino_t ino)
{
	unsigned long long d, i;
	char *end;

	if (!env || env[0] < '0' || env[0] > '9')
		return false;
	errno = 0;
	d = strtoull(env, &end, 10);
	if (*end != ':' || errno || end[1] < '0' || end[1] > '9')
		return false;
	i = strtoull(end + 1, &end, 10);
	if (*end || errno)
		return false;
	return d == (unsigned long long)dev && i == (unsigned long long)ino;
}

/**
 * log_open() - make stderr safe to log to without ever blocking
 *
 * Called once at start, before any worker is forked (they inherit the
 * choice). A pipe, FIFO or terminal is reopened through /proc as a new
 * open file description of its own, which may be non-blocking without
 * touching stderr's flags; a socket (journald) takes MSG_DONTWAIT; a
 * regular file is written as it is.
 */
void log_open(void)
{
	struct stat st;
	int fd;

	if (fstat(STDERR_FILENO, &st) < 0)
		return;
	log_journal = log_journal_stream_matches(getenv("JOURNAL_STREAM"),
						 st.st_dev, st.st_ino);
	if (S_ISREG(st.st_mode))
		return;
	if (S_ISSOCK(st.st_mode)) {
		log_sink = LOG_SINK_SOCKET;
		return;
	}
	fd = open("/proc/self/fd/2",
		  O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | O_APPEND);
	if (fd >= 0) {
		log_fd = fd;
		log_sink = LOG_SINK_FD;
		return;
	}
	/* No /proc: stderr as it is, and a warning that it may block. */
	log_warn("cannot reopen stderr (%s); a log reader that stops reading may stall the daemon",
		 strerror(errno));
}

/* One write of a whole line, never waiting. */
static bool write_line(const char *line, size_t n)
{
	ssize_t r;

	do {
		if (log_sink == LOG_SINK_SOCKET)
			r = send(STDERR_FILENO, line, n,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			r = write(log_fd, line, n);
	} while (r < 0 && errno == EINTR);
	/* A pipe takes a line whole or not at all (n < PIPE_BUF); a
	 * terminal may take part of it, and the rest is lost with it. */
	return r > 0;
}

/* Say what was held back or dropped, once the log takes lines again. */
static void report_losses(void)
{
	char note[160];
	int n;

	if (!suppressed && !dropped)
		return;
	if (!dropped)
		n = snprintf(note, sizeof(note), "(%lu log lines were suppressed by the rate limit)%s\n",
			     suppressed, log_crlf ? "\r" : "");
	else
		n = snprintf(note, sizeof(note), "(%lu log lines were dropped because the log was not being read, %lu suppressed by the rate limit)%s\n",
			     dropped, suppressed, log_crlf ? "\r" : "");
	if (n > 0 && write_line(note, (size_t)n))
		suppressed = dropped = 0;
}

/* Is there room in this second's burst? */
static bool within_burst(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	if (now.tv_sec != burst_second) {
		burst_second = now.tv_sec;
		burst_lines = 0;
	}
	if (burst_lines >= LOG_BURST) {
		suppressed++;
		return false;
	}
	burst_lines++;
	return true;
}

/*
 * line_prefix() - what starts a line: the journal's "<N>who: ", or our own
 * UTC timestamp, who and level
 *
 * Return: its length
 */
static size_t line_prefix(char *line, size_t len, enum log_level level)
{
	const char *who = log_worker >= 0 ? "w" : "main";
	char idx[16] = "";
	struct timespec ts;
	struct tm tm;
	size_t n;
	int r;

	if (log_worker >= 0)
		snprintf(idx, sizeof(idx), "%d", log_worker);
	if (log_journal) {
		r = snprintf(line, len, "<%d>%s%s: ", level_priority[level],
			     who, idx);
		return r > 0 ? (size_t)r : 0;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, len, "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, len - n,
		     ".%03ldZ %s%s %s: ", ts.tv_nsec / 1000000, who, idx,
		     level_names[level]);
	return r > 0 ? n + (size_t)r : n;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	size_t n;
	int saved_errno = errno;
	va_list ap;
	int r;

	if (!log_enabled(level))
		return;
	/* Debug and trace were asked for, all of them. */
	if (level <= LOG_LEVEL_INFO && !within_burst())
		return;

	n = line_prefix(line, sizeof(line), level);
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

	report_losses();
	if (!write_line(line, n))
		dropped++;
	errno = saved_errno;
}
