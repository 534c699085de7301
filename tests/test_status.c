/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_status.c - what the daemon says about its guests: `status` and
 * `status --json` against a daemon with a test frontend, a writer and a
 * watcher that fell behind; --metrics-port checked by promtool and
 * moving when the guest writes; both doors refusing another uid and
 * surviving hostile clients; and the seqlock under a writer killed in the
 * middle of its updates.
 */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "as_user.h"
#include "daemon_shm.h"
#include "ctl_proto.h"
#include "guest_stats.h"
#include "options.h"
#include "status_report.h"
#include "status_server.h"
#include "version.h"
#include "session.h"
#include "suites.h"

#define METRICS_PORT 23790
#define CTL_LINE_MAX_TEST 2048 /* past the daemon's limit (1024) */

static struct session s;
static struct fe fe;
static char prefix[96]; /* --socket-path */
static char ctl_path[128];

static void setup(void)
{
	static const char *const extra[] = {"--max-clients=3",
					    "--output-buffer=64K",
					    "--metrics-port=23790", NULL};

	memset(&fe, 0, sizeof(fe));
	fe.sock = fe.memfd = fe.chan_fd = -1; /* not opened by every test */
	session_start(&s, extra);
	snprintf(prefix, sizeof(prefix), "%s/vu", s.dir);
	snprintf(ctl_path, sizeof(ctl_path), "%s/vu.ctl", s.dir);
	ck_assert(wait_for_socket(ctl_path, 5000));
}

static void teardown(void)
{
	fe_close(&fe);
	session_stop(&s);
}

/*
 * have() - is the real reader @what (promtool, Python) here? `make
 * check` installs them (tests/ensure-deps.sh); `make check-unit` may run
 * without: a check that needs one is then skipped, and says so.
 */
static bool have(const char *what, const char *cmd)
{
	if (system(cmd) == 0)
		return true;
	printf("SKIP: %s is not installed (make check installs it)\n", what);
	return false;
}

/* Becoming uid 65534 needs root (make check-unit may run without). */
static bool root(void)
{
	if (geteuid() == 0)
		return true;
	printf("SKIP: not root: no other uid to test as\n");
	return false;
}

#define HAVE_PYTHON() have("/usr/bin/python3", "test -x /usr/bin/python3")
#define HAVE_PROMTOOL()                                                         \
	have("promtool (package prometheus)",                                  \
	     "command -v promtool >/dev/null")

/* `vhost-device-console status -s PREFIX [--json]`, to its end. */
static void run_status(bool json, struct run_result *res)
{
	const char *args[] = {"status", "-s", prefix, json ? "--json" : NULL,
			      NULL};

	run_daemon(args, 10000, res);
}

/*
 * One value from `status --json`, read by Python's json module (a real
 * reader, not our own): @expr is a Python expression over `d`.
 */
static long long json_value(const char *expr)
{
	static struct run_result res;
	char path[160], cmd[512], out[64] = "";
	long long v = -1;
	FILE *f;

	run_status(true, &res);
	ck_assert_msg(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0,
		      "status --json: %#x %s", res.status, res.err);
	snprintf(path, sizeof(path), "%s/status.json", s.dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(res.out, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(int(eval(sys.argv[2])))' %s \"%s\"",
		 path, expr);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_msg(fgets(out, sizeof(out), f), "python3 read nothing of:\n%s",
		      res.out);
	ck_assert_int_eq(pclose(f), 0);
	ck_assert_int_eq(sscanf(out, "%lld", &v), 1);
	return v;
}

/* Everything @fd sends until it is quiet for @quiet_ms: the guest's bytes
 * (letters) counted, the daemon's notes of dropped bytes summed. */
static void drain(int fd, size_t *data, unsigned long long *noted,
		  int quiet_ms)
{
	static char buf[1 << 16];
	static char tail[256];
	size_t tail_len = 0;

	*data = 0;
	*noted = 0;
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t n;

		if (poll(&p, 1, quiet_ms) <= 0)
			break;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] >= 'a' && buf[i] <= 'z' && tail_len == 0) {
				(*data)++;
				continue;
			}
			/* A note: "\r\n[vhost-device-console: N bytes ...]\r\n" */
			if (tail_len < sizeof(tail) - 1)
				tail[tail_len++] = buf[i];
			if (buf[i] == ']') {
				const char *at;
				unsigned long long v;

				tail[tail_len] = '\0';
				at = strstr(tail, "console: ");
				ck_assert_ptr_nonnull(at);
				ck_assert_int_eq(sscanf(at + 9, "%llu", &v), 1);
				*noted += v;
			}
			if (buf[i] == '\n' && tail_len > 2 &&
			    strchr(tail, ']'))
				tail_len = 0;
		}
	}
}

