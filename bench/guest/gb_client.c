/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * gb_client.c - vdc-gb-client: the console client of `make bench-guest`.
 *
 * Sits on the host side of one guest's console (the daemon's uds console,
 * or the socket QEMU's own virtconsole chardev connects to), waits for the
 * guest's "GB-READY" line, then types to the guest's shell on hvc0 and
 * times, with CLOCK_MONOTONIC on this side:
 *
 *   cmd   a line "echo GB-C<n>" + Enter, until its output line comes
 *         back (ms)
 *   cmd_answered  the same, but this client answers the line editor's
 *         cursor position query (ESC [ 6 n after each prompt) as a
 *         terminal would (--answered-cmds)
 *   cmd_plain  the same command typed to a `while read` loop in the
 *         same shell: the kernel's canonical mode echoes and collects the
 *         line; no line editing, prompt, history or job control
 *         (--plain-cmds; for finding out whose time a round trip is)
 *   echo  one byte to a guest running `dd bs=1` on its raw tty, until the
 *         byte comes back (us); the first few are warm-up, not reported
 *   g2h   the guest's `dd` of an 8 MiB file to its raw tty: first byte to
 *         last byte received (MB/s)
 *   h2g   1 MiB typed to `head -c` on the guest's raw tty: first byte
 *         sent until the guest's line saying it has them all (MB/s);
 *         the guest's md5 of what it read is checked afterwards
 *
 * Each sample is one line on stdout, "METRIC VALUE". Typed lines use
 * $((n+1)) so that the shell's echo of a line never matches its output.
 * Progress and errors on stderr; exit status 1 on any error or timeout.
 *
 *     vdc-gb-client (--connect=PATH | --listen=PATH) [--cmds=N]
 *                   [--echoes=N] [--g2h=N] [--g2h-bytes=B] [--h2g=N]
 *                   [--h2g-file=FILE --h2g-md5=HEX] [--timeout=S]
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define RX_CAP	    (1u << 20)
#define READ_SIZE   (256u << 10)
#define WRITE_SIZE  (64u << 10)
#define ECHO_WARMUP 5
#define PROMPT	    "gb$ "
/*
 * The cursor report sent back: row 9, column 5 (just after the prompt).
 * Not row 1: busybox's read_key() first matches "ESC [ 1 ; 5" against its
 * Ctrl+arrow keys, and a report read that way is never recognised. Typed
 * input must not follow a report within read_key()'s 50 ms wait for more
 * bytes, or it is swallowed with it; a person types later than that.
 */
#define CURSOR_REPORT "\033[9;5R"
#define ANSWER_GAP_US 100000

struct gb {
	int fd;
	char *rx; /* received, not yet consumed */
	size_t len;
	uint64_t last_read_ns; /* when the last read returned */
	uint64_t deadline_ns; /* of the step under way */
	const char *step; /* its name, for errors */
	size_t progress; /* bytes of a transfer so far, for errors */
	unsigned int mark;
	double timeout_s;
	/* options */
	unsigned int cmds, answered_cmds, plain_cmds, echoes, g2h, h2g;
	size_t g2h_bytes;
	const char *h2g_file, *h2g_md5;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(struct gb *g, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vdc-gb-client: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (g && g->len) {
		size_t n = g->len < 300 ? g->len : 300;

		fprintf(stderr, "vdc-gb-client: last bytes received: ");
		for (size_t i = g->len - n; i < g->len; i++) {
			unsigned char c = (unsigned char)g->rx[i];

			fputc(c >= 32 && c < 127 ? c : '.', stderr);
		}
		fprintf(stderr, "\n");
	}
	exit(1);
}

static void step_begin(struct gb *g, const char *name)
{
	g->step = name;
	g->progress = 0;
	g->deadline_ns = now_ns() + (uint64_t)(g->timeout_s * 1e9);
}

/* Read what is there, waiting up to the step's deadline; room is made by
 * the callers consuming. */
static void fill(struct gb *g)
{
	struct pollfd p = {.fd = g->fd, .events = POLLIN};
	uint64_t t = now_ns();
	ssize_t n;

	if (t >= g->deadline_ns)
		die(g, "%s: timed out after %.0f s (%zu bytes of the transfer)",
		    g->step, g->timeout_s, g->progress);
	if (poll(&p, 1, (int)((g->deadline_ns - t) / 1000000 + 1)) < 0 &&
	    errno != EINTR)
		die(g, "poll: %s", strerror(errno));
	if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	if (g->len == RX_CAP)
		die(g, "receive buffer full");
	n = read(g->fd, g->rx + g->len,
		 RX_CAP - g->len < READ_SIZE ? RX_CAP - g->len : READ_SIZE);
	g->last_read_ns = now_ns();
	if (n == 0)
		die(g, "the console closed");
	if (n < 0 && errno != EINTR && errno != EAGAIN)
		die(g, "read: %s", strerror(errno));
	if (n > 0)
		g->len += (size_t)n;
}

static void consume(struct gb *g, size_t n)
{
	memmove(g->rx, g->rx + n, g->len - n);
	g->len -= n;
}

/*
 * Wait for @pat in the stream and consume up to and including it.
 * Return: when the read that completed it returned.
 */
static uint64_t wait_for(struct gb *g, const char *pat)
{
	size_t k = strlen(pat);

	for (;;) {
		char *hit = memmem(g->rx, g->len, pat, k);

		if (hit) {
			consume(g, (size_t)(hit - g->rx) + k);
			return g->last_read_ns;
		}
		/* Keep a possible start of @pat; drop the rest. */
		if (g->len > k)
			consume(g, g->len - k);
		fill(g);
	}
}

static void send_all(struct gb *g, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(g->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die(g, "write: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
}

static void send_str(struct gb *g, const char *s)
{
	send_all(g, s, strlen(s));
}

/* A fresh marker: @out is what the guest prints, @in what is typed. */
static void mark(struct gb *g, const char *tag, char *out, char *in, size_t cap)
{
	g->mark++;
	snprintf(out, cap, "GB-%s%u", tag, g->mark + 100);
	snprintf(in, cap, "GB-%s$((%u+1))", tag, g->mark + 99);
}

static void sample(const char *metric, double v)
{
	printf("%s %.6g\n", metric, v);
	fflush(stdout);
}

/* Back at the prompt, with a cooked tty. */
static void sync_prompt(struct gb *g)
{
	char out[32], in[48], line[96];

	mark(g, "S", out, in, sizeof(out));
	snprintf(line, sizeof(line), "stty sane; echo %s\r", in);
	step_begin(g, "prompt");
	send_str(g, line);
	wait_for(g, out);
	wait_for(g, PROMPT);
}

/*
 * @answer: reply to the cursor position query busybox's line editor
 * sends after its prompt, as a terminal does. Unanswered, the editor
 * sleeps 20 ms after Enter for a late reply (lineedit.c,
 * FEATURE_EDITING_ASK_TERMINAL).
 */
static void run_cmds(struct gb *g, unsigned int n, bool answer)
{
	if (answer && n) {
		/* The query after the prompt we are at. */
		sync_prompt(g);
		step_begin(g, "command");
		wait_for(g, "\033[6n");
		send_str(g, CURSOR_REPORT);
		usleep(ANSWER_GAP_US);
	}
	for (unsigned int i = 0; i < n; i++) {
		char out[32], in[48], line[64];
		uint64_t t0, t1;

		mark(g, "C", out, in, sizeof(out));
		snprintf(line, sizeof(line), "echo %s\r", in);
		step_begin(g, "command");
		t0 = now_ns();
		send_str(g, line);
		t1 = wait_for(g, out);
		sample(answer ? "cmd_answered_ms" : "cmd_ms",
		       (double)(t1 - t0) / 1e6);
		wait_for(g, PROMPT);
		if (answer) {
			wait_for(g, "\033[6n");
			send_str(g, CURSOR_REPORT);
			usleep(ANSWER_GAP_US);
		}
	}
}

static void run_plain_cmds(struct gb *g)
{
	char out[32], in[48], line[128];

	if (!g->plain_cmds)
		return;
	mark(g, "L", out, in, sizeof(out));
	snprintf(line, sizeof(line),
		 "echo %s; while read -r l && [ \"$l\" != q ]; do eval \"$l\"; done\r",
		 in);
	step_begin(g, "plain command");
	send_str(g, line);
	wait_for(g, out);
	wait_for(g, "\n");
	for (unsigned int i = 0; i < g->plain_cmds; i++) {
		uint64_t t0, t1;

		mark(g, "P", out, in, sizeof(out));
		snprintf(line, sizeof(line), "echo %s\r", in);
		step_begin(g, "plain command");
		t0 = now_ns();
		send_str(g, line);
		t1 = wait_for(g, out);
		wait_for(g, "\n");
		sample("cmd_plain_ms", (double)(t1 - t0) / 1e6);
		/* Let the loop get back to its read. */
		usleep(20000);
	}
	send_str(g, "q\r");
	wait_for(g, PROMPT);
}

static void run_echo(struct gb *g)
{
	unsigned int n = g->echoes + ECHO_WARMUP;
	char out[32], in[48], line[128];

	if (!g->echoes)
		return;
	mark(g, "R", out, in, sizeof(out));
	snprintf(line, sizeof(line),
		 "stty raw -echo; echo %s; dd bs=1 count=%u 2>/dev/null; stty sane\r",
		 in, n);
	step_begin(g, "echo");
	send_str(g, line);
	wait_for(g, out);
	wait_for(g, "\n");
	for (unsigned int i = 0; i < n; i++) {
		uint64_t t0;

		step_begin(g, "echo");
		t0 = now_ns();
		send_str(g, "x");
		while (!memchr(g->rx, 'x', g->len))
			fill(g);
		consume(g,
			(size_t)((char *)memchr(g->rx, 'x', g->len) - g->rx) +
				1);
		if (i >= ECHO_WARMUP)
			sample("echo_us", (double)(g->last_read_ns - t0) / 1e3);
	}
	wait_for(g, PROMPT);
}

/*
 * The bytes before the end marker @end: the data may hold anything, but
 * an 8-byte marker in 8 MiB of random bytes is a 1 in 2^40 chance. A
 * console may drop output it cannot pass on (QEMU's virtconsole does when
 * the socket is full; the daemon past its output buffer), so the count is
 * not assumed. Times are of the reads that brought the first and the last
 * data byte.
 */
static size_t g2h_count(struct gb *g, const char *end, uint64_t *t_first,
			uint64_t *t_last)
{
	char tail[40];
	size_t k, got = 0;

	snprintf(tail, sizeof(tail), "%s\n", end);
	k = strlen(tail);
	for (;;) {
		char *hit = memmem(g->rx, g->len, tail, k);
		size_t data = hit ? (size_t)(hit - g->rx)
				  : (g->len > k ? g->len - k : 0);

		if (data) {
			if (!got)
				*t_first = g->last_read_ns;
			*t_last = g->last_read_ns;
			got += data;
			g->progress = got;
			consume(g, data);
		}
		if (hit) {
			consume(g, k);
			return got;
		}
		fill(g);
	}
}

static void run_g2h(struct gb *g)
{
	for (unsigned int i = 0; i < g->g2h; i++) {
		char b_out[32], b_in[48], e_out[32], e_in[48], line[192];
		uint64_t t_first = 0, t_last = 0;
		size_t got;

		mark(g, "B", b_out, b_in, sizeof(b_out));
		mark(g, "E", e_out, e_in, sizeof(e_out));
		snprintf(line, sizeof(line),
			 "stty raw -echo; echo %s; dd if=/tmp/bulk bs=65536 2>/dev/null; echo %s; stty sane\r",
			 b_in, e_in);
		step_begin(g, "guest -> host");
		send_str(g, line);
		wait_for(g, b_out);
		wait_for(g, "\n");
		got = g2h_count(g, e_out, &t_first, &t_last);
		wait_for(g, PROMPT);
		if (t_last > t_first)
			sample("g2h_MBps",
			       (double)got * 1e3 / (double)(t_last - t_first));
		sample("g2h_lost_pct",
		       100.0 * ((double)g->g2h_bytes - (double)got) /
			       (double)g->g2h_bytes);
	}
}

static char *read_file(struct gb *g, const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long sz;

	if (!f || fseek(f, 0, SEEK_END) < 0 || (sz = ftell(f)) <= 0)
		die(g, "%s: cannot read", path);
	rewind(f);
	buf = malloc((size_t)sz);
	if (!buf || fread(buf, 1, (size_t)sz, f) != (size_t)sz)
		die(g, "%s: cannot read", path);
	fclose(f);
	*n = (size_t)sz;
	return buf;
}

static void run_h2g(struct gb *g)
{
	size_t size = 0;
	char *data;

	if (!g->h2g)
		return;
	if (!g->h2g_file || !g->h2g_md5)
		die(g, "--h2g needs --h2g-file and --h2g-md5");
	data = read_file(g, g->h2g_file, &size);
	for (unsigned int i = 0; i < g->h2g; i++) {
		char r_out[32], r_in[48], d_out[32], d_in[48], line[256];
		uint64_t t0, t1;

		mark(g, "I", r_out, r_in, sizeof(r_out));
		mark(g, "J", d_out, d_in, sizeof(d_out));
		snprintf(line, sizeof(line),
			 "stty raw -echo; echo %s; head -c %zu >/tmp/in; echo %s; stty sane; md5sum </tmp/in\r",
			 r_in, size, d_in);
		step_begin(g, "host -> guest");
		send_str(g, line);
		wait_for(g, r_out);
		wait_for(g, "\n");
		t0 = now_ns();
		for (size_t off = 0; off < size; off += WRITE_SIZE)
			send_all(g, data + off,
				 size - off < WRITE_SIZE ? size - off
							 : WRITE_SIZE);
		t1 = wait_for(g, d_out);
		wait_for(g, g->h2g_md5);
		wait_for(g, PROMPT);
		sample("h2g_MBps", (double)size * 1e3 / (double)(t1 - t0));
	}
	free(data);
}

static int open_unix(const char *path, bool listen_mode, double timeout_s)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uint64_t deadline = now_ns() + (uint64_t)(timeout_s * 1e9);
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		die(NULL, "socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die(NULL, "socket: %s", strerror(errno));
	if (listen_mode) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int c;

		unlink(path);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    listen(fd, 1) < 0)
			die(NULL, "%s: %s", path, strerror(errno));
		/* Ready for the frontend to connect. */
		fprintf(stderr, "vdc-gb-client: listening on %s\n", path);
		if (poll(&p, 1, (int)(timeout_s * 1000)) <= 0)
			die(NULL, "%s: nobody connected", path);
		c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			die(NULL, "accept: %s", strerror(errno));
		close(fd);
		return c;
	}
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (now_ns() > deadline)
			die(NULL, "%s: %s", path, strerror(errno));
		usleep(20000);
	}
	return fd;
}

static unsigned long num(const char *opt, const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s || *end)
		die(NULL, "--%s: not a number: %s", opt, s);
	return v;
}

