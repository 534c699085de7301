/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_systemd.c - the daemon as a systemd service: the notify protocol on
 * a datagram socket the test binds (READY, STATUS, RELOADING, STOPPING,
 * WATCHDOG), socket activation (by systemd-socket-activate, and by a fork
 * and exec that passes fds as systemd does, for the cases it cannot make),
 * one error line for every socket that does not fit, and the journal's
 * <N> prefixes when JOURNAL_STREAM names stderr.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frontend.h"
#include "helpers.h"
#include "session.h"
#include "log.h"
#include "options.h"
#include "sd_listen.h"
#include "sd_notify.h"
#include "suites.h"

#define MAX_PASSED 4

static char dir[64];
static char notify_path[128];
static int notify_fd = -1;
static char vu[128], con[128]; /* --socket-path, --uds-path */
static char vu0[128], con0[128]; /* guest 0's */

static void setup(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	make_tmpdir(dir, sizeof(dir));
	snprintf(vu, sizeof(vu), "%s/vu", dir);
	snprintf(con, sizeof(con), "%s/con", dir);
	snprintf(vu0, sizeof(vu0), "%s/vu0", dir);
	snprintf(con0, sizeof(con0), "%s/con0", dir);
	snprintf(notify_path, sizeof(notify_path), "%s/notify", dir);
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(notify_fd, 0);
	strncpy(sa.sun_path, notify_path, sizeof(sa.sun_path) - 1);
	ck_assert_int_eq(bind(notify_fd, (struct sockaddr *)&sa, sizeof(sa)),
			 0);
}

static void teardown(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
	remove_tree(dir);
}

/*
 * next_msg() - the next notify datagram, or "" after @timeout_ms;
 * WATCHDOG=1 pings are skipped unless @watchdog
 */
static const char *next_msg(int timeout_ms, bool watchdog)
{
	static char buf[4096];
	long deadline = now_ms() + timeout_ms;

	for (;;) {
		struct pollfd p = {notify_fd, POLLIN, 0};
		long left = deadline - now_ms();
		ssize_t n;

		buf[0] = '\0';
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return buf;
		n = recv(notify_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n < 0)
			continue;
		buf[n] = '\0';
		if (watchdog || strcmp(buf, "WATCHDOG=1") != 0)
			return buf;
	}
}

static void expect_msg(struct daemon_proc *d, const char *want)
{
	const char *got = next_msg(10000, false);

	ck_assert_msg(strcmp(got, want) == 0,
		      "notify socket: expected '%s', got '%s'; log:\n%s", want,
		      got, daemon_log(d));
}

/* A listening socket moved to fd 100+: out of the way of 3, 4, ... */
static int high_fd(int fd)
{
	int h = fcntl(fd, F_DUPFD_CLOEXEC, 100);

	ck_assert_int_ge(h, 0);
	close(fd);
	return h;
}

static int listen_unix_at(const char *path, int type)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (type == SOCK_STREAM)
		ck_assert_int_eq(listen(fd, 8), 0);
	return high_fd(fd);
}

static int listen_tcp_any(uint32_t addr)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(addr)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	return high_fd(fd);
}

static int listen_tcp6_loopback(void)
{
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6,
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	return high_fd(fd);
}

/* What a service manager gives the daemon: fds, LISTEN_*, more env. */
struct launch {
	int fds[MAX_PASSED];
	unsigned int nfds;
	const char *names; /* LISTEN_FDNAMES, or NULL */
	const char *env[4]; /* "NAME=VALUE" */
	int err_fd; /* stderr, or -1: a log file in dir */
};

/*
 * spawn() - run the daemon as systemd would start it: the passed fds at
 * 3, 4, ..., LISTEN_PID its own pid (set after the fork), the rest of the
 * environment as given
 */
