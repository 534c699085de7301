/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_access.c - who gets in: the uid behind a unix or loopback TCP
 * connection (peer.c), the policy that admits it, and every console door
 * of the daemon (TCP and unix consoles, named ports) refusing another
 * local user (uid 65534, a forked child) unless it is allowed, before it
 * sees a byte or takes a slot; the sockets' modes and groups.
 */
#include <check.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "as_user.h"
#include "peer.h"
#include "session.h"
#include "suites.h"

/* A listener on the loopback of @family (port chosen by the kernel). */
static int listen_loopback(int family, struct sockaddr_storage *sa,
			   socklen_t *len)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	memset(sa, 0, sizeof(*sa));
	if (family == AF_INET) {
		struct sockaddr_in *in = (void *)sa;

		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (void *)sa;

		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		*len = sizeof(*in6);
	}
	if (bind(fd, (struct sockaddr *)sa, *len) < 0) {
		close(fd);
		return -1;
	}
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)sa, len), 0);
	return fd;
}

/*
 * connect_as_nobody() - a child as uid 65534 connects to @sa and, when
 * @hold, stays until the other end closes; else it closes at once
 */
static pid_t connect_as_nobody(const void *sa, socklen_t len, bool hold)
{
	pid_t pid = fork_as_user(NOBODY_UID, NOBODY_GID);
	char c;
	int fd;

	if (pid)
		return pid;
	fd = socket(((const struct sockaddr *)sa)->sa_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, sa, len) < 0)
		_exit(1);
	if (!hold) {
		/* Something to read, as a typing attacker would leave. */
		if (write(fd, "x", 1) != 1)
			_exit(2);
		close(fd);
		_exit(0);
	}
	while (read(fd, &c, 1) > 0)
		;
	_exit(0);
}

