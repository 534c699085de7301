/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * sock.c - create the listening sockets the daemon serves.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sock.h"

#define LISTEN_BACKLOG 16

int sock_set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return -1;
	return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* An fd passed in (socket activation) must not leak into what we exec. */
int sock_set_cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);

	if (flags < 0)
		return -1;
	return fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

static void fill_unix_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* Lengths were checked by options_parse(); strncpy cannot cut here. */
	strncpy(sa->sun_path, path, sizeof(sa->sun_path) - 1);
}

/*
 * clear_stale_socket() - make room for a new socket at @path
 *
 * A socket file that refuses connections was left by a dead daemon and is
 * replaced. Anything else at the path is somebody's data or a live daemon,
 * and is refused. The probe never waits: a live listener whose backlog is
 * full answers EAGAIN to a non-blocking connect, and is in use all the same.
 */
static int clear_stale_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s: exists and is not a socket; refusing to replace it", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	fill_unix_addr(&sa, path);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (r < 0 && errno == EINPROGRESS)
		r = 0;
	if (r < 0 && errno == EAGAIN)
		r = 0; /* listening, with a full backlog */
	close(fd);
	if (r == 0) {
		snprintf(err, errlen, "%s: another process is listening on this socket", path);
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: cannot remove stale socket: %s",
			 path, strerror(errno));
		return -1;
	}
	return 0;
}

/**
 * sock_file_id() - which file is at @path now
 * @path:	a file name
 * @id:		its device and inode, set on success
 *
 * Return: 0, or -1 if nothing is there
 */
int sock_file_id(const char *path, struct sock_file_id *id)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return -1;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	return 0;
}

/**
 * sock_unlink_ours() - remove the socket file we bound, and nothing else
 * @path:	where we bound it
 * @id:		what sock_file_id() said right after the bind
 *
 * Somebody may have put another file, or another program's socket, at
 * @path meanwhile; that one stays.
 */
void sock_unlink_ours(const char *path, const struct sock_file_id *id)
{
	struct sock_file_id now;

	if (sock_file_id(path, &now) < 0)
		return;
	if (now.dev != id->dev || now.ino != id->ino)
		return;
	unlink(path);
}

/**
 * sock_listen_unix() - listen on a unix stream socket at @path
 * @path:	file name; a stale socket there is replaced
 * @mode:	permission bits for the socket file, 0 to keep the umask's
 * @id:		set to the socket file's identity, for sock_unlink_ours()
 * @err:	human error on failure
 * @errlen:	size of @err
 *
 * Return: the listening fd (close-on-exec, blocking), or -1
 */
int sock_listen_unix(const char *path, unsigned int mode,
		     struct sock_file_id *id, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	int fd;

	if (clear_stale_socket(path, err, errlen) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	fill_unix_addr(&sa, path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "%s: bind: %s", path, strerror(errno));
		goto err;
	}
	if (sock_file_id(path, id) < 0) {
		snprintf(err, errlen, "%s: gone right after bind: %s", path,
			 strerror(errno));
		goto err;
	}
	if (mode && chmod(path, (mode_t)mode) < 0) {
		snprintf(err, errlen, "%s: chmod: %s", path, strerror(errno));
		unlink(path);
		goto err;
	}
	if (listen(fd, LISTEN_BACKLOG) < 0) {
		snprintf(err, errlen, "%s: listen: %s", path, strerror(errno));
		unlink(path);
		goto err;
	}
	return fd;
err:
	close(fd);
	return -1;
}

/**
 * sock_share_group() - let group @gid reach the socket file at @path
 * @path:	a socket file sock_listen_unix() made
 * @id:		its identity from then: a file put there since is not touched
 * @gid:	the group the file is given; its mode becomes 0660
 * @err:	human error on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set
 */
int sock_share_group(const char *path, const struct sock_file_id *id,
		     gid_t gid, char *err, size_t errlen)
{
	struct sock_file_id now;

	if (sock_file_id(path, &now) < 0 || now.dev != id->dev ||
	    now.ino != id->ino) {
		snprintf(err, errlen, "%s: replaced right after bind", path);
		return -1;
	}
	/* lchown: never follow a link somebody put there meanwhile. */
	if (lchown(path, (uid_t)-1, gid) < 0) {
		snprintf(err, errlen, "%s: cannot give it group %u: %s", path,
			 (unsigned int)gid, strerror(errno));
		return -1;
	}
	if (chmod(path, 0660) < 0) {
		snprintf(err, errlen, "%s: chmod: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/**
 * sock_listen_tcp_loopback() - listen on 127.0.0.1:@port
 *
 * Return: the listening fd (close-on-exec, blocking), or -1 with @err set
 */
int sock_listen_tcp_loopback(uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int one = 1;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
		snprintf(err, errlen, "SO_REUSEADDR: %s", strerror(errno));
		goto err;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "127.0.0.1:%u: bind: %s",
			 (unsigned int)port, strerror(errno));
		goto err;
	}
	if (listen(fd, LISTEN_BACKLOG) < 0) {
		snprintf(err, errlen, "127.0.0.1:%u: listen: %s",
			 (unsigned int)port, strerror(errno));
		goto err;
	}
	return fd;
err:
	close(fd);
	return -1;
}

/**
 * sock_listener_kind() - a socket's family and type, and whether it listens
 * @fd:		any fd
 * @domain:	set to SO_DOMAIN (AF_UNIX, AF_INET, ...)
 * @type:	set to SO_TYPE (SOCK_STREAM, ...)
 *
 * Return: 1 listening, 0 not listening, -1 not an open socket
 */
int sock_listener_kind(int fd, int *domain, int *type)
{
	socklen_t len = sizeof(int);
	int listening = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, domain, &len) < 0)
		return -1;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, type, &len) < 0)
		return -1;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
		return -1;
	return listening ? 1 : 0;
}

/**
 * sock_check_listening_unix() - is @fd a listening unix stream socket?
 *
 * Used for --fd, where a wrong number would otherwise fail much later with
 * an error that no longer names the option.
 *
 * Return: 0 if it is, -1 with @err set if not
 */
int sock_check_listening_unix(int fd, char *err, size_t errlen)
{
	int domain = 0, type = 0, listening;

	if (fcntl(fd, F_GETFD) < 0) {
		snprintf(err, errlen, "--fd: %d is not an open file descriptor",
			 fd);
		return -1;
	}
	listening = sock_listener_kind(fd, &domain, &type);
	if (listening < 0 || domain != AF_UNIX || type != SOCK_STREAM) {
		snprintf(err, errlen, "--fd: %d is not a unix stream socket",
			 fd);
		return -1;
	}
	if (!listening) {
		snprintf(err, errlen, "--fd: socket %d is not listening", fd);
		return -1;
	}
	return 0;
}