static void spawn(struct daemon_proc *d, const struct launch *l,
		  const char *const args[])
{
	static int seq;
	const char *argv[32] = {daemon_path()};
	int err_fd = l->err_fd;
	size_t n = 1;

	while (args[n - 1] && n < 31) {
		argv[n] = args[n - 1];
		n++;
	}
	argv[n] = NULL;
	if (err_fd < 0) {
		snprintf(d->log_path, sizeof(d->log_path), "%s/daemon-%d.log",
			 dir, seq++);
		err_fd = open(d->log_path,
			      O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		ck_assert_int_ge(err_fd, 0);
	}
	d->pid = fork();
	ck_assert_int_ge(d->pid, 0);
	if (d->pid == 0) {
		char v[32];
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(err_fd, 2);
		for (unsigned int i = 0; i < l->nfds; i++)
			dup2(l->fds[i], SD_LISTEN_FDS_START + (int)i);
		unsetenv("NOTIFY_SOCKET");
		unsetenv("JOURNAL_STREAM");
		if (l->nfds) {
			snprintf(v, sizeof(v), "%u", l->nfds);
			setenv("LISTEN_FDS", v, 1);
			snprintf(v, sizeof(v), "%d", (int)getpid());
			setenv("LISTEN_PID", v, 1);
			if (l->names)
				setenv("LISTEN_FDNAMES", l->names, 1);
		}
		for (size_t i = 0; i < 4 && l->env[i]; i++)
			putenv((char *)l->env[i]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (l->err_fd < 0)
		close(err_fd);
	for (unsigned int i = 0; i < l->nfds; i++)
		close(l->fds[i]);
}

/* A wait status that says: exited with @code. */
static void expect_exit(int status, int code, struct daemon_proc *d)
{
	ck_assert_msg(status != -1 && WIFEXITED(status) &&
			      WEXITSTATUS(status) == code,
		      "status %#x, want exit %d; log:\n%s", status, code,
		      daemon_log(d));
}

/* Started, and its first notification is @ready. */
static void spawn_ready(struct daemon_proc *d, const struct launch *l,
			const char *const args[], const char *ready)
{
	spawn(d, l, args);
	expect_msg(d, ready);
}

/* SIGTERM: status 0, and STOPPING=1 is the next notification. */
static void stop_expect_stopping(struct daemon_proc *d)
{
	expect_exit(daemon_stop(d, SIGTERM, 10000), 0, d);
	expect_msg(d, "STOPPING=1");
}

/* The daemon refuses what was passed: exit 1, one line that says @what. */
static void expect_one_error_line(const struct launch *l,
				  const char *const args[], const char *what)
{
	struct daemon_proc d;
	const char *log, *nl;

	spawn(&d, l, args);
	expect_exit(wait_pid_timeout(d.pid, 10000), 1, &d);
	log = daemon_log(&d);
	ck_assert_msg(strstr(log, what), "log lacks '%s':\n%s", what, log);
	ck_assert_msg(strstr(log, "error: cannot start: socket activation: "),
		      "not a socket activation error:\n%s", log);
	nl = strchr(log, '\n');
	ck_assert_msg(nl && nl[1] == '\0', "not one line:\n%s", log);
}

/* How many unix datagram sockets (a notify socket's kind) @pid holds. */
static int count_dgram_sockets(pid_t pid)
{
	char line[512], path[64], link[64];
	unsigned long inodes[256];
	size_t n = 0;
	int count = 0;
	FILE *f = fopen("/proc/net/unix", "r");
	DIR *d;
	struct dirent *e;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) && n < 256) {
		unsigned int type;
		unsigned long ino;

		if (sscanf(line, "%*s %*s %*s %*s %x %*s %lu", &type, &ino) ==
			    2 &&
		    type == SOCK_DGRAM)
			inodes[n++] = ino;
	}
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		char fdpath[384];
		unsigned long ino;
		ssize_t r;

		snprintf(fdpath, sizeof(fdpath), "%s/%s", path, e->d_name);
		r = readlink(fdpath, link, sizeof(link) - 1);
		if (r <= 0)
			continue;
		link[r] = '\0';
		if (sscanf(link, "socket:[%lu]", &ino) != 1)
			continue;
		for (size_t i = 0; i < n; i++)
			count += inodes[i] == ino;
	}
	closedir(d);
	return count;
}

START_TEST(test_notify_ready_status_then_stopping_in_order)
{
	char env[160], con1[160];
	struct launch l = {.err_fd = -1, .env = {env}};
	const char *a[] = {"-s", vu,   "-b", "uds", "--uds-path",
			   con,	 "-c", "2",  NULL};
	struct daemon_proc d;

	snprintf(env, sizeof(env), "NOTIFY_SOCKET=%s", notify_path);
	snprintf(con1, sizeof(con1), "%s/con1", dir);
	spawn_ready(&d, &l, a, "READY=1\nSTATUS=0 of 2 guests attached, 0 clients");
	/* READY came after every socket listens. */
	ck_assert(path_exists(con0) && path_exists(con1));
	ck_assert_int_ge(connect_unix(vu0), 0);
	/* The summary follows the frontend that just came. */
	expect_msg(&d, "STATUS=1 of 2 guests attached, 0 clients");
	/* The supervisor holds the notify socket; its workers do not. */
	ck_assert_int_eq(count_dgram_sockets(d.pid), 1);
	for (int i = 0; i < 2; i++) {
		char comm[32];
		pid_t w;

		snprintf(comm, sizeof(comm), "vdc-worker-%d", i);
		w = wait_for_child(d.pid, comm, 0, 5000);
		ck_assert_int_ne(w, 0);
		ck_assert_msg(count_dgram_sockets(w) == 0,
			      "worker %d holds a datagram socket", i);
	}
	stop_expect_stopping(&d);
	ck_assert_str_eq(next_msg(200, true), "");
}
END_TEST

