/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * sd_listen.c - take the listening sockets systemd passed (sd_listen_fds(3)
 * without libsystemd).
 *
 * Everything is checked before the first fork, once: the names, the
 * counts and each socket's family, type and listening state, so that a
 * socket unit that does not fit the command line fails the start with one
 * line naming the fd and what is wrong, instead of a worker that later
 * accepts on a datagram socket. The names are in sd_listen.h.
 *
 * A TCP socket passed for the console or the web console must be IPv4 on
 * the loopback address: the daemon's own listeners never are anything
 * else, and its doors (the peer's uid) and the web console's peer
 * addresses are built for that.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sd_listen.h"
#include "sock.h"

/* A guest index: decimal digits only, below 2^32. */
static int parse_index(const char *s, long *index)
{
	unsigned long long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long long)(*s - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	*index = (long)v;
	return 0;
}

/* @name is @role, or @role "." index. */
static int match_role(const char *name, const char *role, long *index)
{
	size_t n = strlen(role);

	if (strncmp(name, role, n) != 0)
		return -1;
	if (name[n] == '\0') {
		*index = -1;
		return 0;
	}
	if (name[n] != '.')
		return -1;
	return parse_index(name + n + 1, index);
}

/* port.NAME[.I]; an exact port name wins ("port.a.1" is port "a.1"). */
static int match_port(const char *name, const struct options *o,
		      struct sd_listen_fd *out)
{
	char role[PORT_NAME_MAX + 8];

	for (int exact = 1; exact >= 0; exact--) {
		for (unsigned int p = 0; p < o->port_count; p++) {
			snprintf(role, sizeof(role), "port.%s",
				 o->ports[p].name);
			if (exact && strcmp(name, role) != 0)
				continue;
			if (match_role(name, role, &out->index) == 0) {
				out->role = SD_LISTEN_PORT;
				out->port = p;
				return 0;
			}
		}
	}
	return -1;
}

/**
 * sd_listen_parse_name() - what a passed fd's name says it is
 * @name:	one of $LISTEN_FDNAMES
 * @o:		the options, for the --port names
 * @out:	role, port and index (-1 for a name without one) on success
 *
 * Return: 0, or -1 for a name that is none of ours
 */
int sd_listen_parse_name(const char *name, const struct options *o,
			 struct sd_listen_fd *out)
{
	static const struct {
		const char *name;
		enum sd_listen_role role;
	} roles[] = {
		{"vhost-user", SD_LISTEN_VHOST_USER},
		{"console", SD_LISTEN_CONSOLE},
		{"web", SD_LISTEN_WEB},
	};

	out->port = 0;
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		if (match_role(name, roles[i].name, &out->index) == 0) {
			out->role = roles[i].role;
			return 0;
		}
	}
	return match_port(name, o, out);
}

static int __attribute__((format(printf, 3, 4)))
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "socket activation: ");

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* IPv4 loopback, 127.0.0.0/8: where the daemon's own TCP listeners are. */
static bool is_loopback(int fd)
{
	struct sockaddr_in in = {0};
	socklen_t len = sizeof(in);

	if (getsockname(fd, (struct sockaddr *)&in, &len) < 0 ||
	    in.sin_family != AF_INET)
		return false;
	return (ntohl(in.sin_addr.s_addr) >> 24) == 127;
}

/* Is the fd the kind of listener its role needs? */
static int check_socket(const struct sd_listen_fd *f, const char *name,
			const struct options *o, char *err, size_t errlen)
{
	bool inet = f->role == SD_LISTEN_WEB || (f->role == SD_LISTEN_CONSOLE &&
						 o->backend == BACKEND_NETWORK);
	int domain = 0, type = 0;
	int listening = sock_listener_kind(f->fd, &domain, &type);

	if (listening < 0)
		return fail(err, errlen, "fd %d ('%s') is not a socket", f->fd,
			    name);
	if (type != SOCK_STREAM)
		return fail(err, errlen,
			    "fd %d ('%s') is not a stream socket (ListenStream=)",
			    f->fd, name);
	if (!inet && domain != AF_UNIX)
		return fail(err, errlen,
			    "fd %d ('%s') is not a unix socket; it must be a path",
			    f->fd, name);
	if (inet && domain != AF_INET)
		return fail(err, errlen,
			    "fd %d ('%s') is not an IPv4 TCP socket", f->fd,
			    name);
	if (!listening)
		return fail(err, errlen,
			    "fd %d ('%s') is not listening (Accept=no)", f->fd,
			    name);
	if (inet && !is_loopback(f->fd))
		return fail(err, errlen,
			    "fd %d ('%s') is not bound to the loopback address (127.0.0.1)",
			    f->fd, name);
	return 0;
}

