/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_console_log.c - the console log module on its own: byte-exact
 * files, timestamps at line starts only, reopen after a rotation, a
 * stalled file that never stalls the caller, write errors, and the drain
 * at close.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "console_log.h"
#include "helpers.h"
#include "suites.h"

#define DROP_LINE_FMT                                                          \
	"[vhost-device-console: %llu bytes of console output dropped: the log file could not keep up]\n"

static char dir[64];
static char path[128];
static char errbuf[256];

static void setup(void)
{
	make_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/console.log0", dir);
}

static void teardown(void)
{
	remove_tree(dir);
}

static unsigned int rng = 12345;

static unsigned int next_rand(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

/* Random bytes, a newline about every 40. */
static uint8_t *make_data(size_t len)
{
	uint8_t *p = malloc(len);

	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < len; i++)
		p[i] = next_rand() % 40 == 0 ? '\n' : (uint8_t)next_rand();
	return p;
}

static char *read_all(const char *file, size_t *len)
{
	FILE *f = fopen(file, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", file);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static struct console_log *open_log(const char *p, bool ts, size_t queue,
				    unsigned int drain_ms)
{
	struct console_log_config cfg = {
		.path = p,
		.timestamps = ts,
		.queue_bytes = queue,
		.drain_ms = drain_ms,
	};
	struct console_log *cl = console_log_open(&cfg, errbuf, sizeof(errbuf));

	ck_assert_msg(cl != NULL, "console_log_open: %s", errbuf);
	return cl;
}

static void append_str(struct console_log *cl, const char *s)
{
	struct iovec iov = {.iov_base = (void *)s, .iov_len = strlen(s)};

	console_log_append(cl, &iov, 1, 0);
}

/* Wait until the thread has taken everything queued off the queue. */
static bool drained(struct console_log *cl)
{
	struct console_log_stats st;
	long until = now_ms() + 5000;

	for (;;) {
		console_log_stats(cl, &st);
		if (st.written + st.dropped_write == st.queued)
			return true;
		if (now_ms() >= until)
			return false;
		sleep_ms(1);
	}
}

static void wait_drained(struct console_log *cl)
{
	ck_assert_msg(drained(cl), "the queue did not drain");
}

/* Append @data in random pieces of random iovecs, each with a random
 * skip over bytes that must not appear; never more than @cap waiting. */
static void append_randomly(struct console_log *cl, const uint8_t *data,
			    size_t len, size_t cap)
{
	static const uint8_t junk[16] = "JUNKJUNKJUNKJUNK";
	size_t pos = 0;

	while (pos < len) {
		struct iovec iov[5];
		unsigned int n = 0;
		size_t skip = next_rand() % 3 == 0 ? next_rand() % 16 : 0;
		size_t batch = 0;
		struct console_log_stats st;

		if (skip)
			iov[n++] = (struct iovec){(void *)junk, skip};
		for (unsigned int k = 1 + next_rand() % 4; k && pos < len;
		     k--) {
			size_t piece = 1 + next_rand() % 3000;

			if (piece > len - pos)
				piece = len - pos;
			iov[n++] = (struct iovec){(void *)(data + pos), piece};
			pos += piece;
			batch += piece;
		}
		for (;;) {
			console_log_stats(cl, &st);
			if (st.queued - st.written - st.dropped_write + batch <=
			    cap)
				break;
			sleep_ms(1);
		}
		console_log_append(cl, iov, n, skip);
	}
}

START_TEST(test_random_appends_are_byte_exact)
{
	size_t len = 400 * 1000;
	uint8_t *data = make_data(len);
	struct console_log *cl = open_log(path, false, 65536, 0);
	struct console_log_stats st;
	size_t got_len;
	char *got;

	append_randomly(cl, data, len, 65536);
	wait_drained(cl);
	console_log_stats(cl, &st);
	ck_assert_uint_eq(st.appended, len);
	ck_assert_uint_eq(st.dropped_queue, 0);
	ck_assert_uint_eq(st.written, len);
	console_log_close(cl);
	got = read_all(path, &got_len);
	ck_assert_uint_eq(got_len, len);
	ck_assert_msg(memcmp(got, data, len) == 0, "file differs from input");
	free(got);
	free(data);
}
END_TEST

START_TEST(test_new_file_is_mode_0600)
{
	struct console_log *cl;
	struct stat st;

	umask(022);
	cl = open_log(path, false, 0, 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	console_log_close(cl);
}
END_TEST

START_TEST(test_existing_file_is_appended_to_not_truncated)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	struct console_log *cl;
	struct stat st;
	size_t len;
	char *got;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "before\n", 7), 7);
	close(fd);
	chmod(path, 0644);
	cl = open_log(path, false, 0, 0);
	append_str(cl, "after\n");
	console_log_close(cl);
	got = read_all(path, &len);
	ck_assert_str_eq(got, "before\nafter\n");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	free(got);
}
END_TEST

