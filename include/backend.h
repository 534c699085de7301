/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * backend.h - where a port meets the people on the host: its clients.
 *
 * A backend is a port's host side: this terminal (nested), or a listening
 * socket (network, uds) with up to max_clients clients. The first client
 * is the writer: what it types goes to the guest. The others are watchers:
 * they see the output and what they type is discarded. When the writer
 * leaves, the longest-connected watcher becomes the writer. Each client
 * owns its fds and its place in the port's output; all I/O is
 * non-blocking.
 */
#ifndef VDC_BACKEND_H
#define VDC_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <termios.h>

#include "door.h"
#include "event_loop.h"
#include "options.h"

struct backend;
struct client;

/* What the backend tells its user (the port). */
struct backend_events {
	void *opaque;
	void (*connected)(void *opaque, struct client *c);
	void (*disconnected)(void *opaque, struct client *c);
	void (*input)(void *opaque); /* the writer has bytes for the guest */
	void (*writable)(void *opaque, struct client *c); /* takes output */
	void (*quit)(void *opaque); /* the user asked to quit */
};

struct backend_ops {
	const char *name;
	int (*start)(struct backend *b);
	void (*stop)(struct backend *b);
	/* The writer's own input, after b->pending: > 0 bytes read, 0
	 * nothing now, -1 the writer is gone; NULL when all input goes
	 * through b->pending (the terminal). */
	ssize_t (*read)(struct backend *b, const struct iovec *iov,
			unsigned int n);
	/* Input is readable; read ahead even when the port does not want
	 * input (the nested escape key must always work). Required when
	 * input and output are separate fds. */
	void (*readable)(struct backend *b);
};

/* Input held for the guest: typed ahead on the terminal, or left by a
 * writer that has gone. */
#define BACKEND_PENDING (64u << 10)

/* backend_read()/backend_write(): the guest's memory, not the client,
 * failed (EFAULT); the client and its input stay. */
#define BACKEND_IO_FAULT (-2)

/*
 * A client whose bytes are framed by a protocol of its own (a browser's
 * WebSocket): its owner reads and writes the socket and tells the backend
 * what happened (backend_client_input(), backend_client_writable(),
 * backend_drop_client()); the backend writes through these.
 */
struct client_codec {
	/* Console output: how many bytes it took (0: none now). */
	ssize_t (*write)(struct client *c, const struct iovec *iov,
			 unsigned int n);
	bool (*notice)(struct client *c, const char *text);
	/* The port has output for it (or not): call writable when it can
	 * take more. */
	void (*want_output)(struct client *c, bool on);
	/* There is room for input again. */
	void (*input_room)(struct client *c);
	/* The backend let it go (left, dropped, daemon stopping). */
	void (*detached)(struct client *c, const char *why);
};

struct client {
	struct backend *b;
	bool used;
	const struct client_codec *codec; /* NULL: plain bytes on its fds */
	void *opaque; /* the codec's */
	int in_fd; /* -1 when it sends no more */
	int out_fd; /* -1 when it takes no more; may equal in_fd */
	struct ev_watch in_watch;
	struct ev_watch out_watch; /* unused when out_fd == in_fd */
	bool out_pollable;
	bool want_output;
	bool writer;
	bool watch_only; /* a watch-only web ticket's: never the writer */
	bool told_discard; /* a watcher was told its typing is discarded */
	uint64_t since; /* arrival order: the oldest watcher is promoted */
	/* The port's output, as this client has taken it. */
	uint64_t pos; /* next byte of the port's output buffer to send */
	uint64_t lost; /* bytes it fell behind by, not yet told */
};

struct backend {
	const struct backend_ops *ops;
	const struct backend_events *ev;
	struct ev_loop *loop;
	unsigned int index;

	int listen_fd; /* network, uds: owned by the supervisor */
	struct ev_watch listen_watch;
	struct door door; /* who may come in through listen_fd */
	bool tcp;
	bool owns_client_fds; /* sockets yes, the terminal no */
	bool is_port; /* a data port: one client, no watchers */

	struct client *clients; /* max_clients slots; in_fd and out_fd of a
				 * free slot are -1 */
	unsigned int max_clients;
	unsigned int nclients;
	uint64_t arrivals;
	struct client *writer; /* NULL when nobody may type */
	bool want_input; /* the port takes input now */

	uint8_t *pending; /* BACKEND_PENDING bytes; see there */
	size_t pending_len;

	/* nested */
	struct termios saved_tty;
	bool tty_raw;
	int saved_fl[2]; /* stdin and stdout file status flags */
	bool escape; /* Ctrl-a seen, waiting for the next key */
};

/* How to make one. */
struct backend_config {
	enum backend_kind kind;
	int listen_fd; /* -1 for nested */
	unsigned int index;
	unsigned int max_clients; /* sockets; 1 for a data port */
	bool is_port;
	struct ev_loop *loop;
	const struct backend_events *ev;
	const struct peer_policy *policy; /* sockets: who may connect */
	const char *door_name; /* sockets: "console 0", "port NAME of guest 0" */
};

int backend_init(struct backend *b, const struct backend_config *cfg);
void backend_fini(struct backend *b);
bool backend_connected(const struct backend *b);
bool backend_has_input(const struct backend *b);
void backend_want_input(struct backend *b, bool on);
ssize_t backend_read(struct backend *b, const struct iovec *iov,
		     unsigned int n);
void backend_want_output(struct client *c, bool on);
ssize_t backend_write(struct client *c, const struct iovec *iov,
		      unsigned int n);
bool backend_notice(struct client *c, const char *text);
struct client *backend_next_client(struct backend *b, struct client *c);

/* Shared by the backend implementations. */
struct client *backend_attach_client(struct backend *b, int in_fd,
				     int out_fd);
struct client *backend_attach_codec_client(struct backend *b, int fd,
					   const struct client_codec *codec,
					   void *opaque, bool watch_only);
size_t backend_input_room(const struct backend *b);
void backend_client_input(struct client *c, const uint8_t *p, size_t n);
void backend_client_writable(struct client *c);
void backend_drop_client(struct client *c, const char *why);
void backend_update_watches(struct client *c);
void backend_check_hangups(struct backend *b);
ssize_t backend_readv(struct backend *b, const struct iovec *iov,
		      unsigned int n);

extern const struct backend_ops backend_nested_ops;
extern const struct backend_ops backend_socket_ops;

#endif
