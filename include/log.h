/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * log.h - timestamped, levelled log lines on stderr.
 *
 * stdout belongs to the nested backend, so nothing here ever writes to it.
 * Each line names the process that wrote it: "main" for the supervisor,
 * "wN" for the worker serving socket index N.
 */
#ifndef VDC_LOG_H
#define VDC_LOG_H

#include <stdbool.h>
#include <sys/types.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_TRACE,
};

void log_open(void);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_set_worker(int index);
bool log_level_parse(const char *name, enum log_level *level);
bool log_enabled(enum log_level level);
bool log_journal_stream_matches(const char *env, dev_t dev, ino_t ino);

/* Raw terminals need "\r\n"; the nested backend flips this on while active. */
void log_set_crlf(bool on);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)                                                         \
	do {                                                                   \
		if (log_enabled(LOG_LEVEL_DEBUG))                              \
			log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__);                 \
	} while (0)
#define log_trace(...)                                                         \
	do {                                                                   \
		if (log_enabled(LOG_LEVEL_TRACE))                              \
			log_msg(LOG_LEVEL_TRACE, __VA_ARGS__);                 \
	} while (0)

#endif