/* Check "YYYY-MM-DDTHH:MM:SS.mmmZ " at @p; return its time in seconds. */
static time_t parse_stamp(const char *p)
{
	struct tm tm = {0};
	int ms = -1;
	int n = 0;

	ck_assert_msg(sscanf(p, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &tm.tm_year,
			     &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
			     &tm.tm_sec, &ms, &n) == 7 &&
			      n == CONSOLE_LOG_TS_LEN - 1,
		      "no timestamp at '%.30s'", p);
	ck_assert(p[4] == '-' && p[10] == 'T' && p[23] == 'Z' && p[24] == ' ');
	ck_assert_int_ge(ms, 0);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

/* Take the stamps off each line start of @text, checking each is a time
 * from @t0 to now; what is left must then be the input exactly, so the
 * stamps were there and nowhere else. Return: the length left. */
static size_t strip_stamps(char *text, size_t len, time_t t0, int *stamps)
{
	bool line_start = true;
	size_t at = 0;
	size_t w = 0;

	while (at < len) {
		if (line_start) {
			time_t t = parse_stamp(text + at);

			ck_assert_int_ge(t, t0 - 1);
			ck_assert_int_le(t, time(NULL) + 1);
			at += CONSOLE_LOG_TS_LEN;
			(*stamps)++;
		}
		ck_assert_uint_lt(at, len);
		line_start = text[at] == '\n';
		text[w++] = text[at++];
	}
	text[w] = '\0';
	return w;
}

START_TEST(test_timestamps_at_line_starts_only)
{
	/* Lines split across appends, empty lines, a line split inside an
	 * iovec array, and a last line with no end. */
	static const char *const pieces[] = {
		"ab", "c\nde", "\n", "\n\nf", "g\n", "", "h", "ij\nk",
	};
	char want[128] = "";
	struct console_log *cl = open_log(path, true, 0, 0);
	time_t t0 = time(NULL);
	struct iovec iov[3] = {{(void *)"skipped", 7},
			       {(void *)"l\nm", 3},
			       {(void *)"n\n", 2}};
	size_t len;
	char *got;
	int stamps = 0;

	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		append_str(cl, pieces[i]);
		strcat(want, pieces[i]);
	}
	console_log_append(cl, iov, 3, 7);
	strcat(want, "l\nmn\n");
	console_log_close(cl);
	got = read_all(path, &len);
	len = strip_stamps(got, len, t0, &stamps);
	ck_assert_str_eq(got, want);
	ck_assert_int_eq(stamps, 8);
	free(got);
}
END_TEST

START_TEST(test_format_time_matches_gmtime)
{
	time_t samples[1000] = {0,	    59,		86399,
				86400,	    951782400,	951868800,
				4107542400, 1796219766, 253402300799};
	char want[64];
	char got[CONSOLE_LOG_TS_LEN + 1];

	for (size_t i = 9; i < 1000; i++)
		samples[i] = (time_t)next_rand() * 509;
	for (size_t i = 0; i < 1000; i++) {
		struct timespec ts = {samples[i],
				      (long)(i % 1000) * 1000000 + 999999};
		struct tm tm;
		size_t n;

		gmtime_r(&ts.tv_sec, &tm);
		n = strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(want + n, sizeof(want) - n, ".%03zuZ ", i % 1000);
		console_log_format_time(got, &ts);
		if (strcmp(got, want) != 0)
			ck_assert_str_eq(got, want);
	}
	struct timespec ts = {1796219766, 123456789};

	console_log_format_time(got, &ts);
	ck_assert_str_eq(got, "2026-12-02T13:56:06.123Z ");
}
END_TEST

/* Send the daemon's log (stderr) to a file until capture_end(). */
static int capture_start(void)
{
	char file[160];
	int saved = dup(STDERR_FILENO);
	int fd;

	snprintf(file, sizeof(file), "%s/stderr", dir);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
	return saved;
}

