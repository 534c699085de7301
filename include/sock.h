/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * sock.h - listening sockets and small fd helpers.
 *
 * Functions that can fail for a reason the user must see write a human
 * sentence into the caller's @err buffer and return -1.
 */
#ifndef VDC_SOCK_H
#define VDC_SOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SOCK_ERR_LEN 256

struct sock_file_id;

int sock_listen_unix(const char *path, unsigned int mode,
		     struct sock_file_id *id, char *err, size_t errlen);
int sock_listen_tcp_loopback(uint16_t port, char *err, size_t errlen);
int sock_check_listening_unix(int fd, char *err, size_t errlen);
int sock_listener_kind(int fd, int *domain, int *type);
int sock_set_nonblock(int fd);
int sock_set_cloexec(int fd);

/* A file's identity, to remove only the socket file we created. */
struct sock_file_id {
	dev_t dev;
	ino_t ino;
};

int sock_file_id(const char *path, struct sock_file_id *id);
int sock_share_group(const char *path, const struct sock_file_id *id,
		     gid_t gid, char *err, size_t errlen);
void sock_unlink_ours(const char *path, const struct sock_file_id *id);

#endif