START_TEST(test_notify_abstract_socket_and_status_follows_workers)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char env[160], name[64], comm[32];
	struct launch l = {.err_fd = -1, .env = {env}};
	const char *a[] = {"-s", vu,   "-b", "uds", "--uds-path",
			   con,	 "-c", "2",  NULL};
	struct daemon_proc d;
	pid_t w;

	/* An abstract name instead of the path: "@name". */
	close(notify_fd);
	snprintf(name, sizeof(name), "vdc-notify-%d", (int)getpid());
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memcpy(sa.sun_path + 1, name, strlen(name));
	ck_assert_int_eq(bind(notify_fd, (struct sockaddr *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un,
						   sun_path) +
					  1 + strlen(name))),
			 0);
	snprintf(env, sizeof(env), "NOTIFY_SOCKET=@%s", name);
	spawn_ready(&d, &l, a, "READY=1\nSTATUS=0 of 2 guests attached, 0 clients");

	snprintf(comm, sizeof(comm), "vdc-worker-%d", 1);
	w = wait_for_child(d.pid, comm, 0, 5000);
	ck_assert_int_ne(w, 0);
	kill(w, SIGKILL);
	expect_msg(&d, "STATUS=0 of 2 guests attached, 0 clients, 1 of 2 workers running");
	expect_msg(&d, "STATUS=0 of 2 guests attached, 0 clients");
	stop_expect_stopping(&d);
}
END_TEST

START_TEST(test_sigusr1_sends_reloading_with_monotonic_time_then_ready)
{
	char env[160];
	struct launch l = {.err_fd = -1, .env = {env}};
	const char *a[] = {"-s", vu, "-b", "uds", "--uds-path", con, NULL};
	struct daemon_proc d;
	unsigned long long usec;
	struct timespec before, after;
	const char *got;

	snprintf(env, sizeof(env), "NOTIFY_SOCKET=%s", notify_path);
	spawn_ready(&d, &l, a, "READY=1\nSTATUS=0 of 1 guest attached, 0 clients");
	clock_gettime(CLOCK_MONOTONIC, &before);
	kill(d.pid, SIGUSR1);
	got = next_msg(10000, false);
	clock_gettime(CLOCK_MONOTONIC, &after);
	ck_assert_msg(sscanf(got, "RELOADING=1\nMONOTONIC_USEC=%llu", &usec) ==
			      1,
		      "expected RELOADING=1 and MONOTONIC_USEC=, got '%s'",
		      got);
	ck_assert_uint_ge(usec,
			  (unsigned long long)before.tv_sec * 1000000 +
				  (unsigned long long)before.tv_nsec / 1000);
	ck_assert_uint_le(usec,
			  (unsigned long long)after.tv_sec * 1000000 +
				  (unsigned long long)after.tv_nsec / 1000);
	expect_msg(&d, "READY=1\nSTATUS=0 of 1 guest attached, 0 clients");
	stop_expect_stopping(&d);
}
END_TEST

START_TEST(test_watchdog_pings_only_when_meant_for_us)
{
	char env[160];
	struct launch l = {.err_fd = -1, .env = {env, "WATCHDOG_USEC=40000"}};
	const char *a[] = {"-s", vu, "-b", "uds", "--uds-path", con, NULL};
	struct daemon_proc d;
	const char *got;

	snprintf(env, sizeof(env), "NOTIFY_SOCKET=%s", notify_path);
	spawn_ready(&d, &l, a, "READY=1\nSTATUS=0 of 1 guest attached, 0 clients");
	for (int i = 0; i < 3; i++) {
		got = next_msg(10000, true);
		ck_assert_msg(strcmp(got, "WATCHDOG=1") == 0,
			      "ping %d: got '%s'", i, got);
	}
	expect_exit(daemon_stop(&d, SIGTERM, 10000), 0, &d);

	/* WATCHDOG_PID names another process: no pings, the rest as usual
	 * (a ping every 2 ms would show among a reload's two messages). */
	l.env[2] = "WATCHDOG_PID=1";
	l.env[1] = "WATCHDOG_USEC=2000";
	while (next_msg(50, true)[0])
		;
	spawn_ready(&d, &l, a, "READY=1\nSTATUS=0 of 1 guest attached, 0 clients");
	kill(d.pid, SIGUSR1);
	got = next_msg(10000, true);
	ck_assert_msg(strncmp(got, "RELOADING=1\n", 12) == 0, "got '%s'", got);
	got = next_msg(10000, true);
	ck_assert_msg(strncmp(got, "READY=1\n", 8) == 0, "got '%s'", got);
	expect_exit(daemon_stop(&d, SIGTERM, 10000), 0, &d);
	got = next_msg(10000, true);
	ck_assert_msg(strcmp(got, "STOPPING=1") == 0, "got '%s'", got);
}
END_TEST

START_TEST(test_notify_socket_gone_never_fails_the_daemon)
{
	char env[160];
	struct launch l = {.err_fd = -1, .env = {env, "WATCHDOG_USEC=10000"}};
	const char *a[] = {"-s", vu, "-b", "uds", "--uds-path", con, NULL};
	struct daemon_proc d;

	snprintf(env, sizeof(env), "NOTIFY_SOCKET=%s/nobody-here", dir);
	spawn(&d, &l, a);
	ck_assert_msg(wait_for_socket(vu0, 10000), "log:\n%s", daemon_log(&d));
	ck_assert_int_ne(wait_for_child(d.pid, "vdc-worker-0", 0, 5000), 0);
	/* SIGUSR1 and the watchdog send into nothing; the daemon carries on. */
	kill(d.pid, SIGUSR1);
	ck_assert_int_ge(connect_unix(con0), 0);
	expect_exit(daemon_stop(&d, SIGTERM, 10000), 0, &d);

	/* Not a socket address: one warning, no failure. */
	l.env[0] = "NOTIFY_SOCKET=vsock:2:1234";
	spawn(&d, &l, a);
	ck_assert(wait_for_socket(vu0, 10000));
	expect_exit(daemon_stop(&d, SIGTERM, 10000), 0, &d);
	ck_assert_msg(
		strstr(daemon_log(&d),
		       "warn: NOTIFY_SOCKET=vsock:2:1234 is not a unix socket path or @name"),
		"log:\n%s", daemon_log(&d));
}
END_TEST

