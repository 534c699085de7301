/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_access.c - who gets in: the uid behind a unix or loopback TCP
 * connection (peer.c), the policy that admits it, and every console door
 * of the daemon refusing another local user (uid 65534) unless it is
 * allowed.
 */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "as_user.h"
#include "helpers.h"
#include "peer.h"
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

Suite *access_suite(void)
{
	Suite *s = suite_create("access");
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
	suite_add_tcase(s, tc);
	tc = tcase_create("policy");
	tcase_add_test(tc,
		       test_policy_admits_root_and_ourselves_only_by_default);
	tcase_add_test(tc, test_policy_admits_listed_users);
	tcase_add_test(tc, test_policy_admits_a_group_by_primary_gid);
	tcase_add_test(tc, test_policy_of_an_empty_group_admits_nobody_more);
	suite_add_tcase(s, tc);
	return s;
}