static char *capture_end(int saved)
{
	char file[160];
	size_t len;

	dup2(saved, STDERR_FILENO);
	close(saved);
	snprintf(file, sizeof(file), "%s/stderr", dir);
	return read_all(file, &len);
}

static int count_lines_with(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

START_TEST(test_reopen_after_rename_loses_nothing)
{
	size_t len = 300 * 1000;
	size_t half = len / 2;
	uint8_t *data = make_data(len);
	struct console_log *cl = open_log(path, false, 1 << 20, 0);
	struct console_log_stats st;
	char old[160];
	char *a;
	char *b;
	size_t alen;
	size_t blen;
	struct stat sb;
	long until = now_ms() + 5000;
	char *text;
	int saved;

	snprintf(old, sizeof(old), "%s.1", path);
	append_randomly(cl, data, half, 1 << 20);
	/* Rotate while bytes may still be queued. */
	ck_assert_int_eq(rename(path, old), 0);
	console_log_reopen(cl);
	do {
		ck_assert(now_ms() < until);
		sleep_ms(1);
		console_log_stats(cl, &st);
	} while (st.reopens == 0);
	append_randomly(cl, data + half, len - half, 1 << 20);
	saved = capture_start();
	console_log_close(cl);
	text = capture_end(saved);
	ck_assert_msg(count_lines_with(text, "console.log0: reopened\n") == 1,
		      "log: %s", text);
	free(text);

	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 07777, 0600);
	a = read_all(old, &alen);
	b = read_all(path, &blen);
	ck_assert_uint_eq(alen + blen, len);
	ck_assert_uint_ge(blen, len - half);
	ck_assert_msg(memcmp(a, data, alen) == 0, "the old file differs");
	ck_assert_msg(memcmp(b, data + alen, blen) == 0,
		      "the new file differs");
	free(a);
	free(b);
	free(data);
}
END_TEST

START_TEST(test_failed_reopen_keeps_the_old_file)
{
	struct console_log *cl = open_log(path, false, 0, 0);
	struct console_log_stats st;
	char old[160];
	char *text;
	size_t len;
	int saved;
	long until = now_ms() + 5000;

	snprintf(old, sizeof(old), "%s.1", path);
	append_str(cl, "one\n");
	ck_assert_int_eq(rename(path, old), 0);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	console_log_reopen(cl);
	do {
		ck_assert(now_ms() < until);
		sleep_ms(1);
		console_log_stats(cl, &st);
	} while (st.reopen_errors == 0);
	append_str(cl, "two\n");
	saved = capture_start();
	console_log_poll(cl);
	console_log_close(cl);
	text = capture_end(saved);
	ck_assert_msg(
		count_lines_with(
			text,
			"cannot reopen it (Is a directory); still writing to the file opened before") ==
			1,
		"log: %s", text);
	free(text);
	text = read_all(old, &len);
	ck_assert_str_eq(text, "one\ntwo\n");
	free(text);
	rmdir(path);
}
END_TEST

struct reader {
	int fd;
	char *buf;
	size_t len;
	size_t cap;
	pthread_t thread;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	ssize_t n;

