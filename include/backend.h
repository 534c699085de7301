/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * backend.h - where the console meets the person on the host.
 *
 * A backend has at most one client at a time: this terminal (nested), a
 * TCP connection (network) or a unix-socket connection (uds). The console
 * asks for input and output readiness and is told when either is there;
 * all I/O is non-blocking.
 */
#ifndef VDC_BACKEND_H
#define VDC_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <termios.h>

#include "event_loop.h"
#include "options.h"

struct backend;

/* What the backend tells its user (the console). */
struct backend_events {
	void *opaque;
	void (*connected)(void *opaque);
	void (*disconnected)(void *opaque);
	void (*input)(void *opaque); /* the client has bytes for the guest */
	void (*writable)(void *opaque); /* the client takes output again */
	void (*quit)(void *opaque); /* the user asked to quit */
};

struct backend_ops {
	const char *name;
	int (*start)(struct backend *b);
	void (*stop)(struct backend *b);
	/* The client's own input, after b->pending: > 0 bytes read, 0
	 * nothing now, -1 the client is gone; NULL when all input goes
	 * through b->pending (the terminal). */
	ssize_t (*read)(struct backend *b, const struct iovec *iov,
			unsigned int n);
	/* Input is readable; read ahead even when the console does not
	 * want input (the nested escape key must always work). Required
	 * when input and output are separate fds. */
	void (*readable)(struct backend *b);
};

/* Input held for the guest: typed ahead on the terminal, or left by a
 * socket client that has gone. */
#define BACKEND_PENDING (64u << 10)

/* backend_read()/backend_write(): the guest's memory, not the client,
 * failed (EFAULT); the client and its input stay. */
#define BACKEND_IO_FAULT (-2)

struct backend {
	const struct backend_ops *ops;
	const struct backend_events *ev;
	struct ev_loop *loop;
	unsigned int index;

	int listen_fd; /* network, uds: owned by the supervisor */
	struct ev_watch listen_watch;
	bool tcp;

	int in_fd; /* client input; -1 when none */
	int out_fd; /* client output; may equal in_fd */
	struct ev_watch in_watch;
	struct ev_watch out_watch; /* unused when out_fd == in_fd */
	bool owns_client_fds; /* sockets yes, the terminal no */
	bool want_input;
	bool want_output;
	bool out_pollable;

	/* nested */
	struct termios saved_tty;
	bool tty_raw;
	int saved_fl[2]; /* stdin and stdout file status flags */
	uint8_t pending[BACKEND_PENDING]; /* see BACKEND_PENDING */
	size_t pending_len;
	bool escape; /* Ctrl-a seen, waiting for the next key */
};

int backend_init(struct backend *b, enum backend_kind kind,
		 struct ev_loop *loop, int listen_fd, unsigned int index,
		 const struct backend_events *ev);
void backend_fini(struct backend *b);
bool backend_connected(const struct backend *b);
bool backend_has_input(const struct backend *b);
void backend_want_input(struct backend *b, bool on);
void backend_want_output(struct backend *b, bool on);
ssize_t backend_read(struct backend *b, const struct iovec *iov,
		     unsigned int n);
ssize_t backend_write(struct backend *b, const struct iovec *iov,
		      unsigned int n);

/* Shared by the backend implementations. */
int backend_attach_client(struct backend *b, int in_fd, int out_fd);
void backend_drop_client(struct backend *b, const char *why);
void backend_update_watches(struct backend *b);
void backend_check_hangup(struct backend *b);
ssize_t backend_readv(struct backend *b, const struct iovec *iov,
		      unsigned int n);

extern const struct backend_ops backend_nested_ops;
extern const struct backend_ops backend_socket_ops;

#endif
