/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_console_log.c - the console log module on its own: byte-exact
 * files, timestamps at line starts only, reopen after a rotation (in the
 * queue's order), a stalled file that never stalls the caller and whose
 * losses are logged at once, write errors, files that cannot be opened
 * (retried), links and files planted by another user, the drain at close,
 * and asciicast recordings checked by Python's JSON reader.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <grp.h>
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

static struct console_log *open_cfg(const struct console_log_config *cfg)
{
	struct console_log *cl = console_log_open(cfg, errbuf, sizeof(errbuf));

	ck_assert_msg(cl != NULL, "console_log_open: %s", errbuf);
	return cl;
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

	return open_cfg(&cfg);
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
		if (st.taken == st.queued)
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
			if (st.queued - st.taken + batch + CONSOLE_LOG_RECORD +
				    CONSOLE_LOG_RESERVE <=
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

/* What the daemon's log has so far, while still capturing it. */
static char *read_all_stderr(void)
{
	char file[160];
	size_t len;

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
	/* What was queued before the reopen is the old file's, all of it. */
	ck_assert_uint_eq(alen, half);
	ck_assert_uint_eq(blen, len - half);
	ck_assert_msg(memcmp(a, data, alen) == 0, "the old file differs");
	ck_assert_msg(memcmp(b, data + alen, blen) == 0,
		      "the new file differs");
	free(a);
	free(b);
	free(data);
}
END_TEST

/*
 * fail_a_reopen() - "one\n" in the file, which is then moved to @old and
 * replaced by a directory; returns once the reopen has failed
 */
static void fail_a_reopen(struct console_log *cl, char *old, size_t oldlen)
{
	struct console_log_stats st;
	long until = now_ms() + 5000;

	snprintf(old, oldlen, "%s.1", path);
	append_str(cl, "one\n");
	ck_assert_int_eq(rename(path, old), 0);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	console_log_reopen(cl);
	do {
		ck_assert(now_ms() < until);
		sleep_ms(1);
		console_log_stats(cl, &st);
	} while (st.reopen_errors == 0);
}

START_TEST(test_failed_reopen_keeps_the_old_file)
{
	struct console_log *cl = open_log(path, false, 0, 0);
	char old[160];
	char *text;
	size_t len;
	int saved;

	fail_a_reopen(cl, old, sizeof(old));
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

/* The sum of N over the daemon's "N bytes of console output dropped". */
static uint64_t reported_drops(const char *text)
{
	static const char tail[] =
		" bytes of console output dropped: the log file could not keep up";
	uint64_t sum = 0;

	for (const char *p = strstr(text, tail); p; p = strstr(p + 1, tail)) {
		const char *d = p;

		while (d > text && d[-1] >= '0' && d[-1] <= '9')
			d--;
		sum += strtoull(d, NULL, 10);
	}
	return sum;
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
	size_t kept;
	size_t at;
	long t0;
	long slowest = 0;
	long total;
	char *text;
	int saved;

	/* The first record (the file's start) is taken: the queue is empty. */
	wait_drained(cl);
	saved = capture_start();
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
	kept = 1000000 - st.dropped_queue;
	/* Full but for the reserve, less a record header per append. */
	ck_assert_uint_le(st.queued - st.taken, queue - CONSOLE_LOG_RESERVE);
	ck_assert_uint_eq(st.queued - st.taken,
			  kept + (kept + 99) / 100 * CONSOLE_LOG_RECORD);
	ck_assert_uint_ge(st.queued - st.taken, queue - CONSOLE_LOG_RESERVE -
							100 -
							CONSOLE_LOG_RECORD);
	/* The loss is in the daemon's log already: nobody polled, and the
	 * writer is stuck. */
	text = read_all_stderr();
	ck_assert_msg(reported_drops(text) > 0, "log: %s", text);
	free(text);

	/* The reader resumes: the queue drains, then later output comes
	 * after the marker line. */
	ck_assert_int_eq(fcntl(rfd, F_SETFL, O_RDONLY), 0);
	ck_assert_int_eq(pthread_create(&r.thread, NULL, reader_main, &r), 0);
	wait_drained(cl);
	console_log_poll(cl);
	append_str(cl, "AFTER\n");
	console_log_close(cl);
	text = capture_end(saved);
	ck_assert_int_eq(pthread_join(r.thread, NULL), 0);
	close(rfd);
	ck_assert_msg(reported_drops(text) == 1000000 - kept, "log: %s", text);
	free(text);

	snprintf(marker, sizeof(marker), "%s" DROP_LINE_FMT "AFTER\n",
		 data[kept - 1] == '\n' ? "" : "\n",
		 (unsigned long long)(1000000 - kept));
	ck_assert_uint_eq(r.len, prefill + kept + strlen(marker));
	/* One assertion, not one a byte: each one is a message to Check. */
	for (at = 0; at < prefill && r.buf[at] == 'P'; at++)
		;
	ck_assert_uint_eq(at, prefill);
	ck_assert_msg(memcmp(r.buf + at, data, kept) == 0,
		      "queued output differs");
	at += kept;
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
	struct console_log_stats st;
	struct reader r = {.fd = rfd};
	char want[8192];
	char line[100];
	time_t t0 = time(NULL);
	size_t kept;
	size_t len;
	int stamps = 0;
	int lines;
	char *text;
	int saved;
	int n;

	/* Lines of 60 bytes and a half line into a queue of 4096: what
	 * fits, a record header each, is kept, the rest dropped. */
	wait_drained(cl);
	saved = capture_start();
	memset(line, 'x', 59);
	line[59] = '\n';
	for (int i = 0; i < 100; i++)
		console_log_append(cl, &(struct iovec){line, 60}, 1, 0);
	console_log_append(cl, &(struct iovec){line, 30}, 1, 0);
	console_log_stats(cl, &st);
	kept = 6030 - st.dropped_queue;
	lines = (int)(kept / 60);
	ck_assert_int_gt(lines, 30);
	want[0] = '\0';
	for (int i = 0; i < lines; i++)
		strcat(want,
		       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
	len = strlen(want);
	memset(want + len, 'x', kept % 60);
	len += kept % 60;
	/* The marker after a cut line starts a line of its own. */
	n = snprintf(want + len, sizeof(want) - len,
		     "%s" DROP_LINE_FMT "AFTER\n", kept % 60 ? "\n" : "",
		     (unsigned long long)st.dropped_queue);
	ck_assert_int_gt(n, 0);
	len += (size_t)n;

	ck_assert_int_eq(fcntl(rfd, F_SETFL, O_RDONLY), 0);
	ck_assert_int_eq(pthread_create(&r.thread, NULL, reader_main, &r), 0);
	wait_drained(cl);
	append_str(cl, "AFTER\n");
	console_log_close(cl);
	text = capture_end(saved);
	ck_assert_msg(reported_drops(text) == st.dropped_queue, "log: %s",
		      text);
	free(text);
	ck_assert_int_eq(pthread_join(r.thread, NULL), 0);
	close(rfd);
	ck_assert_uint_ge(r.len, prefill);
	r.buf[r.len] = '\0';
	ck_assert_uint_eq(strip_stamps(r.buf + prefill, r.len - prefill, t0,
				       &stamps),
			  len);
	ck_assert_str_eq(r.buf + prefill, want);
	/* The kept lines (and the cut one), the marker's and AFTER's. */
	ck_assert_int_eq(stamps, lines + (kept % 60 ? 1 : 0) + 2);
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

/*
 * past_the_limit() - 600 a's, then 600 b's, with the file limited to 1000
 * bytes (RLIMIT_FSIZE): the b's meet a write error. The limit holds for
 * Check's own files too, so no assertion (each one a message to Check)
 * until it is lifted. Return: the saved stderr (capture_start()).
 */
static int past_the_limit(struct console_log *cl, const char *a, const char *b)
{
	struct rlimit lim = {1000, RLIM_INFINITY};
	int saved = capture_start();
	bool ok = setrlimit(RLIMIT_FSIZE, &lim) == 0;

	console_log_append(cl, &(struct iovec){(void *)a, 600}, 1, 0);
	ok = drained(cl) && ok;
	console_log_append(cl, &(struct iovec){(void *)b, 600}, 1, 0);
	ok = drained(cl) && ok;
	lim.rlim_cur = RLIM_INFINITY;
	ok = setrlimit(RLIMIT_FSIZE, &lim) == 0 && ok;
	ck_assert(ok);
	return saved;
}

START_TEST(test_write_error_ends_with_a_marker_line)
{
	struct console_log *cl = open_log(path, false, 0, 0);
	struct console_log_stats st;
	char want[1400];
	char a[600];
	char b[600];
	char *text;
	size_t len;
	int saved;

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	/* 600 a, 400 b, and 200 b fail. */
	saved = past_the_limit(cl, a, b);
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

/* Output queued before a reopen goes to the old file, all of it, however
 * far behind the writer is: here it is stuck in a FIFO's write with more
 * output queued behind, when the file is moved and the reopen asked. */
START_TEST(test_reopen_comes_after_what_was_queued)
{
	size_t piece = 256 * 1024;
	uint8_t *data = make_data(piece);
	struct reader r = {0};
	struct iovec iov = {data, piece};
	struct console_log *cl;
	char old[160];
	size_t len;
	char *text;
	int avail = 0;
	int cap;
	long until = now_ms() + 5000;

	snprintf(old, sizeof(old), "%s.1", path);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	r.fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ck_assert_int_ge(r.fd, 0);
	cap = fcntl(r.fd, F_GETPIPE_SZ);
	cl = open_log(path, false, 0, 0);
	console_log_append(cl, &iov, 1, 0);
	/* The pipe is full: the writer is in write(2) with the first piece. */
	while (avail < cap) {
		ck_assert_msg(now_ms() < until,
			      "the writer did not fill the pipe");
		sleep_ms(1);
		ck_assert_int_eq(ioctl(r.fd, FIONREAD, &avail), 0);
	}
	console_log_append(cl, &iov, 1, 0);
	ck_assert_int_eq(rename(path, old), 0);
	console_log_reopen(cl);
	append_str(cl, "after\n");
	ck_assert_int_eq(fcntl(r.fd, F_SETFL, O_RDONLY), 0);
	ck_assert_int_eq(pthread_create(&r.thread, NULL, reader_main, &r), 0);
	console_log_close(cl);
	ck_assert_int_eq(pthread_join(r.thread, NULL), 0);
	close(r.fd);
	ck_assert_uint_eq(r.len, 2 * piece);
	ck_assert(memcmp(r.buf, data, piece) == 0 &&
		  memcmp(r.buf + piece, data, piece) == 0);
	text = read_all(path, &len);
	ck_assert_str_eq(text, "after\n");
	free(text);
	free(r.buf);
	free(data);
}
END_TEST

/* Run tests/asciicast-check.py on @file. Return: its stdout (the "o"
 * events' text, or with @summary the sizes); *ok: it found no fault. */
static char *cast_check(const char *file, bool summary, size_t *len, bool *ok)
{
	char cmd[512];
	char *out = malloc(1 << 20);
	FILE *p;
	int status;

	ck_assert_ptr_nonnull(out);
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 '%s/tests/asciicast-check.py' %s '%s'",
		 srcdir(), summary ? "--summary" : "", file);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	*len = fread(out, 1, (1 << 20) - 1, p);
	out[*len] = '\0';
	status = pclose(p);
	*ok = status == 0;
	return out;
}

static char *cast_text(const char *file, size_t *len)
{
	bool ok;
	char *out = cast_check(file, false, len, &ok);

	ck_assert_msg(ok, "%s is not a valid recording (stderr above)", file);
	return out;
}

static struct console_log *open_cast(const char *p, unsigned int cols,
				     unsigned int rows)
{
	struct console_log_config cfg = {
		.path = p,
		.format = CONSOLE_LOG_ASCIICAST,
		.cols = cols,
		.rows = rows,
	};

	return open_cfg(&cfg);
}

/* The nth (from 0) line of @text, in @out. */
static void nth_line(const char *text, int n, char *out, size_t len)
{
	const char *p = text;
	const char *e;

	for (; n > 0 && p; n--) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	ck_assert_ptr_nonnull(p);
	e = strchr(p, '\n');
	ck_assert_ptr_nonnull(e);
	snprintf(out, len, "%.*s", (int)(e - p), p);
}

START_TEST(test_asciicast_header_events_and_resize)
{
	struct console_log *cl = open_cast(path, 100, 30);
	time_t t0 = time(NULL);
	char line[256];
	long long stamp = 0;
	double t1 = -1;
	double t2 = -1;
	size_t len;
	char *text;

	append_str(cl, "hello \"you\"\\\r\n\x1b[1m");
	wait_drained(cl);
	sleep_ms(30); /* a time that shows between two events */
	console_log_resize(cl, 120, 40);
	console_log_resize(cl, 120, 40); /* no change: no event */
	append_str(cl, "x");
	console_log_close(cl);

	text = read_all(path, &len);
	nth_line(text, 0, line, sizeof(line));
	ck_assert_msg(
		sscanf(line,
		       "{\"version\": 2, \"width\": 100, \"height\": 30, \"timestamp\": %lld}",
		       &stamp) == 1,
		"header: %s", line);
	ck_assert_int_ge(stamp, t0 - 1);
	ck_assert_int_le(stamp, time(NULL) + 1);
	nth_line(text, 1, line, sizeof(line));
	ck_assert_msg(sscanf(line, "[%lf, ", &t1) == 1, "event: %s", line);
	ck_assert_str_eq(strchr(line, ','),
			 ", \"o\", \"hello \\\"you\\\"\\\\\\r\\n\\u001b[1m\"]");
	nth_line(text, 2, line, sizeof(line));
	ck_assert_msg(sscanf(line, "[%lf, ", &t2) == 1, "event: %s", line);
	ck_assert_str_eq(strchr(line, ','), ", \"r\", \"120x40\"]");
	/* Milliseconds, from the header's time; the resize came later. */
	ck_assert(strchr(line, '.') &&
		  strchr(line, ',') - strchr(line, '.') == 4);
	ck_assert(t1 >= 0 && t1 < 5 && t2 >= t1 + 0.02);
	nth_line(text, 3, line, sizeof(line));
	ck_assert_str_eq(strchr(line, ','), ", \"o\", \"x\"]");
	ck_assert_int_eq(count_lines_with(text, "\n"), 4);
	free(text);

	text = cast_check(path, true, &len, &(bool){false});
	ck_assert_str_eq(text, "100x30\n120x40\n");
	free(text);
	text = cast_text(path, &len);
	ck_assert_str_eq(text, "hello \"you\"\\\r\n\x1b[1mx");
	free(text);
}
END_TEST

/* Sequences cut between appends come out whole, in the later event. */
START_TEST(test_asciicast_utf8_split_across_appends)
{
	static const char *const pieces[] = {
		"caf\xc3", "\xa9 ", "\xe2", "\x82\xac",	    " \xf0",
		"\x9f",	   "\x98",  "\x80", "\xf0\x9f\x98", "\x81\n",
	};
	struct console_log *cl = open_cast(path, 80, 24);
	struct console_log_stats st;
	size_t len;
	char *text;

	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++)
		append_str(cl, pieces[i]);
	wait_drained(cl);
	console_log_stats(cl, &st);
	console_log_close(cl);
	ck_assert_uint_eq(st.not_utf8, 0);
	text = cast_text(path, &len);
	ck_assert_str_eq(
		text,
		"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\xf0\x9f\x98\x81\n");
	free(text);
}
END_TEST

#define FFFD "\xef\xbf\xbd"

/* Each byte that is not well-formed UTF-8 is one U+FFFD, counted and
 * logged; a sequence still held at close is such bytes too. */
START_TEST(test_asciicast_invalid_bytes_are_replacement_characters)
{
	/* 0xff; an overlong NUL; a surrogate; past U+10FFFF; a lone
	 * continuation; a sequence a letter cuts; controls, quote,
	 * backslash, DEL; and a sequence the close cuts. */
	static const char in[] = "a\xff"
				 "b\xc0\x80"
				 "c\xed\xa0\x80"
				 "d\xf4\x90\x80\x80"
				 "e\x80"
				 "f\xe2\x82"
				 "A\x01\x1b\"\\\x7f\xf0\x9f";
	static const char want[] = "a" FFFD "b" FFFD FFFD "c" FFFD FFFD FFFD
				   "d" FFFD FFFD FFFD FFFD "e" FFFD
				   "f" FFFD FFFD "A\x01\x1b\"\\\x7f" FFFD FFFD;
	struct console_log *cl = open_cast(path, 80, 24);
	struct iovec iov = {(void *)in, sizeof(in) - 1};
	struct console_log_stats st;
	size_t len;
	char *text;
	int saved;

	console_log_append(cl, &iov, 1, 0);
	wait_drained(cl);
	saved = capture_start();
	console_log_stats(cl, &st);
	console_log_close(cl);
	text = capture_end(saved);
	/* 13 while open; the 2 held ones at close. */
	ck_assert_uint_eq(st.not_utf8, 13);
	ck_assert_msg(
		count_lines_with(
			text,
			": 15 bytes of console output were not UTF-8; the recording has U+FFFD for each") ==
			1,
		"log: %s", text);
	free(text);
	text = cast_text(path, &len);
	ck_assert_uint_eq(len, sizeof(want) - 1);
	ck_assert(memcmp(text, want, len) == 0);
	free(text);
}
END_TEST

/* Whatever the guest writes, in whatever pieces: valid JSON lines, and
 * the text is the input where the input was UTF-8. */
START_TEST(test_asciicast_is_valid_json_for_any_bytes)
{
	size_t len = 200 * 1000;
	uint8_t *data = make_data(len);
	struct console_log *cl = open_cast(path, 80, 24);
	size_t got_len;
	char *got;

	/* Some valid multi-byte text among the random bytes. */
	for (size_t i = 0; i + 4 < len; i += 997)
		memcpy(data + i, "\xe2\x82\xac", 3);
	append_randomly(cl, data, len, CONSOLE_LOG_QUEUE_DEFAULT);
	console_log_close(cl);
	got = cast_text(path, &got_len);
	ck_assert_uint_ge(got_len, len / 2);
	ck_assert_ptr_nonnull(memmem(got, got_len, "\xe2\x82\xac", 3));
	free(got);
	free(data);
}
END_TEST

/* SIGUSR1: a new file, with its own header; the old one ends whole. */
START_TEST(test_asciicast_reopen_starts_a_file_with_its_header)
{
	struct console_log *cl = open_cast(path, 90, 20);
	char old[160];
	size_t len;
	char *text;

	snprintf(old, sizeof(old), "%s.1", path);
	append_str(cl, "one \xe2\x82");
	ck_assert_int_eq(rename(path, old), 0);
	console_log_reopen(cl);
	console_log_resize(cl, 91, 21);
	append_str(cl, "two");
	console_log_close(cl);
	text = cast_text(old, &len);
	ck_assert_str_eq(text, "one " FFFD FFFD);
	free(text);
	text = cast_text(path, &len);
	ck_assert_str_eq(text, "two");
	free(text);
	text = cast_check(path, true, &len, &(bool){false});
	ck_assert_str_eq(text, "90x20\n91x21\n");
	free(text);
}
END_TEST

/* Wait until @cl has carried out @n reopens. */
static void wait_reopens(struct console_log *cl, uint64_t n)
{
	struct console_log_stats st;
	long until = now_ms() + 10000;

	do {
		ck_assert_msg(now_ms() < until, "no reopen");
		sleep_ms(5);
		console_log_stats(cl, &st);
	} while (st.reopens < n);
}

/* A log that cannot be opened (its directory is gone) is retried, not an
 * error of the open: output is dropped and counted until the file can be
 * made, then the file says what was lost. */
START_TEST(test_file_that_cannot_be_opened_is_retried)
{
	struct console_log_config cfg = {.retry = true};
	char sub[128];
	char file[160];
	struct console_log *cl;
	char *text;
	size_t len;
	int saved;

	snprintf(sub, sizeof(sub), "%s/gone", dir);
	snprintf(file, sizeof(file), "%s/log", sub);
	cfg.path = file;
	saved = capture_start();
	cl = open_cfg(&cfg);
	append_str(cl, "lost\n");
	wait_drained(cl);
	console_log_poll(cl);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	wait_reopens(cl, 1);
	append_str(cl, "kept\n");
	console_log_close(cl);
	text = capture_end(saved);
	ck_assert_msg(
		count_lines_with(
			text,
			"cannot open it (No such file or directory); the console goes on without its log; trying again, and at SIGUSR1") ==
			1,
		"log: %s", text);
	ck_assert_msg(count_lines_with(text, "cannot write it") == 0, "log: %s",
		      text);
	ck_assert_msg(count_lines_with(text, "log: reopened") == 1, "log: %s",
		      text);
	ck_assert_msg(count_lines_with(
			      text,
			      "writing again; 5 bytes of the log were dropped") ==
			      1,
		      "log: %s", text);
	free(text);
	text = read_all(file, &len);
	ck_assert_str_eq(
		text,
		"[vhost-device-console: 5 bytes of the console log dropped: cannot open the log file: No such file or directory]\nkept\n");
	free(text);
	remove_tree(sub);
}
END_TEST

/* Without retry (a worker's first start) the same is an error at once. */
START_TEST(test_file_that_cannot_be_opened_fails_the_first_open)
{
	struct console_log_config cfg = {0};
	char file[160];

	snprintf(file, sizeof(file), "%s/gone/log", dir);
	cfg.path = file;
	ck_assert_ptr_null(console_log_open(&cfg, errbuf, sizeof(errbuf)));
	ck_assert_msg(strstr(errbuf, "cannot open the console log") &&
			      strstr(errbuf, "No such file or directory"),
		      "err: %s", errbuf);
}
END_TEST

/* A failed reopen is tried again by the timer: the new file comes once
 * the path can be opened, with no second request. */
START_TEST(test_failed_reopen_is_retried)
{
	struct console_log *cl = open_log(path, false, 0, 0);
	char old[160];
	char *text;
	size_t len;

	fail_a_reopen(cl, old, sizeof(old));
	append_str(cl, "two\n");
	wait_drained(cl);
	ck_assert_int_eq(rmdir(path), 0);
	wait_reopens(cl, 1);
	append_str(cl, "three\n");
	console_log_close(cl);
	text = read_all(old, &len);
	ck_assert_str_eq(text, "one\ntwo\n");
	free(text);
	text = read_all(path, &len);
	ck_assert_str_eq(text, "three\n");
	free(text);
}
END_TEST

/* Run @fn(@arg) in a child as uid and gid 65534, no groups. Return:
 * whether it returned true. */
static bool as_nobody(bool (*fn)(const void *), const void *arg)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(2);
		_exit(fn(arg) ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Move the log away and put a link to @arg where it was. */
static bool plant_link(const void *arg)
{
	char moved[160];

	snprintf(moved, sizeof(moved), "%s.1", path);
	return rename(path, moved) == 0 && symlink(arg, path) == 0;
}

/* A file of the attacker's own, world-readable, where the log goes. */
static bool plant_file(const void *arg)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666);

	(void)arg;
	if (fd < 0)
		return false;
	fchmod(fd, 0666);
	close(fd);
	return true;
}

/* The log's directory belongs to another user (uid 65534), who plants a
 * link to a file of root's where the log was: the reopen refuses it,
 * writes on to the file it had, and the target is untouched. */
START_TEST(test_reopen_does_not_follow_a_planted_link)
{
	char target[160];
	char moved[160];
	struct console_log *cl;
	struct console_log_stats st;
	char *text;
	size_t len;
	int saved;
	int fd;
	long until = now_ms() + 5000;

	snprintf(target, sizeof(target), "%s/../%s-target", dir,
		 strrchr(dir, '/') + 1);
	snprintf(moved, sizeof(moved), "%s.1", path);
	fd = open(target, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "root's\n", 7), 7);
	close(fd);
	ck_assert_int_eq(chown(dir, 65534, 65534), 0);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	cl = open_log(path, false, 0, 0);
	append_str(cl, "one\n");
	wait_drained(cl);
	ck_assert(as_nobody(plant_link, target));
	saved = capture_start();
	console_log_reopen(cl);
	do {
		ck_assert(now_ms() < until);
		sleep_ms(1);
		console_log_stats(cl, &st);
	} while (st.reopen_errors == 0);
	append_str(cl, "two\n");
	console_log_poll(cl);
	console_log_close(cl);
	text = capture_end(saved);
	ck_assert_msg(
		count_lines_with(
			text,
			"cannot reopen it (a symbolic link, which the console log never follows)") ==
			1,
		"log: %s", text);
	free(text);
	text = read_all(target, &len);
	ck_assert_str_eq(text, "root's\n");
	free(text);
	text = read_all(moved, &len);
	ck_assert_str_eq(text, "one\ntwo\n");
	free(text);
	unlink(target);
}
END_TEST

/* A file another user made where the log goes, to read it: refused. */
START_TEST(test_file_of_another_user_is_refused)
{
	struct console_log_config cfg = {.path = path};

	ck_assert_int_eq(chown(dir, 65534, 65534), 0);
	ck_assert(as_nobody(plant_file, NULL));
	ck_assert_ptr_null(console_log_open(&cfg, errbuf, sizeof(errbuf)));
	ck_assert_msg(strstr(errbuf, "it belongs to another user"), "err: %s",
		      errbuf);
}
END_TEST

/* A write error in the middle of an asciicast line: the part written is
 * cut off, and the file says what was lost in an event of its own; every
 * line stays what a JSON reader takes. */
START_TEST(test_asciicast_write_error_leaves_whole_lines)
{
	struct console_log *cl = open_cast(path, 80, 24);
	char a[600];
	char b[600];
	char want[800];
	char *text;
	size_t len;
	int saved;

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	/* Header and a's line fit in 1000 bytes, b's line does not. */
	saved = past_the_limit(cl, a, b);
	append_str(cl, "c");
	console_log_close(cl);
	text = capture_end(saved);
	ck_assert_msg(count_lines_with(text,
				       "cannot write it (File too large)") == 1,
		      "log: %s", text);
	free(text);
	text = cast_text(path, &len);
	ck_assert_uint_gt(len, sizeof(a));
	ck_assert(memcmp(text, a, sizeof(a)) == 0);
	snprintf(want, sizeof(want), "%s", text + sizeof(a));
	ck_assert_msg(
		strncmp(want, "\r\n[vhost-device-console: ", 25) == 0 &&
			strstr(want,
			       " bytes of the console log dropped: cannot write the log file: File too large]\r\nc"),
		"after the a's: %s", want);
	free(text);
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
	tcase_add_test(tc, test_reopen_comes_after_what_was_queued);
	tcase_add_test(tc, test_asciicast_header_events_and_resize);
	tcase_add_test(tc, test_asciicast_utf8_split_across_appends);
	tcase_add_test(tc,
		       test_asciicast_invalid_bytes_are_replacement_characters);
	tcase_add_test(tc, test_asciicast_is_valid_json_for_any_bytes);
	tcase_add_test(tc, test_asciicast_reopen_starts_a_file_with_its_header);
	tcase_add_test(tc, test_file_that_cannot_be_opened_is_retried);
	tcase_add_test(tc,
		       test_file_that_cannot_be_opened_fails_the_first_open);
	tcase_add_test(tc, test_failed_reopen_is_retried);
	tcase_add_test(tc, test_asciicast_write_error_leaves_whole_lines);
	suite_add_tcase(su, tc);
	return su;
}

/* Files another user (uid 65534) planted: root to become that user, so
 * not in `make check-unit`. */
Suite *console_log_uid_suite(void)
{
	Suite *su = suite_create("console_log_uid");
	TCase *tc = tcase_create("uid");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_reopen_does_not_follow_a_planted_link);
	tcase_add_test(tc, test_file_of_another_user_is_refused);
	suite_add_tcase(su, tc);
	return su;
}