START_TEST(test_status_shows_the_guest_its_clients_and_a_dropped_watcher)
{
	static struct run_result res;
	static uint8_t got[64 << 10];
	const size_t total = 1 << 20;
	unsigned long long noted;
	size_t data;
	char in[8];
	int lazy, small = 4096;
	long long dropped;

	if (!HAVE_PYTHON())
		return;
	session_console(&s, &fe, FE_STYLE_QEMU);
	session_client(&s);
	lazy = session_watcher(&s);
	setsockopt(lazy, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	/* The summary the supervisor keeps for systemd followed them. */
	ck_assert_msg(log_has(&s, "status: 1 of 1 guest attached, 2 clients",
			      5000),
		      "log:\n%s", daemon_log(&s.d));
	/* 1 MiB, 16 times the buffer: the writer reads along, the watcher
	 * reads nothing and falls behind. */
	for (size_t done = 0; done < total; done += sizeof(got)) {
		guest_writes_letters(&fe, sizeof(got), done);
		ck_assert(read_exact(s.client, got, sizeof(got), 5000));
	}
	write_all(s.client, "ls\r", 3);
	ck_assert_int_eq(fe_read_rx(&fe, in, sizeof(in), 3000), 3);

	ck_assert_int_eq(json_value("d['format']"), 1);
	ck_assert_int_eq(json_value("d['guests'][0]['attached']"), 1);
	ck_assert_int_eq(json_value("d['guests'][0]['console_open']"), 1);
	ck_assert_int_eq(json_value("len(d['guests'][0]['clients'])"), 2);
	ck_assert_int_eq(json_value("d['guests'][0]['clients'][0]['role'] == 'writer'"), 1);
	ck_assert_int_eq(json_value("d['guests'][0]['clients'][0]['uid']"), 0);
	ck_assert_int_eq(json_value("d['guests'][0]['clients'][1]['kind'] == 'unix'"), 1);
	ck_assert_int_eq(json_value("d['guests'][0]['clients'][0]['dropped_bytes']"), 0);
	ck_assert_int_eq(json_value("d['guests'][0]['bytes_out']"), (long long)total);
	ck_assert_int_eq(json_value("d['guests'][0]['bytes_in']"), 3);
	ck_assert_int_eq(json_value("d['guests'][0]['worker_restarts']"), 0);
	dropped = json_value("d['guests'][0]['clients'][1]['dropped_bytes']");
	ck_assert_int_gt(dropped, 0);
	ck_assert_int_eq(json_value("d['guests'][0]['dropped']['clients']"), dropped);
	ck_assert_int_eq(json_value("d['guests'][0]['dropped_bytes']"), dropped);

	/* What the watcher gets and what it is told it lost add up to all
	 * the guest wrote: the count is the one its notes give. */
	drain(lazy, &data, &noted, 1000);
	ck_assert_uint_eq(noted, (unsigned long long)dropped);
	ck_assert_uint_eq(data + noted, total);

	run_status(false, &res);
	ck_assert_msg(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0,
		      "%s", res.err);
	ck_assert_msg(strstr(res.out, "guest 0: attached since "), "%s", res.out);
	ck_assert_msg(strstr(res.out, "console open; 2 clients: writer unix uid 0 pid "),
		      "%s", res.out);
	snprintf((char *)got, sizeof(got), "(dropped %lld B); out %zu B, in 3 B, dropped %lld B (clients %lld, unattended 0, log 0); no log; restarts 0; version ",
		 dropped, total, dropped, dropped);
	ck_assert_msg(strstr(res.out, (char *)got), "want \"%s\" in\n%s",
		      (char *)got, res.out);
	close(lazy);
}
END_TEST

START_TEST(test_status_counts_a_restarted_worker_and_keeps_its_counters)
{
	pid_t old = s.worker;

	if (!HAVE_PYTHON())
		return;
	session_console(&s, &fe, FE_STYLE_QEMU);
	session_client(&s);
	tx_and_expect(&s, &fe, "hello", 5, 5, false);
	ck_assert_int_eq(json_value("d['guests'][0]['bytes_out']"), 5);
	fe_close(&fe);
	close(s.client);
	s.client = -1;
	kill(old, SIGKILL);
	s.worker = wait_for_child(s.d.pid, "vdc-worker-0", old, 10000);
	ck_assert(s.worker);
	ck_assert(log_has(&s, "restarting in", 5000));
	for (long end = now_ms() + 10000;
	     json_value("d['guests'][0]['worker_pid']") != s.worker;)
		ck_assert(now_ms() < end);
	ck_assert_int_eq(json_value("d['guests'][0]['worker_restarts']"), 1);
	ck_assert_int_eq(json_value("d['guests'][0]['attached']"), 0);
	ck_assert_int_eq(json_value("len(d['guests'][0]['clients'])"), 0);
	ck_assert_int_eq(json_value("d['guests'][0]['bytes_out']"), 5);
}
END_TEST

/* --- the doors: another uid, hostile clients --------------------------- */

/* Ask the control socket @q as the caller; the reply's first line. */
static bool ask_ctl(const char *q, char *line, size_t cap)
{
	int fd = connect_unix(ctl_path);
	size_t have = 0;

	if (fd < 0)
		return false;
	/* A refused client may find the socket closed: no SIGPIPE. */
	(void)send(fd, q, strlen(q), MSG_NOSIGNAL);
	while (have < cap - 1 && read_exact(fd, line + have, 1, 5000) &&
	       line[have] != '\n')
		have++;
	line[have] = '\0';
	close(fd);
	return have > 0;
}

static int tcp_connect(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(METRICS_PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* One HTTP exchange on the metrics port: the whole answer. */
static size_t http(const char *request, char *buf, size_t cap)
{
	int fd = tcp_connect();
	size_t have = 0;

	if (fd < 0)
		return 0;
	(void)send(fd, request, strlen(request), MSG_NOSIGNAL);
	while (have < cap - 1) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t n;

		if (poll(&p, 1, 5000) <= 0)
			break;
		n = read(fd, buf + have, cap - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
	close(fd);
	return have;
}

#define GET_METRICS                                                            \
	"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:23790\r\n\r\n"

START_TEST(test_another_uid_is_refused_by_the_control_socket_and_metrics)
{
	char line[256];
	pid_t pid;

	if (!root())
		return;
	session_console(&s, &fe, FE_STYLE_QEMU);
	/* The socket file is the owner's (0600), like the consoles'. */
	ck_assert_int_eq(chmod(s.dir, 0711), 0);
	pid = fork_as_user(NOBODY_UID, NOBODY_GID);
	if (pid == 0)
		_exit(connect_unix(ctl_path) < 0 && errno == EACCES ? 0 : 1);
	ck_assert_int_eq(wait_child_exit(pid, 5000), 0);
	/* A mode opened by mistake still lets no stranger in: the peer's
	 * uid is checked too. */
	ck_assert_int_eq(chmod(ctl_path, 0666), 0);
	pid = fork_as_user(NOBODY_UID, NOBODY_GID);
	if (pid == 0)
		_exit(ask_ctl("status\n", line, sizeof(line)) &&
				      strncmp(line, "vdc-control/1 forbidden ", 24) == 0
			      ? 0
			      : 1);
	ck_assert_int_eq(wait_child_exit(pid, 5000), 0);
	ck_assert(log_has(&s, "client refused on control socket (unix ", 3000));
	ck_assert(log_has(&s, "vu.ctl): uid 65534 is not allowed", 3000));
	pid = fork_as_user(NOBODY_UID, NOBODY_GID);
	if (pid == 0) {
		static char buf[4096];

		http(GET_METRICS, buf, sizeof(buf));
		_exit(strncmp(buf, "HTTP/1.1 403 ", 13) == 0 &&
			      !strstr(buf, "vhost_device_console_")
		      ? 0
		      : 1);
	}
	ck_assert_int_eq(wait_child_exit(pid, 5000), 0);
	ck_assert(log_has(&s, "client refused on metrics (tcp 127.0.0.1:23790): uid 65534 is not allowed", 3000));
	/* The owner still gets in. */
	ck_assert(ask_ctl("status\n", line, sizeof(line)));
	ck_assert(strncmp(line, "vdc-control/1 ok ", 17) == 0);
}
END_TEST

/*
 * A stranger's silent metrics connections: each waits to be told 403, so
 * it takes a slot of the table both doors share. Twenty of them, held
 * open, must not lock the owner out of the control socket.
 */
START_TEST(test_a_strangers_silent_metrics_clients_do_not_lock_the_owner_out)
{
	enum { HELD = 20, PUSHED = HELD - 16 };
	char line[256];
	int ready[2];
	pid_t pid;

	if (!root())
		return;
	ck_assert_int_eq(pipe(ready), 0);
	pid = fork_as_user(NOBODY_UID, NOBODY_GID);
	if (pid == 0) {
		int fds[HELD];
		unsigned int done = 0;
		long end = now_ms() + 10000;

		close(ready[0]);
		for (int i = 0; i < HELD; i++)
			if ((fds[i] = tcp_connect()) < 0)
				_exit(1);
		/* Every one accepted: the daemon closed some (refused or
		 * pushed out), whichever it does with the table full. */
		while (done < PUSHED && now_ms() < end) {
			struct pollfd p[HELD];

			for (int i = 0; i < HELD; i++)
				p[i] = (struct pollfd){fds[i], POLLIN, 0};
			done = 0;
			if (poll(p, HELD, 100) > 0)
				for (int i = 0; i < HELD; i++)
					done += (p[i].revents & (POLLIN | POLLHUP)) != 0;
		}
		if (done < PUSHED || write(ready[1], "r", 1) != 1)
			_exit(1);
		pause(); /* held until killed */
		_exit(0);
	}
	close(ready[1]);
	ck_assert(read_exact(ready[0], line, 1, 15000));
	close(ready[0]);
	ck_assert(ask_ctl("status\n", line, sizeof(line)));
	ck_assert_msg(strncmp(line, "vdc-control/1 ok ", 17) == 0, "%s", line);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}
END_TEST

START_TEST(test_control_socket_protocol_and_hostile_clients)
{
	static char big[CTL_LINE_MAX_TEST];
	char line[256], want[64], two[256];
	int fds[20], n = 0;
	size_t one_len;

	char body[64];

	snprintf(body, sizeof(body), PROGRAM_NAME " %s\n", program_version);
	snprintf(want, sizeof(want), "vdc-control/1 ok %zu", strlen(body));
	one_len = (size_t)snprintf(two, sizeof(two), "%s\n%s%s\n%s", want,
				   body, want, body) / 2;
	ck_assert(ask_ctl("version\n", line, sizeof(line)));
	ck_assert_str_eq(line, want);
	ck_assert(ask_ctl("frobnicate\n", line, sizeof(line)));
	ck_assert(strncmp(line, "vdc-control/1 unknown-command ", 30) == 0);
	ck_assert(ask_ctl("status  json\n", line, sizeof(line)));
	ck_assert(strncmp(line, "vdc-control/1 bad-request ", 26) == 0);
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	{
		int fd = connect_unix(ctl_path);
		size_t have = 0;

		ck_assert_int_ge(fd, 0);
		/* The daemon stops reading at its limit; what it says is the
		 * reason, then it closes. */
		(void)send(fd, big, sizeof(big), MSG_NOSIGNAL | MSG_DONTWAIT);
		while (have < sizeof(line) - 1 &&
		       read_exact(fd, line + have, 1, 5000) && line[have] != '\n')
			have++;
		line[have] = '\0';
		ck_assert_msg(strncmp(line, "vdc-control/1 line-too-long ", 28) == 0,
			      "%s", line);
		close(fd);
	}
	/* Two questions on one connection are answered in order. */
	{
		int fd = connect_unix(ctl_path);
		char got[256];

		ck_assert_int_ge(fd, 0);
		write_all(fd, "version\nversion\n", 16);
		ck_assert(read_exact(fd, got, 2 * one_len, 5000));
		ck_assert(memcmp(got, two, 2 * one_len) == 0);
		close(fd);
	}
	/* Clients that connect and say nothing take the slots; the next is
	 * told the daemon is busy, and the supervisor still serves. */
	for (n = 0; n < 20; n++)
		fds[n] = connect_unix(ctl_path);
	ck_assert(log_has(&s, "control socket: client refused: 16 connections already", 5000));
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	for (long end = now_ms() + 5000;; ) {
		if (ask_ctl("version\n", line, sizeof(line)) &&
		    strcmp(line, want) == 0)
			break;
		ck_assert(now_ms() < end);
		sleep_ms(20);
	}
	ck_assert(kill(s.d.pid, 0) == 0);
}
END_TEST

START_TEST(test_a_client_that_never_ends_its_line_is_closed_at_its_deadline)
{
	char line[256], c;
	long start = now_ms();
	int slow = connect_unix(ctl_path);

	ck_assert_int_ge(slow, 0);
	write_all(slow, "stat", 4);
	/* Others are served meanwhile. */
	ck_assert(ask_ctl("version\n", line, sizeof(line)));
	ck_assert(strncmp(line, "vdc-control/1 ok ", 17) == 0);
	ck_assert_msg(!read_exact(slow, &c, 1, 30000), "got a byte");
	ck_assert_int_ge(now_ms() - start, 9000);
	ck_assert(log_has(&s, "control socket: a client past its deadline; closed", 3000));
	close(slow);
}
END_TEST

/* --- metrics ----------------------------------------------------------- */

/* The value of @sample ("name{labels}") in @text; -1 when absent. */
static long long sample(const char *text, const char *name)
{
	const char *p = text;
	size_t len = strlen(name);

	while ((p = strstr(p, name))) {
		if ((p == text || p[-1] == '\n') && p[len] == ' ')
			return strtoll(p + len + 1, NULL, 10);
		p += len;
	}
	return -1;
}

static const char *body_of(const char *answer)
{
	const char *b = strstr(answer, "\r\n\r\n");

	ck_assert_ptr_nonnull(b);
	return b + 4;
}

START_TEST(test_metrics_pass_promtool_and_move_when_the_guest_writes)
{
	static char a[1 << 16], b[1 << 16];
	char path[160], cmd[256];
	FILE *f;

	session_console(&s, &fe, FE_STYLE_QEMU);
	session_client(&s);
	ck_assert(http(GET_METRICS, a, sizeof(a)) > 0);
	ck_assert_msg(strncmp(a, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", a);
	ck_assert(strstr(a, "Content-Type: text/plain; version=0.0.4"));
	snprintf(path, sizeof(path), "%s/metrics.txt", s.dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(body_of(a), f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
	if (HAVE_PROMTOOL())
		ck_assert_msg(system(cmd) == 0, "promtool refused:\n%s",
			      body_of(a));
	ck_assert_int_eq(sample(body_of(a), "vhost_device_console_frontend_attached{guest=\"0\"}"), 1);
	ck_assert_int_eq(sample(body_of(a), "vhost_device_console_clients{guest=\"0\"}"), 1);

	tx_and_expect(&s, &fe, "0123456789", 10, 10, false);
	ck_assert(http(GET_METRICS, b, sizeof(b)) > 0);
	ck_assert_int_eq(sample(body_of(b), "vhost_device_console_output_bytes_total{guest=\"0\"}") -
				 sample(body_of(a), "vhost_device_console_output_bytes_total{guest=\"0\"}"),
			 10);
}
END_TEST

START_TEST(test_metrics_answer_only_get_metrics_on_their_own_host)
{
	static char a[1 << 16];
	static char huge[16384];

	http("GET /other HTTP/1.1\r\nHost: 127.0.0.1:23790\r\n\r\n", a, sizeof(a));
	ck_assert_msg(strncmp(a, "HTTP/1.1 404 ", 13) == 0, "%s", a);
	http("POST /metrics HTTP/1.1\r\nHost: 127.0.0.1:23790\r\n\r\n", a, sizeof(a));
	ck_assert_msg(strncmp(a, "HTTP/1.1 405 ", 13) == 0, "%s", a);
	/* A page on another name (DNS rebinding) reads nothing. */
	http("GET /metrics HTTP/1.1\r\nHost: evil.example:23790\r\n\r\n", a, sizeof(a));
	ck_assert_msg(strncmp(a, "HTTP/1.1 400 ", 13) == 0, "%s", a);
	http("GET /metrics HTTP/1.1\r\nHost: localhost:23790\r\n\r\n", a, sizeof(a));
	ck_assert_msg(strncmp(a, "HTTP/1.1 200 ", 13) == 0, "%s", a);
	memset(huge, 'a', sizeof(huge) - 1);
	memcpy(huge, "GET /metrics HTTP/1.1\r\nX: ", 26);
	http(huge, a, sizeof(a));
	ck_assert_msg(strncmp(a, "HTTP/1.1 431 ", 13) == 0, "%s", a);
}
END_TEST

/* --- the seqlock ------------------------------------------------------- */

/* The writer's invariant: every counter and the address say one number. */
static void write_forever(struct guest_stats *gs)
{
	for (uint64_t k = 1;; k++) {
		guest_stats_begin(gs);
		guest_stats_add(&gs->d.bytes_out, 1);
		guest_stats_add(&gs->d.bytes_in, 1);
		guest_stats_add(&gs->d.dropped_log_bytes, 1);
		gs->d.client[GUEST_STATS_CLIENTS - 1].since = gs->d.bytes_out;
		snprintf(gs->d.client[7].addr, sizeof(gs->d.client[7].addr),
			 "%llu", (unsigned long long)gs->d.bytes_out);
		guest_stats_end(gs);
		(void)k;
	}
}

static bool consistent(const struct guest_stats_data *d)
{
	char want[32];

	snprintf(want, sizeof(want), "%llu", (unsigned long long)d->bytes_out);
	return d->bytes_in == d->bytes_out &&
	       d->dropped_log_bytes == d->bytes_out &&
	       d->client[GUEST_STATS_CLIENTS - 1].since == d->bytes_out &&
	       (d->bytes_out == 0 ? d->client[7].addr[0] == '\0'
				  : strcmp(d->client[7].addr, want) == 0);
}

/*
 * The guest count in the shared header is writable by every worker: the
 * supervisor counts its guests by what it mapped, not by what a broken
 * worker wrote there later.
 */
START_TEST(test_the_supervisor_counts_guests_by_what_it_mapped)
{
	struct options o;
	struct status_server ss;
	struct daemon_shm *shm;
	char err[256];

	memset(&o, 0, sizeof(o));
	shm = daemon_shm_create(1, err, sizeof(err));
	ck_assert_msg(shm, "%s", err);
	ck_assert_int_eq(status_server_open(&ss, &o, shm, err, sizeof(err)), 0);
	shm->guests = 1u << 24; /* far past the mapping */
	status_server_refresh(&ss);
	ck_assert_str_eq(ss.summary, "0 of 1 guest attached, 0 clients");
	status_server_fini(&ss);
	daemon_shm_destroy(shm, 1);
}
END_TEST

/* The status command's reading of an answer's header: only the daemon's
 * exact form, and no byte after the length's digits (a NUL included). */
START_TEST(test_an_answer_header_says_its_length_in_digits_only)
{
	static const char nul[] = "vdc-control/1 ok 12\0";
	char status[32];
	size_t len = 0;

	ck_assert_int_eq(ctl_parse_header("vdc-control/1 ok 12", 19, status,
					  sizeof(status), &len), 0);
	ck_assert_str_eq(status, "ok");
	ck_assert_uint_eq(len, 12);
	ck_assert_int_eq(ctl_parse_header(nul, sizeof(nul) - 1, status,
					  sizeof(status), &len), -1);
	ck_assert_int_eq(ctl_parse_header("vdc-control/1 ok 012", 20, status,
					  sizeof(status), &len), -1);
	ck_assert_int_eq(ctl_parse_header("vdc-control/1 ok 1x", 19, status,
					  sizeof(status), &len), -1);
	ck_assert_int_eq(ctl_parse_header("vdc-control/2 ok 1", 18, status,
					  sizeof(status), &len), -1);
}
END_TEST

START_TEST(test_seqlock_reader_never_sees_a_torn_entry)
{
	struct guest_stats *gs = mmap(NULL, sizeof(*gs), PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	static struct guest_stats_data d;
	unsigned int reads = 0, refused = 0;

	ck_assert_ptr_ne(gs, MAP_FAILED);
	memset(gs, 0, sizeof(*gs));
	for (unsigned int round = 0; round < 16; round++) {
		pid_t pid = fork();
		uint64_t before;

		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			write_forever(gs);
		/* Read while it writes, then kill it wherever it is. */
		before = __atomic_load_n(&gs->d.bytes_out, __ATOMIC_RELAXED);
		for (unsigned int i = 0; i < 200 + round * 37; i++) {
			if (!guest_stats_read(gs, &d)) {
				refused++;
				continue;
			}
			reads++;
			ck_assert_msg(consistent(&d), "torn: out %llu in %llu",
				      (unsigned long long)d.bytes_out,
				      (unsigned long long)d.bytes_in);
		}
		/* It wrote while we read (or we would test nothing). */
		while (__atomic_load_n(&gs->d.bytes_out, __ATOMIC_RELAXED) ==
		       before)
			;
		kill(pid, SIGKILL);
		ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
		/* Dead in an update: no copy is consistent until repaired. */
		if (__atomic_load_n(&gs->seq, __ATOMIC_RELAXED) & 1)
			ck_assert(!guest_stats_read(gs, &d));
		else
			ck_assert(guest_stats_read(gs, &d) && consistent(&d));
		/* The supervisor's repair: stable again, counted. Counters a
		 * killed writer was in the middle of are made equal again for
		 * the next round's invariant. */
		guest_stats_recover(gs, true);
		ck_assert(guest_stats_read(gs, &d));
		ck_assert_uint_eq(d.restarts, round + 1);
		gs->d.bytes_in = gs->d.dropped_log_bytes =
			gs->d.client[GUEST_STATS_CLIENTS - 1].since =
				gs->d.bytes_out = 0;
		memset(gs->d.client, 0, sizeof(gs->d.client));
	}
	ck_assert_uint_gt(reads, 1000);
	(void)refused;
	munmap(gs, sizeof(*gs));
}
END_TEST

/* --allow-group: the control socket is the group's too, and its members
 * (here nobody, whose primary group it is) are let in at both doors. */
START_TEST(test_an_allowed_group_reaches_the_control_socket_and_metrics)
{
	static const char *const extra[] = {"--allow-group=65534",
					    "--metrics-port=23791", NULL};
	struct stat st;
	char line[256];
	pid_t pid;

	if (!root())
		return;
	memset(&fe, 0, sizeof(fe));
	fe.sock = fe.memfd = fe.chan_fd = -1;
	session_start(&s, extra);
	snprintf(ctl_path, sizeof(ctl_path), "%s/vu.ctl", s.dir);
	ck_assert(wait_for_socket(ctl_path, 5000));
	ck_assert_int_eq(stat(ctl_path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0660);
	ck_assert_uint_eq(st.st_gid, NOBODY_GID);
	ck_assert_int_eq(chmod(s.dir, 0711), 0);
	pid = fork_as_user(NOBODY_UID, NOBODY_GID);
	if (pid == 0) {
		static char buf[1 << 16];
		struct sockaddr_in sa = {.sin_family = AF_INET,
					 .sin_port = htons(23791),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		int fd;

		if (!ask_ctl("status\n", line, sizeof(line)) ||
		    strncmp(line, "vdc-control/1 ok ", 17) != 0)
			_exit(1);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(2);
		(void)send(fd, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:23791\r\n\r\n",
			   49, MSG_NOSIGNAL);
		if (!read_exact(fd, buf, 13, 5000) ||
		    strncmp(buf, "HTTP/1.1 200 ", 13) != 0)
			_exit(3);
		_exit(0);
	}
	ck_assert_int_eq(wait_child_exit(pid, 10000), 0);
	session_stop(&s);
}
END_TEST

/* The next datagram on @fd within 5 s, NUL-terminated; "" if none. */
static const char *next_datagram(int fd, char *buf, size_t cap)
{
	struct pollfd p = {fd, POLLIN, 0};
	ssize_t n;

	buf[0] = '\0';
	if (poll(&p, 1, 5000) != 1)
		return buf;
	n = recv(fd, buf, cap - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Datagrams until @want (others must be STATUS= lines: the summary
 * passing through states quicker than this test looks). */
static void status_until(int fd, const char *want)
{
	char msg[512];

	for (;;) {
		next_datagram(fd, msg, sizeof(msg));
		if (strcmp(msg, want) == 0)
			return;
		ck_assert_msg(strncmp(msg, "STATUS=", 7) == 0,
			      "want \"%s\", got \"%s\"", want, msg);
	}
}

/* systemd's STATUS= follows the frontend and the clients, woken by the
 * workers (no polling): each change is one datagram. */
START_TEST(test_systemd_status_follows_the_frontend_and_clients)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char path[128], msg[512];
	int nfd, c2;

	memset(&fe, 0, sizeof(fe));
	fe.sock = fe.memfd = fe.chan_fd = -1;
	snprintf(path, sizeof(path), "/tmp/vdc-notify-%d", (int)getpid());
	unlink(path);
	nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(nfd, 0);
	memcpy(sa.sun_path, path, strlen(path));
	ck_assert_int_eq(bind(nfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setenv("NOTIFY_SOCKET", path, 1);
	session_start(&s, NULL);
	unsetenv("NOTIFY_SOCKET");
	ck_assert_str_eq(next_datagram(nfd, msg, sizeof(msg)),
			 "READY=1\nSTATUS=0 of 1 guest attached, 0 clients");
	/* session_start()'s probe of the console socket may show here. */
	session_console(&s, &fe, FE_STYLE_QEMU);
	status_until(nfd, "STATUS=1 of 1 guest attached, 0 clients");
	session_client(&s);
	status_until(nfd, "STATUS=1 of 1 guest attached, 1 client");
	c2 = connect_unix(s.uds_path);
	ck_assert_str_eq(next_datagram(nfd, msg, sizeof(msg)),
			 "STATUS=1 of 1 guest attached, 2 clients");
	close(c2);
	ck_assert_str_eq(next_datagram(nfd, msg, sizeof(msg)),
			 "STATUS=1 of 1 guest attached, 1 client");
	fe_close(&fe);
	ck_assert_str_eq(next_datagram(nfd, msg, sizeof(msg)),
			 "STATUS=0 of 1 guest attached, 1 client");
	session_stop(&s); /* its client leaves first */
	status_until(nfd, "STOPPING=1");
	ck_assert_str_eq(next_datagram(nfd, msg, sizeof(msg)), "");
	close(nfd);
	unlink(path);
}
END_TEST

/* --- the formats, of hostile strings -------------------------------- */

/* Run @cmd with @input on its stdin; its exit status. */
static int pipe_to(const char *cmd, const char *input, size_t len)
{
	FILE *f = popen(cmd, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(input, 1, len, f), len);
	return pclose(f);
}

START_TEST(test_formats_escape_what_came_from_outside)
{
	static struct status_guest g[2];
	struct status_snapshot snap = {.version = "0.1.0", .pid = 7, .now = 100,
				       .guests = 2, .guest = g};
	struct report_buf json = {0}, text = {0}, prom = {0};
	char cmd[512];

	memset(g, 0, sizeof(g));
	g[0].ok = true;
	g[0].d.attached = 1;
	g[0].d.attached_since = 40;
	snprintf(g[0].d.log_path, sizeof(g[0].d.log_path), "/var/log/\"x\xff\ny\x01");
	snprintf(g[0].d.version, sizeof(g[0].d.version), "0.1.0");
	g[0].d.clients = 1;
	g[0].d.client[3] = (struct guest_client_stats){
		.kind = GUEST_CLIENT_TCP, .writer = 1, .uid = 1000, .pid = -1,
		.since = 50, .dropped_bytes = 9};
	snprintf(g[0].d.client[3].addr, sizeof(g[0].d.client[3].addr),
		 "127.0.0.1:4000\x1b[2J\xe2\x82\xac");
	g[1].ok = false; /* its worker died mid-update */
	status_report_json(&json, &snap);
	status_report_text(&text, &snap);
	status_report_metrics(&prom, &snap);
	ck_assert(!json.failed && !text.failed && !prom.failed);
	/* Python's json module reads it, and the strings are what they were,
	 * with U+FFFD for the byte that is not UTF-8. */
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); g=d[\"guests\"]; "
		 "assert g[0][\"console_log\"] == \"/var/log/\\\"x\\ufffd\\ny\\u0001\", g[0]; "
		 "assert g[0][\"clients\"][0][\"address\"] == \"127.0.0.1:4000\\u001b[2J\\u20ac\"; "
		 "assert g[0][\"clients\"][0][\"uid\"] == 1000 and g[0][\"clients\"][0][\"pid\"] is None; "
		 "assert g[1] == {\"index\": 1, \"available\": False}'");
	if (HAVE_PYTHON())
		ck_assert_msg(pipe_to(cmd, json.p, json.len) == 0, "%.*s",
			      (int)json.len, json.p);
	/* Text: no terminal escape reaches a person's screen. */
	ck_assert_msg(strstr(text.p, "log /var/log/\"x\\xff\\x0ay\\x01 (0 errors)"), "%s", text.p);
	ck_assert_msg(strstr(text.p, "writer tcp uid 1000 127.0.0.1:4000\\x1b[2J\\xe2\\x82\\xac (dropped 9 B)"),
		      "%s", text.p);
	ck_assert_msg(strstr(text.p, "guest 1: unavailable"), "%s", text.p);
	if (HAVE_PROMTOOL())
		ck_assert(pipe_to("promtool check metrics", prom.p, prom.len) ==
			  0);
	ck_assert(strstr(prom.p, "vhost_device_console_guests_unavailable 1\n"));
	ck_assert(!strstr(prom.p, "guest=\"1\""));
	report_free(&json);
	report_free(&text);
	report_free(&prom);
}
END_TEST

/* --- the command line ------------------------------------------------- */

static int run_exit(const char *const args[], struct run_result *res)
{
	run_daemon(args, 10000, res);
	ck_assert_msg(WIFEXITED(res->status), "status %#x", res->status);
	return WEXITSTATUS(res->status);
}

START_TEST(test_status_command_line_and_no_daemon)
{
	static struct run_result res;
	const char *none[] = {"status", NULL};
	const char *both[] = {"status", "-s", "/tmp/a", "--control-socket=/tmp/b", NULL};
	const char *absent[] = {"status", "-s", "/tmp/vdc-no-such-daemon", NULL};
	const char *stray[] = {"status", "-s", "/tmp/a", "extra", NULL};
	const char *bad_port[] = {"-s", "/tmp/a", "--metrics-port=0", NULL};
	const char *on_web[] = {"-s", "/tmp/a", "-b", "network", "--web-port=23720",
				"-c", "2", "--metrics-port=23721", NULL};

	ck_assert_int_eq(run_exit(none, &res), 1);
	ck_assert_int_eq(run_exit(both, &res), 1);
	ck_assert_int_eq(run_exit(stray, &res), 1);
	ck_assert_int_eq(run_exit(absent, &res), 2);
	ck_assert_msg(strstr(res.err, "/tmp/vdc-no-such-daemon.ctl: no daemon is listening there"),
		      "%s", res.err);
	ck_assert_int_eq(run_exit(bad_port, &res), 1);
	ck_assert_msg(strstr(res.err, "--metrics-port: 0 is out of range"), "%s", res.err);
	ck_assert_int_eq(run_exit(on_web, &res), 1);
	ck_assert_msg(strstr(res.err, "--metrics-port: 23721 is one of --web-port's ports"),
		      "%s", res.err);
}
END_TEST

Suite *status_suite(void)
{
	Suite *su = suite_create("status");
	TCase *tc = tcase_create("daemon");
	TCase *unit = tcase_create("unit");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_status_shows_the_guest_its_clients_and_a_dropped_watcher);
	tcase_add_test(tc, test_status_counts_a_restarted_worker_and_keeps_its_counters);
	tcase_add_test(tc, test_another_uid_is_refused_by_the_control_socket_and_metrics);
	tcase_add_test(tc, test_a_strangers_silent_metrics_clients_do_not_lock_the_owner_out);
	tcase_add_test(tc, test_control_socket_protocol_and_hostile_clients);
	tcase_add_test(tc, test_a_client_that_never_ends_its_line_is_closed_at_its_deadline);
	tcase_add_test(tc, test_metrics_pass_promtool_and_move_when_the_guest_writes);
	tcase_add_test(tc, test_metrics_answer_only_get_metrics_on_their_own_host);
	suite_add_tcase(su, tc);
	tcase_set_timeout(unit, 180);
	tcase_add_test(unit, test_an_allowed_group_reaches_the_control_socket_and_metrics);
	tcase_add_test(unit, test_systemd_status_follows_the_frontend_and_clients);
	tcase_add_test(unit, test_the_supervisor_counts_guests_by_what_it_mapped);
	tcase_add_test(unit, test_seqlock_reader_never_sees_a_torn_entry);
	tcase_add_test(unit, test_an_answer_header_says_its_length_in_digits_only);
	tcase_add_test(unit, test_status_command_line_and_no_daemon);
	tcase_add_test(unit, test_formats_escape_what_came_from_outside);
	suite_add_tcase(su, unit);
	return su;
}