/* A name that fits the command line as well as the scheme. */
static int check_role(const struct sd_listen_fd *f, const char *name,
		      const struct options *o, char *err, size_t errlen)
{
	if (f->role == SD_LISTEN_CONSOLE && o->backend == BACKEND_NESTED)
		return fail(err, errlen,
			    "fd %d is named '%s', but the nested backend has no console socket",
			    f->fd, name);
	if (f->role == SD_LISTEN_WEB && !o->web_port)
		return fail(err, errlen,
			    "fd %d is named '%s', but --web-port is not set",
			    f->fd, name);
	if (f->index >= (long)o->socket_count)
		return fail(err, errlen,
			    "fd %d ('%s') would be guest %ld's, but --socket-count is %u",
			    f->fd, name, f->index, o->socket_count);
	return 0;
}

static bool same_socket_kind(const struct sd_listen_fd *a,
			     const struct sd_listen_fd *b)
{
	return a->role == b->role && a->port == b->port;
}

/*
 * assign_indexes() - plain names get guests 0, 1, ... in the order passed;
 * a kind named both ways, or one guest given two sockets, is refused
 */
static int assign_indexes(struct sd_listen *l, char **names,
			  const struct options *o, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < l->count; i++) {
		struct sd_listen_fd *f = &l->fds[i];
		long earlier = 0;

		f->plain = f->index < 0;
		for (unsigned int j = 0; j < i; j++) {
			const struct sd_listen_fd *g = &l->fds[j];

			if (!same_socket_kind(f, g))
				continue;
			if (g->plain != f->plain)
				return fail(err, errlen,
					    "fds %d ('%s') and %d ('%s') name one kind of socket with and without a guest index",
					    g->fd, names[j], f->fd, names[i]);
			earlier++;
		}
		if (f->plain)
			f->index = earlier;
	}
	for (unsigned int i = 0; i < l->count; i++) {
		struct sd_listen_fd *f = &l->fds[i];

		if (check_role(f, names[i], o, err, errlen) < 0)
			return -1;
		for (unsigned int j = 0; j < i; j++)
			if (same_socket_kind(f, &l->fds[j]) &&
			    l->fds[j].index == f->index)
				return fail(err, errlen,
					    "fds %d ('%s') and %d ('%s') are both guest %ld's",
					    l->fds[j].fd, names[j], f->fd,
					    names[i], f->index);
	}
	return 0;
}

/* Every guest has its vhost-user socket: the one kind that must come. */
static int check_vhost_user_count(const struct sd_listen *l,
				  const struct options *o, char *err,
				  size_t errlen)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < l->count; i++)
		n += l->fds[i].role == SD_LISTEN_VHOST_USER;
	if (n != o->socket_count)
		return fail(err, errlen,
			    "%u vhost-user socket%s passed (LISTEN_FDS=%u), but --socket-count is %u",
			    n, n == 1 ? "" : "s", l->count, o->socket_count);
	return 0;
}

/**
 * sd_listen_passed() - does $LISTEN_PID name us and $LISTEN_FDS pass some?
 *
 * For options_parse(): --socket-path is optional then.
 */
bool sd_listen_passed(void)
{
	const char *pid = getenv("LISTEN_PID");
	const char *fds = getenv("LISTEN_FDS");
	char self[24];

	snprintf(self, sizeof(self), "%ld", (long)getpid());
	return pid && fds && strcmp(pid, self) == 0 && strcmp(fds, "0") != 0;
}

/* LISTEN_FDS: decimal digits; above SD_LISTEN_FDS_MAX when it is not. */
static unsigned int parse_count(const char *s)
{
	unsigned int v = 0;

	if (!*s)
		return SD_LISTEN_FDS_MAX + 1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > SD_LISTEN_FDS_MAX)
			return SD_LISTEN_FDS_MAX + 1;
		v = v * 10 + (unsigned int)(*s - '0');
	}
	return v;
}

/* How many names LISTEN_FDNAMES holds: one more than its colons. */
static unsigned int count_names(const char *s)
{
	unsigned int n = 1;

	for (; *s; s++)
		n += *s == ':';
	return n;
}