/* systemd-socket-activate in the test's place: a real tool's LISTEN_*. */
static bool have_socket_activate(void)
{
	return system("command -v systemd-socket-activate >/dev/null") == 0;
}

/*
 * socket_activate() - systemd-socket-activate @sa_args, then the daemon
 * with @args, stderr (both's) to @log; it execs the daemon in its place
 * at the first connection, so the pid is the daemon's
 */
static pid_t socket_activate(const char *log, const char *const sa_args[],
			     const char *const args[])
{
	const char *argv[32] = {"systemd-socket-activate"};
	size_t n = 1;
	pid_t pid;

	for (size_t i = 0; sa_args[i] && n < 15; i++)
		argv[n++] = sa_args[i];
	argv[n++] = daemon_path();
	for (size_t i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* @path (a log) shows @text within 10 s. */
static bool wait_file_has(const char *path, const char *text)
{
	struct daemon_proc d;

	snprintf(d.log_path, sizeof(d.log_path), "%s", path);
	for (long deadline = now_ms() + 10000; now_ms() < deadline;
	     sleep_ms(20))
		if (strstr(daemon_log(&d), text))
			return true;
	return false;
}

START_TEST(test_systemd_socket_activate_serves_the_passed_socket)
{
	char sock[128], env[200], listening[160];
	const char *sa[] = {"-l", sock, "--fdname=vhost-user", "-E", env, NULL};
	const char *a[] = {"-b", "uds", "--uds-path", con, NULL};
	struct fe fe;
	struct fe_config cfg = {.socket_path = sock, .style = FE_STYLE_QEMU};
	uint64_t features = 0;
	struct daemon_proc d;
	struct stat st;

	if (!have_socket_activate()) {
		printf("SKIP: no systemd-socket-activate (package systemd)\n");
		return;
	}
	snprintf(sock, sizeof(sock), "%s/guest.sock", dir);
	snprintf(d.log_path, sizeof(d.log_path), "%s/activate.log", dir);
	snprintf(env, sizeof(env), "NOTIFY_SOCKET=%s", notify_path);
	snprintf(listening, sizeof(listening), "Listening on %s", sock);
	d.pid = socket_activate(d.log_path, sa, a);
	ck_assert_msg(wait_file_has(d.log_path, listening), "log:\n%s",
		      daemon_log(&d));
	/* The daemon starts at this first connection, as under systemd. */
	ck_assert_msg(!path_exists(con0), "the daemon ran before a connection");
	ck_assert_int_eq(fe_open(&fe, &cfg), 0);
	ck_assert_msg(fe_get_u64(&fe, VHOST_USER_GET_FEATURES, &features) == 0,
		      "%s", fe.err);
	ck_assert(features & (1ULL << VHOST_USER_F_PROTOCOL_FEATURES));
	expect_msg(&d, "READY=1\nSTATUS=0 of 1 guest attached, 0 clients");
	expect_msg(&d, "STATUS=1 of 1 guest attached, 0 clients");
	fe_close(&fe);
	expect_msg(&d, "STATUS=0 of 1 guest attached, 0 clients");
	ck_assert(path_exists(con0));
	stop_expect_stopping(&d);
	/* The socket we bound is gone; the one systemd passed is its own. */
	ck_assert_msg(!path_exists(con0), "%s left behind", con0);
	ck_assert_msg(stat(sock, &st) == 0 && S_ISSOCK(st.st_mode),
		      "the passed socket %s was removed by the daemon", sock);
}
END_TEST

START_TEST(test_systemd_socket_activate_datagram_is_one_error_line)
{
	char sock[128];
	const char *sa[] = {"-d", "-l", sock, NULL};
	const char *a[] = {"-b", "network", NULL};
	struct sockaddr_un sa_un = {.sun_family = AF_UNIX};
	struct daemon_proc d;
	const char *log;
	int fd, ours = 0;

	if (!have_socket_activate()) {
		printf("SKIP: no systemd-socket-activate (package systemd)\n");
		return;
	}
	snprintf(sock, sizeof(sock), "%s/guest.sock", dir);
	snprintf(d.log_path, sizeof(d.log_path), "%s/activate.log", dir);
	d.pid = socket_activate(d.log_path, sa, a);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	strncpy(sa_un.sun_path, sock, sizeof(sa_un.sun_path) - 1);
	for (long deadline = now_ms() + 10000; now_ms() < deadline;
	     sleep_ms(20))
		if (sendto(fd, "x", 1, 0, (struct sockaddr *)&sa_un,
			   sizeof(sa_un)) == 1)
			break;
	close(fd);
	expect_exit(wait_pid_timeout(d.pid, 10000), 1, &d);
	log = daemon_log(&d);
	/* systemd-socket-activate's own lines say "Listening", "Execing". */
	ck_assert_msg(
		strstr(log,
		       "main error: cannot start: socket activation: fd 3 ('vhost-user') is not a stream socket"),
		"log:\n%s", log);
	for (const char *p = log; (p = strstr(p, "Z main ")); p++)
		ours++;
	ck_assert_msg(ours == 1 && !strstr(log, "Z w0 "),
		      "not one line from the daemon:\n%s", log);
}
END_TEST

START_TEST(test_passed_sockets_by_name_and_index_are_served_and_kept)
{
	char a0[128], b1[128], passed_con1[128], con1[128];
	struct launch l = {.err_fd = -1,
			   .names = "vhost-user.1:console.1:vhost-user.0"};
	const char *a[] = {"-b", "uds", "--uds-path", con, "-c", "2", NULL};
	struct daemon_proc d;
	struct fe fe;
	struct fe_config cfg = {.socket_path = b1, .style = FE_STYLE_UML};
	uint64_t v;

	snprintf(a0, sizeof(a0), "%s/a", dir);
	snprintf(b1, sizeof(b1), "%s/b", dir);
	snprintf(passed_con1, sizeof(passed_con1), "%s/passed-console", dir);
	snprintf(con1, sizeof(con1), "%s/con1", dir);
	l.fds[0] = listen_unix_at(b1, SOCK_STREAM);
	l.fds[1] = listen_unix_at(passed_con1, SOCK_STREAM);
	l.fds[2] = listen_unix_at(a0, SOCK_STREAM);
	l.nfds = 3;
	spawn(&d, &l, a);
	/* Guest 0's console is bound by the daemon, guest 1's was passed. */
	ck_assert_msg(wait_for_socket(con0, 10000), "log:\n%s", daemon_log(&d));
	ck_assert_msg(!path_exists(con1), "%s bound though passed", con1);
	ck_assert_int_eq(fe_open(&fe, &cfg), 0);
	ck_assert_msg(fe_get_u64(&fe, VHOST_USER_GET_FEATURES, &v) == 0, "%s",
		      fe.err);
	fe_close(&fe);
	/* vu1 is guest 1's: its worker accepted the connection. */
	ck_assert_int_ne(wait_for_child(d.pid, "vdc-worker-1", 0, 5000), 0);
	ck_assert_int_ge(connect_unix(passed_con1), 0);
	ck_assert_msg(
		strstr(daemon_log(&d),
		       "listening on 2 sockets passed by systemd (uds backend)"),
		"log:\n%s", daemon_log(&d));
	expect_exit(daemon_stop(&d, SIGTERM, 10000), 0, &d);
	ck_assert(path_exists(a0) && path_exists(b1) &&
		  path_exists(passed_con1));
	ck_assert_msg(!path_exists(con0), "%s left behind", con0);
}
END_TEST

/* The port a TCP listener was bound to. */
static int bound_port(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	return ntohs(sa.sin_port);
}

static int connect_tcp(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

START_TEST(test_passed_tcp_console_web_and_port_sockets_are_served)
{
	char token[160], agent[160], opt_port[200], passed_agent[160];
	char agent0[170], reply[256] = "";
	struct launch l = {.err_fd = -1,
			   .names = "port.agent:web.0:console:vhost-user"};
	const char *a[] = {"-b",     "network",		 "--web-port",
			   "1",	     "--web-token-file", token,
			   "--port", opt_port,		 NULL};
	struct daemon_proc d;
	int con_port, web_port, fd;

	snprintf(token, sizeof(token), "%s/token", dir);
	snprintf(agent, sizeof(agent), "%s/agent", dir);
	snprintf(agent0, sizeof(agent0), "%s0", agent);
	snprintf(passed_agent, sizeof(passed_agent), "%s/passed-agent", dir);
	snprintf(opt_port, sizeof(opt_port), "agent:%s", agent);
	l.fds[0] = listen_unix_at(passed_agent, SOCK_STREAM);
	l.fds[1] = listen_tcp_any(INADDR_LOOPBACK);
	l.fds[2] = listen_tcp_any(INADDR_LOOPBACK);
	l.fds[3] = listen_unix_at(vu0, SOCK_STREAM);
	l.nfds = 4;
	web_port = bound_port(l.fds[1]);
	con_port = bound_port(l.fds[2]);
	spawn(&d, &l, a);
	ck_assert_msg(wait_for_child(d.pid, "vdc-worker-0", 0, 5000) != 0,
		      "log:\n%s", daemon_log(&d));

	/* The console, on the port systemd bound (not --tcp-port's). */
	fd = connect_tcp(con_port);
	ck_assert_msg(wait_file_has(d.log_path, "console client connected"),
		      "log:\n%s", daemon_log(&d));
	close(fd);
	/* The web console answers HTTP on its passed socket. */
	fd = connect_tcp(web_port);
	write_all(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
	ck_assert(read_exact(fd, reply, 12, 10000));
	ck_assert_msg(!strncmp(reply, "HTTP/1.1 ", 9), "reply '%s'", reply);
	close(fd);
	/* The agent port: the passed path, and nothing bound at PATH0. */
	fd = connect_unix(passed_agent);
	ck_assert_int_ge(fd, 0);
	ck_assert_msg(wait_file_has(d.log_path, "port client connected"),
		      "log:\n%s", daemon_log(&d));
	close(fd);
	ck_assert_msg(!path_exists(agent0), "%s bound though passed", agent0);
	expect_exit(daemon_stop(&d, SIGTERM, 10000), 0, &d);
	ck_assert(path_exists(passed_agent) && path_exists(vu0));
}
END_TEST

START_TEST(test_fd_option_keeps_working_with_listen_fds_set)
{
	struct launch l = {.err_fd = -1, .names = "whatever"};
	const char *a[] = {"--fd", "3", "-b", "uds", "--uds-path", con, NULL};
	struct daemon_proc d;

	l.fds[0] = listen_unix_at(vu, SOCK_STREAM);
	l.nfds = 1;
	spawn(&d, &l, a);
	ck_assert_msg(wait_for_child(d.pid, "vdc-worker-0", 0, 5000) != 0,
		      "log:\n%s", daemon_log(&d));
	ck_assert_int_ge(connect_unix(vu), 0);
	ck_assert_msg(strstr(daemon_log(&d), "listening on fd 3"), "log:\n%s",
		      daemon_log(&d));
	expect_exit(daemon_stop(&d, SIGTERM, 10000), 0, &d);
}
END_TEST

/* A unix stream socket bound at @path and not listening. */
static int bound_unix_at(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return high_fd(fd);
}

/*
 * make_passed() - the sockets of @kinds, one letter each: u a listening
 * unix stream socket, q a unix seqpacket one, n a unix stream socket that
 * does not listen, l TCP on 127.0.0.1, 6 TCP on ::1, a TCP on every
 * address
 */
static unsigned int make_passed(const char *kinds, int *fds)
{
	unsigned int n = 0;

	for (; kinds[n]; n++) {
		char path[160];

		snprintf(path, sizeof(path), "%s/passed%u", dir, n);
		unlink(path);
		switch (kinds[n]) {
		case 'u':
			fds[n] = listen_unix_at(path, SOCK_STREAM);
			break;
		case 'q':
			fds[n] = listen_unix_at(path, SOCK_SEQPACKET);
			break;
		case 'n':
			fds[n] = bound_unix_at(path);
			break;
		case 'l':
			fds[n] = listen_tcp_any(INADDR_LOOPBACK);
			break;
		case '6':
			fds[n] = listen_tcp6_loopback();
			break;
		default:
			fds[n] = listen_tcp_any(INADDR_ANY);
			break;
		}
	}
	return n;
}

START_TEST(test_mismatched_sockets_are_one_error_line_each)
{
	const char *two[] = {"-b", "network", "-c", "2", NULL};
	const char *one[] = {"-b", "network", NULL};
	const char *nested[] = {NULL};
	static const struct {
		const char *kinds, *names; /* names NULL: no LISTEN_FDNAMES */
		int guests; /* 0: nested backend */
		const char *what;
	} cases[] = {
		{"u", NULL, 2,
		 "1 vhost-user socket passed (LISTEN_FDS=1), but --socket-count is 2"},
		{"uu", "vhost-user:vhost-device-console@a.socket", 1,
		 "fd 4 is named 'vhost-device-console@a.socket'; names are"},
		{"u", "vhost-user:console", 1,
		 "LISTEN_FDNAMES names 2 sockets, LISTEN_FDS=1"},
		{"uu", "vhost-user:console", 1,
		 "fd 4 ('console') is not an IPv4 TCP socket"},
		{"u6", "vhost-user:console", 1,
		 "fd 4 ('console') is not an IPv4 TCP socket"},
		{"q", "vhost-user.0", 1,
		 "fd 3 ('vhost-user.0') is not a stream socket"},
		{"l", "vhost-user.0", 1,
		 "fd 3 ('vhost-user.0') is not a unix socket; it must be a path"},
		{"n", "vhost-user.0", 1,
		 "fd 3 ('vhost-user.0') is not listening"},
		{"ua", "vhost-user:console", 1,
		 "fd 4 ('console') is not bound to the loopback address"},
		{"uu", "vhost-user.0:vhost-user.1", 1,
		 "fd 4 ('vhost-user.1') would be guest 1's, but --socket-count is 1"},
		{"uu", "vhost-user.0:vhost-user.0", 2,
		 "fds 3 ('vhost-user.0') and 4 ('vhost-user.0') are both guest 0's"},
		{"uu", "vhost-user:vhost-user.1", 2,
		 "name one kind of socket with and without a guest index"},
		{"uu", "vhost-user:console", 0,
		 "the nested backend has no console socket"},
		{"ul", "vhost-user:web", 1,
		 "fd 4 is named 'web', but --web-port is not set"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct launch l = {.err_fd = -1, .names = cases[i].names};
		const char *const *args = cases[i].guests == 2	 ? two
					  : cases[i].guests == 1 ? one
								 : nested;

		l.nfds = make_passed(cases[i].kinds, l.fds);
		expect_one_error_line(&l, args, cases[i].what);
	}
}
END_TEST

START_TEST(test_socket_names_parse)
{
	struct options o = {.socket_count = 2, .port_count = 2};
	struct sd_listen_fd f;

	snprintf(o.ports[0].name, sizeof(o.ports[0].name), "a");
	snprintf(o.ports[1].name, sizeof(o.ports[1].name), "a.1");
	ck_assert_int_eq(sd_listen_parse_name("vhost-user", &o, &f), 0);
	ck_assert(f.role == SD_LISTEN_VHOST_USER && f.index == -1);
	ck_assert_int_eq(sd_listen_parse_name("console.7", &o, &f), 0);
	ck_assert(f.role == SD_LISTEN_CONSOLE && f.index == 7);
	ck_assert_int_eq(sd_listen_parse_name("web.0", &o, &f), 0);
	ck_assert(f.role == SD_LISTEN_WEB && f.index == 0);
	ck_assert_int_eq(sd_listen_parse_name("port.a.1", &o, &f), 0);
	ck_assert(f.role == SD_LISTEN_PORT && f.port == 1 && f.index == -1);
	ck_assert_int_eq(sd_listen_parse_name("port.a.2", &o, &f), 0);
	ck_assert(f.role == SD_LISTEN_PORT && f.port == 0 && f.index == 2);
	ck_assert_int_eq(sd_listen_parse_name("port.a.1.3", &o, &f), 0);
	ck_assert(f.role == SD_LISTEN_PORT && f.port == 1 && f.index == 3);
	static const char *const bad[] = {
		"",
		"vhost-user.",
		"vhost-user.x",
		"vhost-user.-1",
		"vhost-user.+1",
		"vhost-user.1.2",
		"vhost-user0",
		"console.4294967296",
		"port.b",
		"port.",
		"port.a.",
		"stdin",
		"vhost-user.0 ",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(sd_listen_parse_name(bad[i], &o, &f) < 0,
			      "accepted '%s'", bad[i]);
}
END_TEST

START_TEST(test_notify_address_and_watchdog_parse)
{
	struct sockaddr_un sa;
	socklen_t len;
	char longpath[200];

	ck_assert_int_eq(sd_notify_parse_socket("/run/systemd/notify", &sa,
						&len),
			 0);
	ck_assert_str_eq(sa.sun_path, "/run/systemd/notify");
	ck_assert_uint_eq(len, offsetof(struct sockaddr_un, sun_path) + 20);
	ck_assert_int_eq(sd_notify_parse_socket("@abc", &sa, &len), 0);
	ck_assert(sa.sun_path[0] == '\0' && !memcmp(sa.sun_path + 1, "abc", 3));
	ck_assert_uint_eq(len, offsetof(struct sockaddr_un, sun_path) + 4);
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	ck_assert_int_lt(sd_notify_parse_socket(longpath, &sa, &len), 0);
	ck_assert_int_lt(sd_notify_parse_socket("", &sa, &len), 0);
	ck_assert_int_lt(sd_notify_parse_socket("@", &sa, &len), 0);
	ck_assert_int_lt(sd_notify_parse_socket("relative", &sa, &len), 0);
	ck_assert_int_lt(sd_notify_parse_socket("vsock:2:1", &sa, &len), 0);

	ck_assert_uint_eq(sd_notify_parse_watchdog("30000000", NULL, 5),
			  30000000);
	ck_assert_uint_eq(sd_notify_parse_watchdog("30000000", "5", 5),
			  30000000);
	ck_assert_uint_eq(sd_notify_parse_watchdog("30000000", "6", 5), 0);
	ck_assert_uint_eq(sd_notify_parse_watchdog("30000000", "x", 5), 0);
	ck_assert_uint_eq(sd_notify_parse_watchdog(NULL, "5", 5), 0);
	ck_assert_uint_eq(sd_notify_parse_watchdog("-1", NULL, 5), 0);
	ck_assert_uint_eq(sd_notify_parse_watchdog("10s", NULL, 5), 0);
	ck_assert_uint_eq(sd_notify_parse_watchdog("99999999999999999999999",
						   NULL, 5),
			  0);
}
END_TEST

START_TEST(test_journal_stream_parse)
{
	ck_assert(log_journal_stream_matches("8:1234", 8, 1234));
	ck_assert(!log_journal_stream_matches("8:1235", 8, 1234));
	ck_assert(!log_journal_stream_matches("9:1234", 8, 1234));
	ck_assert(!log_journal_stream_matches(NULL, 8, 1234));
	ck_assert(!log_journal_stream_matches("", 8, 1234));
	ck_assert(!log_journal_stream_matches("8:", 8, 1234));
	ck_assert(!log_journal_stream_matches(":1234", 8, 1234));
	ck_assert(!log_journal_stream_matches("8:1234x", 8, 1234));
	ck_assert(!log_journal_stream_matches("8:-1234", 8, 1234));
}
END_TEST

/* Read the daemon's stderr pipe until @want shows or the pipe ends. */
static void read_pipe_until(int fd, char *buf, size_t len, const char *want)
{
	long deadline = now_ms() + 10000;
	size_t n = 0;

	buf[0] = '\0';
	while (!strstr(buf, want) && now_ms() < deadline && n < len - 1) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t r;

		if (poll(&p, 1, 100) <= 0)
			continue;
		r = read(fd, buf + n, len - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		buf[n] = '\0';
	}
}

/* The start of the line of @text that holds @want, or NULL. */
static const char *line_with(const char *text, const char *want)
{
	const char *p = strstr(text, want);

	if (!p)
		return NULL;
	while (p > text && p[-1] != '\n')
		p--;
	return p;
}

START_TEST(test_journal_stream_gets_priority_prefixes_and_no_timestamp)
{
	char env[64], out[8192], file[128], file0[160];
	struct launch l = {.env = {env}};
	const char *a[] = {"-s",	  vu,		"-b",
			   "uds",	  "--uds-path", con,
			   "--log-level", "debug",	NULL};
	const char *bad[] = {"-s", file, "-b", "uds", "--uds-path", con, NULL};
	struct daemon_proc d = {0};
	struct stat st;
	int pfd[2];

	/* A regular file where the socket would go: an error at start. */
	snprintf(file, sizeof(file), "%s/file", dir);
	snprintf(file0, sizeof(file0), "%s/file0", dir);
	close(open(file0, O_WRONLY | O_CREAT, 0600));
	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	ck_assert_int_eq(fstat(pfd[1], &st), 0);
	snprintf(env, sizeof(env), "JOURNAL_STREAM=%llu:%llu",
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	l.err_fd = pfd[1];
	spawn(&d, &l, a);
	read_pipe_until(pfd[0], out, sizeof(out), "<6>main: listening on ");
	ck_assert_msg(strstr(out, "<7>main: worker 0 started"), "stderr:\n%s",
		      out);
	/* Every line starts with a prefix and has no timestamp of ours. */
	for (char *line = out; *line; line = strchr(line, '\n') + 1) {
		ck_assert_msg(line[0] == '<' && line[2] == '>' &&
				      strchr("34567", line[1]),
			      "line without a priority: %s", line);
		ck_assert_msg(strncmp(line + 3, "20", 2) != 0,
			      "a timestamp: %s", line);
		if (!strchr(line, '\n'))
			break;
	}
	/* A worker's line: "wN", with its priority too. */
	kill(wait_for_child(d.pid, "vdc-worker-0", 0, 5000), SIGTERM);
	read_pipe_until(pfd[0], out, sizeof(out), "<6>w0: ");
	ck_assert_msg(strstr(out, "<6>w0: Terminated"), "stderr:\n%s", out);
	expect_exit(daemon_stop(&d, SIGTERM, 10000), 0, &d);
	read_pipe_until(pfd[0], out, sizeof(out), "stopping\n");

	/* An error at start: <3>. */
	spawn(&d, &l, bad);
	expect_exit(wait_pid_timeout(d.pid, 10000), 1, &d);
	read_pipe_until(pfd[0], out, sizeof(out), "<3>main: cannot start: ");
	ck_assert_msg(line_with(out, "<3>main: cannot start: ") ==
			      strstr(out, "<3>main: cannot start: "),
		      "stderr:\n%s", out);

	/* JOURNAL_STREAM for another file (a redirected stderr): as today. */
	snprintf(env, sizeof(env), "JOURNAL_STREAM=%llu:%llu",
		 (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	spawn(&d, &l, a);
	read_pipe_until(pfd[0], out, sizeof(out), "Z main info: listening on ");
	ck_assert_msg(line_with(out, "Z main info: listening on ") &&
			      !strncmp(line_with(out,
						 "Z main info: listening on "),
				       "20", 2),
		      "stderr:\n%s", out);
	expect_exit(daemon_stop(&d, SIGTERM, 10000), 0, &d);
	close(pfd[0]);
	close(pfd[1]);
}
END_TEST

Suite *systemd_suite(void)
{
	Suite *s = suite_create("systemd");
	TCase *tc = tcase_create("systemd");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_socket_names_parse);
	tcase_add_test(tc, test_notify_address_and_watchdog_parse);
	tcase_add_test(tc, test_journal_stream_parse);
	tcase_add_test(tc, test_notify_ready_status_then_stopping_in_order);
	tcase_add_test(tc,
		       test_notify_abstract_socket_and_status_follows_workers);
	tcase_add_test(tc,
		       test_sigusr1_sends_reloading_with_monotonic_time_then_ready);
	tcase_add_test(tc, test_watchdog_pings_only_when_meant_for_us);
	tcase_add_test(tc, test_notify_socket_gone_never_fails_the_daemon);
	tcase_add_test(tc,
		       test_systemd_socket_activate_serves_the_passed_socket);
	tcase_add_test(tc,
		       test_systemd_socket_activate_datagram_is_one_error_line);
	tcase_add_test(tc,
		       test_passed_sockets_by_name_and_index_are_served_and_kept);
	tcase_add_test(tc,
		       test_passed_tcp_console_web_and_port_sockets_are_served);
	tcase_add_test(tc, test_fd_option_keeps_working_with_listen_fds_set);
	tcase_add_test(tc, test_mismatched_sockets_are_one_error_line_each);
	tcase_add_test(tc,
		       test_journal_stream_gets_priority_prefixes_and_no_timestamp);
	suite_add_tcase(s, tc);
	return s;
}