	for (;;) {
		if (r->cap - r->len < 65536) {
			r->cap = r->cap * 2 + 65536;
			r->buf = realloc(r->buf, r->cap);
			if (!r->buf)
				abort();
		}
		n = read(r->fd, r->buf + r->len, r->cap - r->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		r->len += (size_t)n;
	}
	return NULL;
}

/* A FIFO at the log path with a reader that does not read yet, and the
 * pipe already full: the log's first write blocks. Return: the reader's
 * fd; *prefill: the bytes that filled the pipe. */
static int stalled_fifo(size_t *prefill)
{
	char fill[4096];
	int rfd;
	int wfd;
	ssize_t n;

	ck_assert_int_eq(mkfifo(path, 0600), 0);
	rfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ck_assert_int_ge(rfd, 0);
	wfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	ck_assert_int_ge(wfd, 0);
	memset(fill, 'P', sizeof(fill));
	*prefill = 0;
	while ((n = write(wfd, fill, sizeof(fill))) > 0)
		*prefill += (size_t)n;
	ck_assert_int_eq(errno, EAGAIN);
	close(wfd);
	return rfd;
}

START_TEST(test_stalled_file_never_blocks_and_is_marked)
{
	size_t queue = 65536;
	size_t prefill;
	int rfd = stalled_fifo(&prefill);
	struct console_log *cl = open_log(path, false, queue, 0);
	uint8_t *data = make_data(100 * 10000);
	struct console_log_stats st;
	struct reader r = {.fd = rfd};
	char marker[200];
	size_t at;
	long t0;
	long slowest = 0;
	long total;
	char *text;
	int saved;

	/* 10,000 appends of 100 bytes against a writer that cannot write. */
	t0 = now_ms();
	for (size_t i = 0; i < 10000; i++) {
		struct iovec iov = {data + i * 100, 100};
		long t = now_ms();

		console_log_append(cl, &iov, 1, 0);
		if (now_ms() - t > slowest)
			slowest = now_ms() - t;
	}
	total = now_ms() - t0;
	ck_assert_msg(total < 1000, "10,000 appends took %ld ms", total);
	ck_assert_msg(slowest < 200, "an append took %ld ms", slowest);
	console_log_stats(cl, &st);
	ck_assert_uint_eq(st.written, 0);
	ck_assert_uint_eq(st.queued, queue);
	ck_assert_uint_eq(st.dropped_queue, 1000000 - queue);

	/* The reader resumes: the queue drains, then later output comes
	 * after the marker line. */
	saved = capture_start();
	ck_assert_int_eq(fcntl(rfd, F_SETFL, O_RDONLY), 0);
	ck_assert_int_eq(pthread_create(&r.thread, NULL, reader_main, &r), 0);
	wait_drained(cl);
	console_log_poll(cl);
	append_str(cl, "AFTER\n");
	console_log_close(cl);
	text = capture_end(saved);
	ck_assert_int_eq(pthread_join(r.thread, NULL), 0);
	close(rfd);
	ck_assert_msg(
		count_lines_with(
			text,
			"934464 bytes of console output dropped: the log file could not keep up") ==
			1,
		"log: %s", text);
	free(text);

	snprintf(marker, sizeof(marker), "%s" DROP_LINE_FMT "AFTER\n",
		 data[queue - 1] == '\n' ? "" : "\n",
		 (unsigned long long)(1000000 - queue));
	ck_assert_uint_eq(r.len, prefill + queue + strlen(marker));
	/* One assertion, not one a byte: each one is a message to Check. */
	for (at = 0; at < prefill && r.buf[at] == 'P'; at++)
		;
	ck_assert_uint_eq(at, prefill);
	ck_assert_msg(memcmp(r.buf + at, data, queue) == 0,
		      "queued output differs");
	at += queue;
	ck_assert_msg(memcmp(r.buf + at, marker, strlen(marker)) == 0,
		      "no marker line: '%.*s'", (int)strlen(marker),
		      r.buf + at);
	free(r.buf);
	free(data);
}
END_TEST

START_TEST(test_marker_line_has_its_own_timestamp)
{
	size_t prefill;
	int rfd = stalled_fifo(&prefill);
	struct console_log *cl = open_log(path, true, 4096, 0);
	struct reader r = {.fd = rfd};
	char want[8192];
	char line[100];
	time_t t0 = time(NULL);
	size_t kept = 0;
	size_t len;
	int stamps = 0;
	char *text;
	int saved;
	int n;

	/* Lines of 60 bytes and a half line: the queue (4096) takes 48
	 * stamped lines of 85 bytes, 4080; the rest is dropped. */
	memset(line, 'x', 59);
	line[59] = '\n';
	for (int i = 0; i < 100; i++)
		console_log_append(cl, &(struct iovec){line, 60}, 1, 0);
	console_log_append(cl, &(struct iovec){line, 30}, 1, 0);
	want[0] = '\0';
	for (int i = 0; i < 48; i++)
		kept += (size_t)snprintf(want + kept, sizeof(want) - kept,
					 "%.60s", line);
	/* 16 bytes are left, too few for a stamp and a byte: the marker
	 * follows a whole line, so it needs no line break of its own. */
	n = snprintf(want + kept, sizeof(want) - kept, DROP_LINE_FMT "AFTER\n",
		     (unsigned long long)(100 * 60 + 30 - 48 * 60));
	ck_assert_int_gt(n, 0);
	len = kept + (size_t)n;

	ck_assert_int_eq(fcntl(rfd, F_SETFL, O_RDONLY), 0);
	ck_assert_int_eq(pthread_create(&r.thread, NULL, reader_main, &r), 0);
	wait_drained(cl);
	append_str(cl, "AFTER\n");
	saved = capture_start();
	console_log_close(cl);
	text = capture_end(saved);
	ck_assert_msg(
		count_lines_with(
			text,
			": 3150 bytes of console output dropped: the log file could not keep up\n") ==
			1,
		"log: %s", text);
	free(text);
	ck_assert_int_eq(pthread_join(r.thread, NULL), 0);
	close(rfd);
	ck_assert_uint_ge(r.len, prefill);
	r.buf[r.len] = '\0';
	ck_assert_uint_eq(strip_stamps(r.buf + prefill, r.len - prefill, t0,
				       &stamps),
			  len);
	ck_assert_str_eq(r.buf + prefill, want);
	/* 48 lines, the marker's and AFTER's. */
	ck_assert_int_eq(stamps, 50);
	free(r.buf);
}
END_TEST

START_TEST(test_full_device_is_reported_once_and_counted)
{
	struct console_log *cl = open_log("/dev/full", false, 0, 0);
	struct console_log_stats st;
	char chunk[1000];
	char *text;
	int saved;

	memset(chunk, 'x', sizeof(chunk));
	saved = capture_start();
	for (int i = 0; i < 50; i++) {
		struct iovec iov = {chunk, sizeof(chunk)};

		console_log_append(cl, &iov, 1, 0);
		wait_drained(cl);
		console_log_poll(cl);
	}
	console_log_stats(cl, &st);
	console_log_close(cl);
	text = capture_end(saved);
	ck_assert_uint_eq(st.appended, 50000);
	ck_assert_uint_eq(st.dropped_write, 50000);
	ck_assert_uint_eq(st.written, 0);
	ck_assert_uint_eq(st.write_errors, 1);
	ck_assert_msg(count_lines_with(text, "No space left on device") == 1,
		      "log: %s", text);
	ck_assert_msg(
		count_lines_with(
			text,
			"cannot write it (No space left on device); console output is dropped until writing works again") ==
			1,
		"log: %s", text);
	free(text);
}
END_TEST

START_TEST(test_write_error_ends_with_a_marker_line)
{
	struct rlimit lim = {1000, RLIM_INFINITY};
	struct console_log *cl = open_log(path, false, 0, 0);
	struct console_log_stats st;
	char want[1400];
	char a[600];
	char b[600];
	char *text;
	size_t len;
	int saved;
	bool ok;

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	/* The file may grow to 1000 bytes: 600 a, 400 b, and 200 b fail.
	 * The limit holds for Check's own files too, so no assertion (each
	 * one a message to Check) until it is lifted. */
	saved = capture_start();
	ok = setrlimit(RLIMIT_FSIZE, &lim) == 0;
	console_log_append(cl, &(struct iovec){a, sizeof(a)}, 1, 0);
	ok = drained(cl) && ok;
	console_log_append(cl, &(struct iovec){b, sizeof(b)}, 1, 0);
	ok = drained(cl) && ok;
	lim.rlim_cur = RLIM_INFINITY;
	ok = setrlimit(RLIMIT_FSIZE, &lim) == 0 && ok;
	ck_assert(ok);
	console_log_poll(cl);
	append_str(cl, "c\n");
	wait_drained(cl);
	console_log_poll(cl);
	console_log_stats(cl, &st);
	console_log_close(cl);
	text = capture_end(saved);
	ck_assert_uint_eq(st.write_errors, 1);
	ck_assert_uint_eq(st.dropped_write, 200);
	ck_assert_msg(count_lines_with(text,
				       "cannot write it (File too large)") == 1,
		      "log: %s", text);
	ck_assert_msg(count_lines_with(
			      text,
			      "writing again; 200 bytes of the log were dropped") ==
			      1,
		      "log: %s", text);
	free(text);

	text = read_all(path, &len);
	snprintf(want, sizeof(want),
		 "%.600s%.400s\n[vhost-device-console: 200 bytes of the console log dropped: cannot write the log file: File too large]\nc\n",
		 a, b);
	ck_assert_str_eq(text, want);
	free(text);
}
END_TEST

START_TEST(test_close_drains_the_queue)
{
	size_t len = 3 << 20;
	uint8_t *data = make_data(len);
	struct console_log *cl = open_log(path, false, 4 << 20, 0);
	struct iovec iov = {data, len};
	size_t got_len;
	char *got;

	console_log_append(cl, &iov, 1, 0);
	console_log_close(cl);
	got = read_all(path, &got_len);
	ck_assert_uint_eq(got_len, len);
	ck_assert(memcmp(got, data, len) == 0);
	free(got);
	free(data);
}
END_TEST

START_TEST(test_close_gives_up_on_a_stuck_file)
{
	size_t prefill;
	int rfd = stalled_fifo(&prefill);
	struct console_log *cl = open_log(path, false, 0, 200);
	char *text;
	long t0;
	long took;
	int saved;

	append_str(cl, "never read\n");
	saved = capture_start();
	t0 = now_ms();
	console_log_close(cl);
	took = now_ms() - t0;
	text = capture_end(saved);
	ck_assert_msg(took >= 190 && took < 1500, "close took %ld ms", took);
	ck_assert_msg(count_lines_with(text,
				       "11 bytes of the log not written at exit") ==
			      1,
		      "log: %s", text);
	free(text);
	close(rfd);
}
END_TEST

START_TEST(test_fifo_without_reader_waits_in_the_thread)
{
	struct console_log *cl;
	char buf[16] = "";
	int rfd;
	long t0 = now_ms();

	ck_assert_int_eq(mkfifo(path, 0600), 0);
	cl = open_log(path, false, 0, 0);
	append_str(cl, "hi\n");
	ck_assert_int_lt(now_ms() - t0, 1000);
	rfd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(rfd, 0);
	ck_assert_int_eq(read(rfd, buf, sizeof(buf) - 1), 3);
	ck_assert_str_eq(buf, "hi\n");
	console_log_close(cl);
	close(rfd);
}
END_TEST

START_TEST(test_refuses_what_is_not_a_file)
{
	struct console_log_config cfg = {.path = dir};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_ptr_null(console_log_open(&cfg, errbuf, sizeof(errbuf)));
	ck_assert_msg(strstr(errbuf, "Is a directory") && strstr(errbuf, dir),
		      "err: %s", errbuf);

	ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cfg.path = path;
	ck_assert_ptr_null(console_log_open(&cfg, errbuf, sizeof(errbuf)));
	ck_assert_msg(strstr(errbuf, "No such device or address") &&
			      strstr(errbuf, path),
		      "err: %s", errbuf);
	close(s);
}
END_TEST

START_TEST(test_queue_size_and_path)
{
	struct console_log_config cfg = {.path = path, .queue_bytes = 100};
	char buf[16];

	ck_assert_ptr_null(console_log_open(&cfg, errbuf, sizeof(errbuf)));
	ck_assert_str_eq(errbuf,
			 "console log queue of 100 bytes is below the least, 4096");
	ck_assert_int_eq(console_log_path(buf, sizeof(buf), "/x/log", 12), 0);
	ck_assert_str_eq(buf, "/x/log12");
	ck_assert_int_eq(console_log_path(buf, 8, "/x/log", 12), -1);
}
END_TEST

Suite *console_log_suite(void)
{
	Suite *su = suite_create("console_log");
	TCase *tc = tcase_create("file");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_random_appends_are_byte_exact);
	tcase_add_test(tc, test_new_file_is_mode_0600);
	tcase_add_test(tc, test_existing_file_is_appended_to_not_truncated);
	tcase_add_test(tc, test_timestamps_at_line_starts_only);
	tcase_add_test(tc, test_format_time_matches_gmtime);
	tcase_add_test(tc, test_reopen_after_rename_loses_nothing);
	tcase_add_test(tc, test_failed_reopen_keeps_the_old_file);
	tcase_add_test(tc, test_stalled_file_never_blocks_and_is_marked);
	tcase_add_test(tc, test_marker_line_has_its_own_timestamp);
	tcase_add_test(tc, test_full_device_is_reported_once_and_counted);
	tcase_add_test(tc, test_write_error_ends_with_a_marker_line);
	tcase_add_test(tc, test_close_drains_the_queue);
	tcase_add_test(tc, test_close_gives_up_on_a_stuck_file);
	tcase_add_test(tc, test_fifo_without_reader_waits_in_the_thread);
	tcase_add_test(tc, test_refuses_what_is_not_a_file);
	tcase_add_test(tc, test_queue_size_and_path);
	suite_add_tcase(su, tc);
	return su;
}