static void unset_env(void)
{
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

/* $LISTEN_FDNAMES split at ':' into @count names; NULL: all "vhost-user". */
static char **split_names(char *list, unsigned int count)
{
	static char plain[] = "vhost-user";
	char **names = calloc(count, sizeof(*names));
	unsigned int n = 0;

	if (!names)
		return NULL;
	for (char *p = list; n < count; n++) {
		names[n] = list ? p : plain;
		if (!list)
			continue;
		p = strchr(p, ':');
		if (!p)
			break;
		*p++ = '\0';
	}
	return names;
}

/* Each fd open, close-on-exec (never into a worker's exec), and named. */
static int take_fds(struct sd_listen *l, char **names, const struct options *o,
		    char *err, size_t errlen)
{
	for (unsigned int i = 0; i < l->count; i++) {
		struct sd_listen_fd *f = &l->fds[i];

		f->fd = SD_LISTEN_FDS_START + (int)i;
		if (sock_set_cloexec(f->fd) < 0)
			return fail(err, errlen,
				    "fd %d (of LISTEN_FDS=%u) is not open",
				    f->fd, l->count);
	}
	for (unsigned int i = 0; i < l->count; i++) {
		struct sd_listen_fd *f = &l->fds[i];

		if (sd_listen_parse_name(names[i], o, f) < 0)
			return fail(err, errlen,
				    "fd %d is named '%s'; names are vhost-user, console, web or port.NAME, each with an optional .INDEX (FileDescriptorName=)",
				    f->fd, names[i]);
		if (check_socket(f, names[i], o, err, errlen) < 0)
			return -1;
	}
	if (assign_indexes(l, names, o, err, errlen) < 0)
		return -1;
	return check_vhost_user_count(l, o, err, errlen);
}

/**
 * sd_listen_open() - the sockets systemd passed, checked against @o
 * @l:		filled; count 0 when the daemon was not socket-activated
 * @o:		the options (with --fd, activation is not used)
 * @err:	one human line on failure
 * @errlen:	size of @err
 *
 * The LISTEN_* variables are removed from the environment either way.
 *
 * Return: 0, or -1 (the passed fds are closed by sd_listen_close())
 */
int sd_listen_open(struct sd_listen *l, const struct options *o, char *err,
		   size_t errlen)
{
	const char *count_s = getenv("LISTEN_FDS");
	const char *names_s = getenv("LISTEN_FDNAMES");
	char *list = NULL;
	char **names = NULL;
	unsigned int count;
	int r = -1;

	memset(l, 0, sizeof(*l));
	if (!count_s || !sd_listen_passed() || o->listen_fd >= 0) {
		unset_env();
		return 0;
	}
	count = parse_count(count_s);
	if (count > SD_LISTEN_FDS_MAX) {
		fail(err, errlen, "LISTEN_FDS=%s is not a number up to %u",
		     count_s, SD_LISTEN_FDS_MAX);
		goto out;
	}
	if (count == 0) {
		r = 0;
		goto out;
	}
	if (names_s && count_names(names_s) != count) {
		fail(err, errlen,
		     "LISTEN_FDNAMES names %u socket%s, LISTEN_FDS=%u",
		     count_names(names_s), count_names(names_s) == 1 ? "" : "s",
		     count);
		goto out;
	}
	list = names_s ? strdup(names_s) : NULL;
	l->fds = calloc(count, sizeof(*l->fds));
	names = split_names(list, count);
	if (!l->fds || !names || (names_s && !list)) {
		fail(err, errlen, "out of memory for %u sockets", count);
		goto out;
	}
	/* Not yet looked at: nothing for sd_listen_close() to close. */
	for (unsigned int i = 0; i < count; i++)
		l->fds[i].fd = -1;
	l->count = count;
	r = take_fds(l, names, o, err, errlen);
out:
	unset_env();
	free(names);
	free(list);
	return r;
}

/**
 * sd_listen_take() - the passed socket for one guest's listener, if any
 * @l:		as sd_listen_open() left it
 * @role:	which listener
 * @port:	SD_LISTEN_PORT: which --port
 * @index:	the guest
 *
 * Return: the fd, now the caller's to close; -1 if systemd passed none
 */
int sd_listen_take(struct sd_listen *l, enum sd_listen_role role,
		   unsigned int port, unsigned int index)
{
	for (unsigned int i = 0; i < l->count; i++) {
		struct sd_listen_fd *f = &l->fds[i];

		if (f->taken || f->role != role || f->index != (long)index ||
		    (role == SD_LISTEN_PORT && f->port != port))
			continue;
		f->taken = true;
		return f->fd;
	}
	return -1;
}

/**
 * sd_listen_close() - close what was passed and not taken; free @l
 */
void sd_listen_close(struct sd_listen *l)
{
	for (unsigned int i = 0; i < l->count; i++)
		if (!l->fds[i].taken && l->fds[i].fd >= 0)
			close(l->fds[i].fd);
	free(l->fds);
	l->fds = NULL;
	l->count = 0;
}