/* A child of uid 65534 connects to @lfd at @sa: the lookup names it. */
static void expect_nobody_accepted(int lfd, const void *sa, socklen_t len)
{
	char err[256] = "";
	uid_t uid = 0;
	pid_t pid = connect_as_nobody(sa, len, true);
	int afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	ck_assert_int_ge(afd, 0);
	ck_assert_msg(peer_uid(afd, &uid, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(uid, NOBODY_UID);
	close(afd);
	ck_assert_int_eq(wait_child_exit(pid, 10000), 0);
}

/* The same over a TCP loopback of @family. */
static void expect_nobody_over(int family)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int lfd = listen_loopback(family, &sa, &len);

	if (lfd < 0 && family == AF_INET6)
		return; /* no ::1 on this host */
	ck_assert_int_ge(lfd, 0);
	expect_nobody_accepted(lfd, &sa, len);
	close(lfd);
}

START_TEST(test_peer_uid_of_a_socketpair_is_ours)
{
	char err[256] = "";
	uid_t uid = 12345;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_msg(peer_uid(sv[0], &uid, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(uid, geteuid());
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_peer_uid_of_a_unix_client_as_nobody)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[64];
	int lfd;

	make_tmpdir(dir, sizeof(dir));
	ck_assert_int_eq(chmod(dir, 0755), 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s", dir);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(chmod(sa.sun_path, 0666), 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	expect_nobody_accepted(lfd, &sa, sizeof(sa));
	close(lfd);
	remove_tree(dir);
}
END_TEST

START_TEST(test_peer_uid_of_a_tcp_client_as_nobody)
{
	expect_nobody_over(AF_INET);
}
END_TEST

START_TEST(test_peer_uid_of_a_tcp6_client_as_nobody)
{
	expect_nobody_over(AF_INET6);
}
END_TEST

/* A listener on [::] that an IPv4 client reaches: v4-mapped addresses. */
START_TEST(test_peer_uid_of_a_v4_mapped_client_as_nobody)
{
	struct sockaddr_in6 any = {.sin6_family = AF_INET6,
				   .sin6_addr = IN6ADDR_ANY_INIT};
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(any);
	int lfd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), off = 0;

	ck_assert_int_ge(lfd, 0);
	setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (bind(lfd, (struct sockaddr *)&any, sizeof(any)) < 0) {
		close(lfd);
		return; /* no IPv6 on this host */
	}
	ck_assert_int_eq(listen(lfd, 1), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&any, &len), 0);
	to.sin_port = any.sin6_port;
	expect_nobody_accepted(lfd, &to, sizeof(to));
	close(lfd);
}
END_TEST

/*
 * A client that typed and closed before the accept leaves a socket the
 * kernel reports as owned by uid 0: it must fail, never pass for root.
 */
START_TEST(test_peer_uid_of_a_closed_tcp_client_fails_closed)
{
	struct sockaddr_storage sa;
	socklen_t len;
	char err[256] = "";
	uid_t uid = 4242;
	int lfd = listen_loopback(AF_INET, &sa, &len);
	int afd;
	pid_t pid;

	pid = connect_as_nobody(&sa, len, false);
	ck_assert_int_eq(wait_child_exit(pid, 10000), 0);
	afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(afd, 0);
	ck_assert_int_eq(peer_uid(afd, &uid, err, sizeof(err)), -1);
	ck_assert_uint_eq(uid, 4242);
	ck_assert_msg(err[0] != '\0', "no reason given");
	close(afd);
	close(lfd);
}
END_TEST

START_TEST(test_peer_uid_of_what_is_no_connection_fails)
{
	char err[256] = "";
	uid_t uid;
	int p[2], u;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(peer_uid(p[0], &uid, err, sizeof(err)), -1);
	ck_assert_msg(err[0] != '\0', "no reason given");
	u = socket(AF_INET, SOCK_DGRAM, 0);
	err[0] = '\0';
	ck_assert_int_eq(peer_uid(u, &uid, err, sizeof(err)), -1);
	ck_assert_msg(err[0] != '\0', "no reason given");
	close(u);
	u = socket(AF_UNIX, SOCK_STREAM, 0);
	err[0] = '\0';
	ck_assert_int_eq(peer_uid(u, &uid, err, sizeof(err)), -1);
	ck_assert_msg(err[0] != '\0', "no reason given");
	close(u);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_diag_is_available_here)
{
	ck_assert_msg(peer_diag_available(), "%s", peer_diag_error());
	ck_assert(peer_diag_available());
	ck_assert_str_eq(peer_diag_error(), "");
}
END_TEST

START_TEST(test_policy_admits_root_and_ourselves_only_by_default)
{
	static struct peer_policy p;
	char err[256];

	ck_assert_int_eq(peer_policy_resolve(&p, err, sizeof(err)), 0);
	ck_assert(peer_allowed(&p, 0));
	ck_assert(peer_allowed(&p, geteuid()));
	ck_assert(!peer_allowed(&p, NOBODY_UID));
	ck_assert(!peer_allowed(&p, 1000));
	ck_assert(!peer_allowed(&p, (uid_t)-1));
}
END_TEST

START_TEST(test_policy_admits_listed_users)
{
	static struct peer_policy p;
	char err[256];

	p.users[p.nusers++] = 1000;
	p.users[p.nusers++] = NOBODY_UID;
	ck_assert_int_eq(peer_policy_resolve(&p, err, sizeof(err)), 0);
	ck_assert(peer_allowed(&p, NOBODY_UID));
	ck_assert(peer_allowed(&p, 1000));
	ck_assert(!peer_allowed(&p, 1001));
}
END_TEST

/* nobody's primary group is nogroup (65534); root is in no such group. */
START_TEST(test_policy_admits_a_group_by_primary_gid)
{
	static struct peer_policy p;
	char err[256];

	p.groups[p.ngroups++] = NOBODY_GID;
	ck_assert_msg(peer_policy_resolve(&p, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert(peer_allowed(&p, NOBODY_UID));
	ck_assert(!peer_allowed(&p, 1000));
	/* Resolving again starts over, it does not pile up. */
	p.ngroups = 0;
	ck_assert_int_eq(peer_policy_resolve(&p, err, sizeof(err)), 0);
	ck_assert(!peer_allowed(&p, NOBODY_UID));
}
END_TEST

/* Names and numbers as the options give them; limits say so. */
START_TEST(test_policy_parses_names_numbers_and_limits)
{
	static struct peer_policy p;
	char err[256], arg[16];
	uid_t uid = 0;
	gid_t gid = 0;

	ck_assert_int_eq(peer_parse_user("nobody", &uid, err, sizeof(err)), 0);
	ck_assert_uint_eq(uid, NOBODY_UID);
	ck_assert_int_eq(peer_parse_group("nogroup", &gid, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(gid, NOBODY_GID);
	/* A uid needs no passwd entry; a name must have one. */
	ck_assert_int_eq(peer_parse_user("54321", &uid, err, sizeof(err)), 0);
	ck_assert_uint_eq(uid, 54321);
	ck_assert_int_eq(peer_parse_user("1x", &uid, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "no user named '1x'");
	ck_assert_int_eq(peer_parse_group("", &gid, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "no group named ''");
	ck_assert_int_eq(peer_parse_group("4294967295", &gid, err, sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "group id 4294967295 is out of range");
	for (unsigned int i = 0; i < PEER_MAX_ALLOWED; i++) {
		snprintf(arg, sizeof(arg), "%u", 2000 + i);
		ck_assert_int_eq(peer_policy_add_user(&p, arg, err,
						      sizeof(err)),
				 0);
	}
	/* Given twice is given once; one more is one too many. */
	ck_assert_int_eq(peer_policy_add_user(&p, "2000", err, sizeof(err)), 0);
	ck_assert_int_eq(peer_policy_add_user(&p, "3000", err, sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "at most 32 users");
	ck_assert(peer_allowed(&p, 2031));
	ck_assert(!peer_allowed(&p, 3000));
}
END_TEST

/* A gid no group has: only its primary users, here none. */
START_TEST(test_policy_of_an_empty_group_admits_nobody_more)
{
	static struct peer_policy p;
	char err[256];

	p.groups[p.ngroups++] = 54321;
	ck_assert_int_eq(peer_policy_resolve(&p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.nmembers, 0);
	ck_assert(!peer_allowed(&p, NOBODY_UID));
}
END_TEST

/* ---- The daemon's doors, tried by uid 65534 ---- */

#define PORT_REFUSED 25170u /* network backend ports of these tests */
#define PORT_SLOTS   25171u
#define PORT_ALLOWED 25172u
#define PORT_EARLY   25173u
#define PORT_FLOOD   25174u
#define PORT_NO_DIAG 25175u

#define BOOT "[    0.000000] Linux version 6.1\r\nsecret-host login: "
#define REFUSED_CONSOLE                                                        \
	"vhost-device-console: uid 65534 is not allowed on this console\r\n"
#define REFUSED_PORT                                                           \
	"vhost-device-console: uid 65534 is not allowed on this port\r\n"
#define EXIT_EACCES 13

static struct session s;
static struct fe fe;
static char port_dir[64];

static void daemon_teardown(void)
{
	fe_close(&fe);
	if (s.d.pid > 0)
		session_stop(&s);
	if (port_dir[0])
		remove_tree(port_dir);
	port_dir[0] = '\0';
}

/* The guest writes @text before anybody is connected: the console holds
 * it for the first client (boot output nobody else may see). */
static void guest_boots(const char *text)
{
	long deadline = now_ms() + 5000;
	uint16_t id;
	uint32_t len;

	session_console(&s, &fe, FE_STYLE_QEMU);
	ck_assert_int_eq(fe_submit_tx(&fe, CONSOLE_QUEUE_TX, text, strlen(text),
				      (uint32_t)strlen(text), false),
			 0);
	fe_publish(&fe, CONSOLE_QUEUE_TX);
	while (fe_get_used(&fe, CONSOLE_QUEUE_TX, &id, &len) != 1) {
		ck_assert_msg(now_ms() < deadline, "tx chain never used");
		fe_wait_call(&fe, CONSOLE_QUEUE_TX, 50);
	}
}

/* What a stranger does: one connection to a TCP port or a unix path. */
struct plan {
	unsigned int tcp_port; /* or */
	const char *path;
	size_t want; /* read this many bytes (0: to the end) */
	const char *type; /* then type this, if not NULL */
	bool close_at_once; /* type (if any) and close, without reading */
};

static int connect_plan(const struct plan *p)
{
	return p->tcp_port ? connect_tcp_loopback(p->tcp_port)
			   : connect_unix(p->path);
}

/* In the child: read to the end (or @want bytes) within 10 s. */
static size_t read_to_end(int fd, char *buf, size_t cap, size_t want)
{
	long deadline = now_ms() + 10000;
	size_t have = 0;

	while (have < cap && (!want || have < want)) {
		struct pollfd pfd = {fd, POLLIN, 0};
		long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		n = read(fd, buf + have, cap - have);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	return have;
}

/*
 * stranger() - uid 65534 carries out @p; what it read comes back in @got
 * Return: the child's exit code (EXIT_EACCES: the file mode kept it out)
 */
static int stranger(const struct plan *p, char *got, size_t cap)
{
	char buf[4096];
	int pipefd[2], fd;
	size_t n = 0, have;
	pid_t pid;

	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork_as_user(NOBODY_UID, NOBODY_GID);
	if (pid == 0) {
		close(pipefd[0]);
		fd = connect_plan(p);
		if (fd < 0)
			_exit(errno == EACCES ? EXIT_EACCES : 1);
		if (!p->close_at_once)
			n = read_to_end(fd, buf, sizeof(buf), p->want);
		if (p->type && write(fd, p->type, strlen(p->type)) < 0)
			_exit(2);
		if (n && write(pipefd[1], buf, n) != (ssize_t)n)
			_exit(3);
		_exit(0);
	}
	close(pipefd[1]);
	have = read_to_end(pipefd[0], got, cap - 1, 0);
	got[have] = '\0';
	close(pipefd[0]);
	return wait_child_exit(pid, 15000);
}

static void expect_refused_line(const struct plan *p, const char *line)
{
	char got[4096];

	ck_assert_int_eq(stranger(p, got, sizeof(got)), 0);
	ck_assert_msg(strcmp(got, line) == 0,
		      "the stranger got \"%s\"; log:\n%s", got,
		      daemon_log(&s.d));
}

/* The owner (root) still gets the held boot output, and types. */
static void owner_gets_boot_and_types(void)
{
	char got[256];

	ck_assert_msg(read_exact(session_client(&s), got, strlen(BOOT), 5000),
		      "the owner got no boot output; log:\n%s",
		      daemon_log(&s.d));
	ck_assert(memcmp(got, BOOT, strlen(BOOT)) == 0);
	write_all(s.client, "ok", 2);
	ck_assert_int_eq(fe_read_rx(&fe, got, sizeof(got), 5000), 2);
	ck_assert(memcmp(got, "ok", 2) == 0);
}

START_TEST(test_tcp_stranger_gets_the_refusal_line_and_no_boot_output)
{
	struct plan p = {.tcp_port = PORT_REFUSED};

	session_start_tcp(&s, PORT_REFUSED, NULL);
	guest_boots(BOOT);
	expect_refused_line(&p, REFUSED_CONSOLE);
	ck_assert(log_has(
		&s,
		"client refused on console 0 (tcp 127.0.0.1:25170): uid 65534 is not allowed",
		3000));
	owner_gets_boot_and_types();
}
END_TEST

/* Eight strangers, one slot: the owner still is the writer. */
START_TEST(test_tcp_strangers_take_no_client_slot)
{
	static const char *const extra[] = {"--max-clients=1", NULL};
	int go[2], report[2], fds[8];
	unsigned int refused = 0;
	char line[4096];
	pid_t pid;

	session_start_tcp(&s, PORT_SLOTS, extra);
	guest_boots(BOOT);
	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(report), 0);
	pid = fork_as_user(NOBODY_UID, NOBODY_GID);
	if (pid == 0) {
		char c = 0;

		close(go[1]);
		close(report[0]);
		/* All eight open at once, and kept open while the owner
		 * comes: none of them may hold a slot. */
		for (int i = 0; i < 8; i++) {
			fds[i] = connect_tcp_loopback(PORT_SLOTS);
			if (fds[i] < 0)
				_exit(1);
		}
		for (int i = 0; i < 8; i++) {
			size_t n =
				read_to_end(fds[i], line, sizeof(line) - 1, 0);

			line[n] = '\0';
			refused += strcmp(line, REFUSED_CONSOLE) == 0;
		}
		c = (char)refused;
		if (write(report[1], &c, 1) != 1 || read(go[0], &c, 1) < 0)
			_exit(2);
		_exit(0);
	}
	close(report[1]);
	close(go[0]);
	ck_assert(read_exact(report[0], line, 1, 15000));
	ck_assert_msg(line[0] == 8, "%d of 8 strangers refused; log:\n%s",
		      line[0], daemon_log(&s.d));
	owner_gets_boot_and_types();
	ck_assert(log_has(&s, "console client connected", 3000));
	ck_assert(!strstr(daemon_log(&s.d), "this console is full"));
	ck_assert(!strstr(daemon_log(&s.d), "console client refused"));
	close(go[1]);
	close(report[0]);
	ck_assert_int_eq(wait_child_exit(pid, 10000), 0);
}
END_TEST

START_TEST(test_tcp_allow_user_admits_the_stranger)
{
	static const char *const extra[] = {"--allow-user=65534", NULL};
	struct plan p = {.tcp_port = PORT_ALLOWED,
			 .want = strlen(BOOT),
			 .type = "hi"};
	char got[4096];

	session_start_tcp(&s, PORT_ALLOWED, extra);
	guest_boots(BOOT);
	ck_assert_int_eq(stranger(&p, got, sizeof(got)), 0);
	ck_assert_msg(strcmp(got, BOOT) == 0, "got \"%s\"; log:\n%s", got,
		      daemon_log(&s.d));
	/* It was the writer: what it typed reaches the guest. */
	ck_assert_int_eq(fe_read_rx(&fe, got, sizeof(got), 5000), 2);
	ck_assert(memcmp(got, "hi", 2) == 0);
}
END_TEST

/*
 * A stranger that types and closes before the daemon looks: its socket is
 * gone or orphaned (the kernel then names uid 0). Its keys never reach the
 * guest and it takes no boot output.
 */
START_TEST(test_tcp_stranger_that_types_and_closes_at_once_is_refused)
{
	struct plan p = {.tcp_port = PORT_EARLY,
			 .type = "reboot\r",
			 .close_at_once = true};
	char got[64];

	session_start_tcp(&s, PORT_EARLY, NULL);
	guest_boots(BOOT);
	ck_assert_int_eq(stranger(&p, got, sizeof(got)), 0);
	ck_assert_msg(log_has(&s,
			      "client refused on console 0 (tcp 127.0.0.1:25173)",
			      5000),
		      "log:\n%s", daemon_log(&s.d));
	owner_gets_boot_and_types();
}
END_TEST

/* Thirty refusals in a row: at most a line a second in the log. */
START_TEST(test_tcp_refusals_are_logged_rate_limited)
{
	long start = now_ms(), secs;
	unsigned int lines = 0;
	char got[64];
	const char *l;
	pid_t pid;

	session_start_tcp(&s, PORT_FLOOD, NULL);
	pid = fork_as_user(NOBODY_UID, NOBODY_GID);
	if (pid == 0) {
		for (int i = 0; i < 30; i++) {
			int fd = connect_tcp_loopback(PORT_FLOOD);

			if (fd < 0)
				_exit(1);
			read_to_end(fd, got, sizeof(got), 0);
			close(fd);
		}
		_exit(0);
	}
	ck_assert_int_eq(wait_child_exit(pid, 20000), 0);
	secs = (now_ms() - start) / 1000;
	ck_assert(log_has(&s, "client refused on console 0", 3000));
	for (l = daemon_log(&s.d); (l = strstr(l, "client refused on")); l++)
		lines++;
	ck_assert_msg(lines >= 1 && lines <= (unsigned int)secs + 2,
		      "%u refusal lines in %ld s", lines, secs);
}
END_TEST

/*
 * no_sock_diag() - from now on, in this test's process and the daemon it
 * starts, socket(AF_NETLINK, ...) fails as on a kernel without it
 */
static void no_sock_diag(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EAFNOSUPPORT),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};

	ck_assert_int_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	ck_assert_int_eq(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
	ck_assert_int_lt(socket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG), 0);
}

/* A kernel that cannot say who connected: nobody gets in over TCP, not
 * even root, and the daemon said why at start. */
START_TEST(test_tcp_without_sock_diag_refuses_everybody)
{
	const char *fork_mode = getenv("CK_FORK");
	char got[256];
	int fd;

	if (fork_mode && strcmp(fork_mode, "no") == 0)
		return; /* the filter would outlive this test */
	no_sock_diag();
	session_start_tcp(&s, PORT_NO_DIAG, NULL);
	ck_assert(log_has(&s,
			  "the kernel does not tell who owns a TCP connection",
			  5000));
	guest_boots(BOOT);
	fd = connect_tcp_loopback(PORT_NO_DIAG);
	ck_assert_int_ge(fd, 0);
	got[read_to_end(fd, got, sizeof(got) - 1, 0)] = '\0';
	ck_assert_str_eq(
		got,
		"vhost-device-console: this console cannot tell who connected, so it lets nobody in over TCP\r\n");
	close(fd);
	ck_assert(log_has(
		&s,
		"client refused on console 0 (tcp 127.0.0.1:25175): the kernel has no socket diagnostics",
		3000));
}
END_TEST

static void stat_socket(const char *path, unsigned int mode, gid_t gid)
{
	struct stat st;

	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert_msg((st.st_mode & 07777) == mode, "%s: mode %o, not %o", path,
		      st.st_mode & 07777, mode);
	ck_assert_uint_eq(st.st_gid, gid);
}

/* The session's directory, and what is in it, within the stranger's
 * reach: only the socket's own mode keeps it out. */
static void open_dir(void)
{
	ck_assert_int_eq(chmod(s.dir, 0755), 0);
}

START_TEST(test_uds_stranger_is_kept_out_by_mode_and_by_uid)
{
	struct plan p = {0};
	char got[64];

	session_start(&s, NULL);
	open_dir();
	p.path = s.uds_path;
	guest_boots(BOOT);
	stat_socket(s.uds_path, 0600, getegid());
	ck_assert_int_eq(stranger(&p, got, sizeof(got)), EXIT_EACCES);
	/* Were the mode careless, the door still says no. */
	ck_assert_int_eq(chmod(s.uds_path, 0666), 0);
	expect_refused_line(&p, REFUSED_CONSOLE);
	ck_assert(log_has(&s, "client refused on console 0 (unix ", 3000));
	ck_assert(log_has(&s, "con0): uid 65534 is not allowed", 3000));
	owner_gets_boot_and_types();
}
END_TEST

START_TEST(test_uds_allow_group_shares_the_socket_and_admits)
{
	static const char *const extra[] = {"--allow-group=nogroup", NULL};
	struct plan p = {.want = strlen(BOOT)};
	char got[4096];

	session_start(&s, extra);
	open_dir();
	p.path = s.uds_path;
	guest_boots(BOOT);
	stat_socket(s.uds_path, 0660, NOBODY_GID);
	ck_assert_int_eq(stranger(&p, got, sizeof(got)), 0);
	ck_assert_msg(strcmp(got, BOOT) == 0, "got \"%s\"; log:\n%s", got,
		      daemon_log(&s.d));
}
END_TEST

/* A daemon with the named port "data" on PORT_DIR/data0. */
static void start_with_port(const char *allow, char *path, size_t len)
{
	const char *extra[] = {NULL, allow, NULL};
	char arg[128];

	make_tmpdir(port_dir, sizeof(port_dir));
	ck_assert_int_eq(chmod(port_dir, 0755), 0);
	snprintf(arg, sizeof(arg), "--port=data:%s/data", port_dir);
	snprintf(path, len, "%s/data0", port_dir);
	extra[0] = arg;
	session_start(&s, extra);
	ck_assert(wait_for_socket(path, 5000));
	/* That probe was root's: wait until it has come and gone. */
	ck_assert(log_has(&s, "port 1 (data): host client left", 5000));
}

START_TEST(test_port_stranger_is_kept_out_by_mode_and_by_uid)
{
	struct plan p = {0};
	char path[128], got[64];
	size_t mark;

	start_with_port(NULL, path, sizeof(path));
	p.path = path;
	stat_socket(path, 0600, getegid());
	ck_assert_int_eq(stranger(&p, got, sizeof(got)), EXIT_EACCES);
	ck_assert_int_eq(chmod(path, 0666), 0);
	mark = log_mark(&s);
	expect_refused_line(&p, REFUSED_PORT);
	ck_assert(log_has_since(&s, mark,
				"client refused on port data of guest 0 (unix ",
				3000));
	ck_assert(!strstr(daemon_log(&s.d) + mark, "port client connected"));
}
END_TEST

START_TEST(test_port_allow_group_shares_the_socket_and_admits)
{
	struct plan p = {.close_at_once = true};
	char path[128], got[64];
	size_t mark;

	start_with_port("--allow-group=65534", path, sizeof(path));
	p.path = path;
	stat_socket(path, 0660, NOBODY_GID);
	mark = log_mark(&s);
	ck_assert_int_eq(stranger(&p, got, sizeof(got)), 0);
	ck_assert_msg(log_has_since(&s, mark, "port client connected", 5000),
		      "log:\n%s", daemon_log(&s.d));
	ck_assert(!strstr(daemon_log(&s.d), "client refused"));
}
END_TEST

/* --socket-group: a VMM of that group reaches the vhost-user socket. */
START_TEST(test_socket_group_shares_the_vhost_user_socket)
{
	static const char *const extra[] = {"--socket-group=nogroup", NULL};
	struct plan p = {.close_at_once = true};
	char got[64];

	session_start(&s, extra);
	open_dir();
	stat_socket(s.vu_path, 0660, NOBODY_GID);
	p.path = s.vu_path;
	ck_assert_int_eq(stranger(&p, got, sizeof(got)), 0);
}
END_TEST

/* Without it the socket is as the umask makes it: here not the others'. */
START_TEST(test_vhost_user_socket_follows_the_umask)
{
	struct plan p = {.close_at_once = true};
	struct stat st;
	char got[64];
	mode_t old = umask(022);

	session_start(&s, NULL);
	umask(old);
	open_dir();
	ck_assert_int_eq(lstat(s.vu_path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0755);
	p.path = s.vu_path;
	ck_assert_int_eq(stranger(&p, got, sizeof(got)), EXIT_EACCES);
}
END_TEST

Suite *access_suite(void)
{
	Suite *suite = suite_create("access");
	TCase *tc = tcase_create("peer");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_peer_uid_of_a_socketpair_is_ours);
	tcase_add_test(tc, test_peer_uid_of_a_unix_client_as_nobody);
	tcase_add_test(tc, test_peer_uid_of_a_tcp_client_as_nobody);
	tcase_add_test(tc, test_peer_uid_of_a_tcp6_client_as_nobody);
	tcase_add_test(tc, test_peer_uid_of_a_v4_mapped_client_as_nobody);
	tcase_add_test(tc, test_peer_uid_of_a_closed_tcp_client_fails_closed);
	tcase_add_test(tc, test_peer_uid_of_what_is_no_connection_fails);
	tcase_add_test(tc, test_diag_is_available_here);
	suite_add_tcase(suite, tc);
	tc = tcase_create("policy");
	tcase_add_test(tc,
		       test_policy_admits_root_and_ourselves_only_by_default);
	tcase_add_test(tc, test_policy_admits_listed_users);
	tcase_add_test(tc, test_policy_admits_a_group_by_primary_gid);
	tcase_add_test(tc, test_policy_of_an_empty_group_admits_nobody_more);
	tcase_add_test(tc, test_policy_parses_names_numbers_and_limits);
	suite_add_tcase(suite, tc);
	tc = tcase_create("doors");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, daemon_teardown);
	tcase_add_test(tc,
		       test_tcp_stranger_gets_the_refusal_line_and_no_boot_output);
	tcase_add_test(tc, test_tcp_strangers_take_no_client_slot);
	tcase_add_test(tc, test_tcp_allow_user_admits_the_stranger);
	tcase_add_test(tc,
		       test_tcp_stranger_that_types_and_closes_at_once_is_refused);
	tcase_add_test(tc, test_tcp_refusals_are_logged_rate_limited);
	tcase_add_test(tc, test_tcp_without_sock_diag_refuses_everybody);
	tcase_add_test(tc, test_uds_stranger_is_kept_out_by_mode_and_by_uid);
	tcase_add_test(tc, test_uds_allow_group_shares_the_socket_and_admits);
	tcase_add_test(tc, test_port_stranger_is_kept_out_by_mode_and_by_uid);
	tcase_add_test(tc, test_port_allow_group_shares_the_socket_and_admits);
	tcase_add_test(tc, test_socket_group_shares_the_vhost_user_socket);
	tcase_add_test(tc, test_vhost_user_socket_follows_the_umask);
	suite_add_tcase(suite, tc);
	return suite;
}