int main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{"connect", required_argument, NULL, 'c'},
		{"listen", required_argument, NULL, 'l'},
		{"cmds", required_argument, NULL, 'C'},
		{"echoes", required_argument, NULL, 'E'},
		{"plain-cmds", required_argument, NULL, 'P'},
		{"answered-cmds", required_argument, NULL, 'A'},
		{"g2h", required_argument, NULL, 'G'},
		{"g2h-bytes", required_argument, NULL, 'b'},
		{"h2g", required_argument, NULL, 'H'},
		{"h2g-file", required_argument, NULL, 'f'},
		{"h2g-md5", required_argument, NULL, 'm'},
		{"timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	static struct gb g = {
		.fd = -1,
		.g2h_bytes = 8u << 20,
		.timeout_s = 60,
	};
	const char *path = NULL;
	bool listen_mode = false;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
		case 'l':
			path = optarg;
			listen_mode = c == 'l';
			break;
		case 'C':
			g.cmds = (unsigned int)num("cmds", optarg);
			break;
		case 'A':
			g.answered_cmds =
				(unsigned int)num("answered-cmds", optarg);
			break;
		case 'P':
			g.plain_cmds = (unsigned int)num("plain-cmds", optarg);
			break;
		case 'E':
			g.echoes = (unsigned int)num("echoes", optarg);
			break;
		case 'G':
			g.g2h = (unsigned int)num("g2h", optarg);
			break;
		case 'b':
			g.g2h_bytes = num("g2h-bytes", optarg);
			break;
		case 'H':
			g.h2g = (unsigned int)num("h2g", optarg);
			break;
		case 'f':
			g.h2g_file = optarg;
			break;
		case 'm':
			g.h2g_md5 = optarg;
			break;
		case 't':
			g.timeout_s = (double)num("timeout", optarg);
			break;
		default:
			return 1;
		}
	}
	if (!path || !g.g2h_bytes)
		die(NULL,
		    "usage: vdc-gb-client (--connect=PATH | --listen=PATH) [--cmds=N] [--echoes=N] [--g2h=N] [--g2h-bytes=B] [--h2g=N --h2g-file=F --h2g-md5=HEX] [--timeout=S]");
	g.rx = malloc(RX_CAP);
	if (!g.rx)
		die(NULL, "out of memory");
	g.fd = open_unix(path, listen_mode, g.timeout_s * 3);
	/* The guest's boot can take a while under TCG. */
	g.deadline_ns = now_ns() + (uint64_t)(g.timeout_s * 3 * 1e9);
	g.step = "boot";
	wait_for(&g, "GB-READY");
	/* The shell reads from now on. */
	wait_for(&g, PROMPT);
	sync_prompt(&g);
	run_cmds(&g, g.cmds, false);
	run_cmds(&g, g.answered_cmds, true);
	run_plain_cmds(&g);
	run_echo(&g);
	sync_prompt(&g);
	run_g2h(&g);
	run_h2g(&g);
	sync_prompt(&g);
	/* Stay until the shell has read it (its echo comes back): bytes a
	 * client leaves behind as it hangs up need not reach the guest. */
	step_begin(&g, "exit");
	g.deadline_ns = now_ns() + 5000000000ull;
	send_str(&g, "exit\r");
	wait_for(&g, "exit");
	close(g.fd);
	return 0;
}
