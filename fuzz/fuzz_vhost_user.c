/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fuzz_vhost_user.c - libFuzzer target: the vhost-user message layer, fed
 * through a real socket.
 *
 * The input (format in fuzz.h) is a session as a frontend and its guest
 * would play it: messages with fds (memfds, eventfds, pipes, sockets,
 * /dev/null, even the connection itself), guest writes to memory, kicks,
 * console input, hang-ups. The bytes go through a socketpair with
 * SCM_RIGHTS, so the daemon's own reassembly, fd collection and dispatch
 * run, and its own event loop delivers them: ev_run() is left after a few
 * rounds by an always-ready watch. Behind the protocol sits either a stub
 * device that pops, checks and completes every chain it is kicked for, or
 * (FZ_MODE_CONSOLE) the real console with a client on a socketpair.
 *
 * Findings: anything ASan or UBSan reports (the stub's config space is
 * exactly 12 bytes, so a range check that lets too much through shows),
 * a chain or ring outside guest memory, a malformed reply, chains left in
 * flight, and after the session any fd, mapping or event-loop watch left
 * behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend.h"
#include "console.h"
#include "event_loop.h"
#include "fuzz.h"
#include "options.h"
#include "vhost_user.h"

#define FZ_MAX_QUEUE   256
#define FZ_IOVS	       512 /* more than any chain may need */
#define FZ_MAX_KEPT    64
#define FZ_MAX_FDS     10 /* per message: more than it may carry */
#define FZ_RECONNECTS  8
#define FZ_PUMP_ROUNDS 3 /* event-loop rounds per pump */
#define FZ_CONFIG_SIZE 12
#define FZ_REPLY_MAX                                                           \
	(sizeof(struct vhost_user_header) + sizeof(struct vhost_user_config))

enum kept_role {
	ROLE_POKE, /* a memfd dup: the guest writes its memory through it */
	ROLE_KICK, /* written to kick: eventfd dup, pipe write end, peer */
	ROLE_HOLD, /* only held open (a pipe's read end) */
};

struct kept {
	int fd;
	enum kept_role role;
	uint64_t size; /* ROLE_POKE: the memfd's size */
};

struct harness {
	struct ev_loop loop;
	struct ev_watch stop_watch; /* always ready: ends ev_run() */
	int stop_fd;
	unsigned int rounds;
	int console_listen_fd;
	int port_listen_fd; /* one data port beside the console */
	struct options opts;
	struct port_owner owner;

	uint8_t mode;
	struct vu_device dev;
	struct vu_dev vu;
	struct console con;
	int conn; /* our end of the vhost-user connection */
	int client; /* our end of the console client; -1 */
	bool conn_shared; /* the daemon holds our end too: replies unchecked */
	unsigned int reconnects;
	struct kept kept[FZ_MAX_KEPT];
	unsigned int n_kept;
	uint8_t replies[2 * FZ_REPLY_MAX + 4096];
	size_t replies_len;
	struct iovec iov[FZ_IOVS];
};

static struct harness h;
static uint8_t stub_config[FZ_CONFIG_SIZE];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* --- the event loop and the replies -------------------------------------- */

/* on_stop() - the always-ready watch: end ev_run() after a few rounds */
static void on_stop(void *arg, uint32_t events)
{
	(void)arg;
	(void)events;
	if (++h.rounds >= FZ_PUMP_ROUNDS)
		ev_stop(&h.loop);
}

/*
 * drain_replies() - read what the daemon sent and check its framing
 *
 * Every reply must be a whole header with VERSION|REPLY and a payload no
 * larger than the largest reply; the stream is not checked when the daemon
 * was handed our own end of the connection (it may read from it).
 */
static void drain_replies(void)
{
	for (;;) {
		ssize_t n = read(h.conn, h.replies + h.replies_len,
				 sizeof(h.replies) - h.replies_len);
		size_t at = 0;

		if (n <= 0)
			return;
		h.replies_len += (size_t)n;
		while (h.replies_len - at >= sizeof(struct vhost_user_header)) {
			struct vhost_user_header hdr;

			memcpy(&hdr, h.replies + at, sizeof(hdr));
			if (!h.conn_shared &&
			    (hdr.flags != (VHOST_USER_VERSION |
					   VHOST_USER_REPLY_MASK) ||
			     sizeof(hdr) + hdr.size > FZ_REPLY_MAX))
				fuzz_fail("reply to request %u: flags %#x, "
					  "%u bytes",
					  hdr.request, hdr.flags, hdr.size);
			if (sizeof(hdr) + hdr.size > FZ_REPLY_MAX ||
			    h.replies_len - at < sizeof(hdr) + hdr.size) {
				if (h.conn_shared)
					at = h.replies_len; /* resync: drop */
				break;
			}
			at += sizeof(hdr) + hdr.size;
		}
		memmove(h.replies, h.replies + at, h.replies_len - at);
		h.replies_len -= at;
	}
}

/* read_client() - the console client reads all the output there is */
static void read_client(void)
{
	uint8_t sink[4096];

	while (h.client >= 0 && read(h.client, sink, sizeof(sink)) > 0)
		;
}

/*
 * pump() - let the daemon handle what is ready, then take its replies
 *
 * Every ready watch runs at least twice; whatever is still ready in the
 * last round waits for the next pump, as it would wait for the next
 * epoll_wait() in the daemon.
 */
static void pump(void)
{
	h.rounds = 0;
	if (ev_run(&h.loop) < 0)
		fuzz_fail("ev_run failed");
	drain_replies();
	if (!(h.mode & FZ_MODE_SLOW_CLIENT))
		read_client();
}

/* --- the stub device ----------------------------------------------------- */

/*
 * stub_pop() - pop one chain, with one iovec first in FZ_MODE_SMALL_IOV
 *
 * Return: what vq_pop() said in the end
 */
static enum vq_pop_result stub_pop(struct virtqueue *vq, struct vq_chain *ch)
{
	unsigned int cap = h.mode & FZ_MODE_SMALL_IOV ? 1 : FZ_IOVS;
	enum vq_pop_result r = vq_pop(vq, h.iov, cap, ch);

	if (r == VQ_POP_NOSPACE && cap < FZ_IOVS) {
		cap = FZ_IOVS;
		r = vq_pop(vq, h.iov, cap, ch);
	}
	if (r == VQ_POP_NOSPACE)
		fuzz_fail("queue %u: a chain needs more than %u iovecs",
			  vq->index, FZ_IOVS);
	if (r == VQ_POP_OK) {
		if (ch->head >= vq->num)
			fuzz_fail("queue %u: head %u of %u", vq->index,
				  ch->head, vq->num);
		fuzz_check_chain(&h.vu.mem, ch, h.iov, cap);
	}
	return r;
}

/*
 * stub_queue_kick() - a device that completes whatever it is given
 * @opaque:	unused
 * @vq:		the kicked queue
 *
 * Pops every chain (touching its buffers), completes it as fully written,
 * and with FZ_MODE_UNPOP gives the first odd-headed chain back instead
 * and stops, as a device waiting for data does.
 */
static void stub_queue_kick(void *opaque, struct virtqueue *vq)
{
	(void)opaque;
	fuzz_check_rings(vq);
	for (unsigned int round = 0; round < 2; round++) {
		bool pushed = false;
		struct vq_chain ch;

		for (unsigned int i = 0; i < 2u * vq->num + 2; i++) {
			if (stub_pop(vq, &ch) != VQ_POP_OK)
				break;
			if ((h.mode & FZ_MODE_UNPOP) && (ch.head & 1)) {
				vq_unpop(vq, 1);
				break;
			}
			vq_push(vq, ch.head, ch.in_len);
			pushed = true;
		}
		if (pushed) {
			vq_flush(vq);
			vq_notify(vq);
		}
		if (vq->inflight != 0)
			fuzz_fail("queue %u: %u chains in flight after the "
				  "stub",
				  vq->index, vq->inflight);
		if (!vq_enable_notify(vq))
			break;
	}
}

/* stub_reset() - nothing to forget */
static void stub_reset(void *opaque)
{
	(void)opaque;
}

/* stub_get_config() - copy from a config space of exactly 12 bytes */
static void stub_get_config(void *opaque, uint32_t offset, uint8_t *buf,
			    uint32_t len)
{
	(void)opaque;
	memcpy(buf, stub_config + offset, len);
}

/* stub_set_config() - write it, unless FZ_MODE_CONFIG_RO */
static int stub_set_config(void *opaque, uint32_t offset, const uint8_t *buf,
			   uint32_t len)
{
	(void)opaque;
	if (h.mode & FZ_MODE_CONFIG_RO)
		return -1;
	memcpy(stub_config + offset, buf, len);
	return 0;
}

/* --- the console device, wired as the worker wires it -------------------- */

/* check_settled() - the console completes or gives back all it pops */
static void check_settled(void)
{
	for (unsigned int i = 0; i < h.dev.num_queues; i++)
		if (h.vu.vqs[i].inflight != 0 &&
		    i != port_tx_queue(1)) /* a data port holds its batch */
			fuzz_fail("queue %u: %u chains in flight after the "
				  "console",
				  i, h.vu.vqs[i].inflight);
}

/* con_queue_kick() - the console processes @vq, then must hold nothing */
static void con_queue_kick(void *opaque, struct virtqueue *vq)
{
	(void)opaque;
	fuzz_check_rings(vq);
	console_queue_kick(&h.con, vq);
	check_settled();
}

/* con_reset() - the console forgets the port */
static void con_reset(void *opaque)
{
	(void)opaque;
	console_reset(&h.con);
}

/* con_get_config() - the console's config space */
static void con_get_config(void *opaque, uint32_t offset, uint8_t *buf,
			   uint32_t len)
{
	(void)opaque;
	console_get_config(&h.con, offset, buf, len);
}

/* con_set_config() - the console takes emerg_wr writes and refuses the rest */
static int con_set_config(void *opaque, uint32_t offset, const uint8_t *buf,
			  uint32_t len)
{
	(void)opaque;
	return console_set_config(&h.con, offset, buf, len);
}

/* con_features_set() - SET_FEATURES accepted: the console may announce */
static void con_features_set(void *opaque)
{
	(void)opaque;
	console_features_set(&h.con);
}

/* no_disconnect() - the worker would listen again; there is no listener */
static void no_disconnect(void *opaque)
{
	(void)opaque;
}

/* --- fds ----------------------------------------------------------------- */

/* keep() - remember our end of a passed fd in the next slot (or close it) */
static void keep(int fd, enum kept_role role, uint64_t size)
{
	if (fd < 0)
		fuzz_fail("cannot make an fd: %s", strerror(errno));
	if (h.n_kept == FZ_MAX_KEPT) {
		close(fd);
		return;
	}
	h.kept[h.n_kept++] = (struct kept){fd, role, size};
}

/*
 * write_chunks() - apply a chunk list from @in to a memfd of @size bytes
 *
 * The whole list is read even when @fd is -1 or a chunk lies outside.
 */
static void write_chunks(struct fz_in *in, int fd, uint64_t size)
{
	unsigned int n = fz_u8(in);

	for (unsigned int i = 0; i < n; i++) {
		uint64_t off = fz_u32(in);
		size_t len;
		const uint8_t *p = fz_bytes(in, fz_u16(in), &len);

		if (fd < 0 || off >= size)
			continue;
		if (len > size - off)
			len = (size_t)(size - off);
		if (pwrite(fd, p, len, (off_t)off) != (ssize_t)len)
			fuzz_fail("memfd write: %s", strerror(errno));
	}
}

/* prefill() - put @n bytes in a pipe or socket, as unread kicks */
static void prefill(int fd, unsigned int n)
{
	uint8_t buf[256];

	memset(buf, 'k', sizeof(buf));
	if (n && write(fd, buf, n) < 0)
		fuzz_fail("prefill: %s", strerror(errno));
}

/* fill() - write a non-blocking pipe until it takes no more */
static void fill(int fd)
{
	uint8_t buf[4096];

	memset(buf, 'f', sizeof(buf));
	while (write(fd, buf, sizeof(buf)) > 0)
		;
	while (write(fd, buf, 1) > 0)
		;
}

/*
 * make_fd() - one fd to pass, as the input describes it
 *
 * Return: the fd to send (closed by the caller once sent)
 */
static int make_fd(struct fz_in *in)
{
	enum fz_fd_kind kind = (enum fz_fd_kind)(fz_u8(in) % FZ_FD_KINDS);
	int fd, p[2];
	uint64_t size;

	switch (kind) {
	case FZ_FD_MEMFD:
		size = (uint64_t)(fz_u16(in) % (FZ_MEMFD_MAX_PAGES + 1)) *
		       FZ_PAGE;
		fd = memfd_create("fuzz-guest-ram", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
			fuzz_fail("memfd: %s", strerror(errno));
		write_chunks(in, fd, size);
		keep(dup(fd), ROLE_POKE, size);
		return fd;
	case FZ_FD_EVENTFD:
		fd = eventfd(fz_u8(in), EFD_NONBLOCK | EFD_CLOEXEC);
		keep(dup(fd), ROLE_KICK, 0);
		return fd;
	case FZ_FD_PIPE_READ:
	case FZ_FD_PIPE_BLOCKING:
		if (pipe2(p, O_CLOEXEC) < 0 ||
		    fcntl(p[1], F_SETFL, O_NONBLOCK) < 0 ||
		    (kind == FZ_FD_PIPE_READ &&
		     fcntl(p[0], F_SETFL, O_NONBLOCK) < 0))
			fuzz_fail("pipe: %s", strerror(errno));
		prefill(p[1], fz_u8(in));
		keep(p[1], ROLE_KICK, 0);
		return p[0];
	case FZ_FD_PIPE_WRITE:
		if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
			fuzz_fail("pipe: %s", strerror(errno));
		keep(p[0], ROLE_HOLD, 0);
		return p[1];
	case FZ_FD_PIPE_FULL:
		if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
			fuzz_fail("pipe: %s", strerror(errno));
		fill(p[1]);
		if (fcntl(p[1], F_SETFL, 0) < 0)
			fuzz_fail("pipe: %s", strerror(errno));
		keep(p[0], ROLE_HOLD, 0);
		return p[1];
	case FZ_FD_PIPE_EOF:
		if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
			fuzz_fail("pipe: %s", strerror(errno));
		close(p[1]);
		return p[0];
	case FZ_FD_DEVNULL:
		return open("/dev/null", O_RDWR | O_CLOEXEC);
	case FZ_FD_SOCKET:
		if (socketpair(AF_UNIX,
			       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
			       p) < 0)
			fuzz_fail("socketpair: %s", strerror(errno));
		prefill(p[1], fz_u8(in));
		keep(p[1], ROLE_KICK, 0);
		return p[0];
	case FZ_FD_CONNECTION:
	case FZ_FD_KINDS:
		break;
	}
	h.conn_shared = true;
	return dup(h.conn);
}

/* --- records ------------------------------------------------------------- */

/*
 * send_chunk() - write bytes (and fds with the first write) to the daemon
 *
 * A full socket is pumped and written again, a few times; a closed one
 * loses the rest, as it would for a real frontend.
 */
static void send_chunk(const uint8_t *p, size_t len, const int *fds,
		       unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(FZ_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} control;

	for (unsigned int tries = 0; tries < 16 && (len || nfds); tries++) {
		struct iovec iov = {(void *)p, len};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n;

		if (nfds) {
			struct cmsghdr *c;

			memset(&control, 0, sizeof(control));
			mh.msg_control = control.buf;
			mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
			memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
		}
		n = sendmsg(h.conn, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN) {
			pump();
			continue;
		}
		if (n < 0)
			return;
		nfds = 0;
		p += n;
		len -= (size_t)n;
	}
}

/* record_message() - a message record: fds, then bytes (see fuzz.h) */
static void record_message(struct fz_in *in, uint8_t ctl)
{
	unsigned int nfds = FZ_MSG_NFDS(ctl);
	int fds[FZ_MAX_FDS];
	size_t want, got, split = 0;
	const uint8_t *body;

	for (unsigned int i = 0; i < nfds; i++)
		fds[i] = make_fd(in);
	if (ctl & FZ_MSG_SPLIT)
		split = fz_u16(in);
	if (ctl & FZ_MSG_RAW) {
		want = fz_u16(in);
	} else {
		struct vhost_user_header hdr = {0, 0, 0};

		memcpy(&hdr, in->p,
		       in->left < sizeof(hdr) ? in->left : sizeof(hdr));
		want = sizeof(hdr) + hdr.size;
	}
	body = fz_bytes(in, want, &got);
	if (split > got)
		split = got;
	if (ctl & FZ_MSG_SPLIT) {
		send_chunk(body, split, fds, nfds);
		send_chunk(body + split, got - split, NULL, 0);
	} else {
		send_chunk(body, got, fds, nfds);
	}
	for (unsigned int i = 0; i < nfds; i++)
		close(fds[i]);
	if (!(ctl & FZ_MSG_NO_PUMP))
		pump();
}

/* record_poke() - the guest writes its memory through a kept memfd */
static void record_poke(struct fz_in *in)
{
	uint8_t slot = fz_u8(in);
	struct kept *k = h.n_kept ? &h.kept[slot % h.n_kept] : NULL;

	if (k && k->role == ROLE_POKE)
		write_chunks(in, k->fd, k->size);
	else
		write_chunks(in, -1, 0);
}

/* record_kick() - write a kept eventfd, pipe or socket, then pump */
static void record_kick(struct fz_in *in)
{
	uint8_t slot = fz_u8(in);
	struct kept *k = h.n_kept ? &h.kept[slot % h.n_kept] : NULL;
	uint64_t one = 1;

	/* Full, or the daemon closed its end: the kick is lost, as it
	 * would be for a real guest. */
	if (k && k->role == ROLE_KICK && write(k->fd, &one, sizeof(one)) < 0)
		(void)0;
	pump();
}

static void attach_client(void);

/*
 * connect_client() - with the console, a client connects if none is there
 * (once the backend has seen the last one go)
 */
static void connect_client(void)
{
	if (!(h.mode & FZ_MODE_CONSOLE) || h.client >= 0)
		return;
	pump();
	if (!backend_connected(&h.con.ports[0].host))
		attach_client();
}

/* record_input() - the console client (connecting first) reads, types */
static void record_input(struct fz_in *in)
{
	size_t len;
	const uint8_t *p = fz_bytes(in, fz_u16(in), &len);

	connect_client();
	read_client();
	/* The console may have dropped the client: the input is lost. */
	if (h.client >= 0 && len && write(h.client, p, len) < 0)
		(void)0;
	pump();
}

/*
 * record_hangup() - the frontend goes away, or the console client goes
 * away (or, when there is none, connects)
 */
static void record_hangup(struct fz_in *in)
{
	if (fz_u8(in) % 2 == 0) {
		/* Not close(): the daemon may hold a dup of our end. */
		shutdown(h.conn, SHUT_RDWR);
	} else if (h.client >= 0) {
		close(h.client);
		h.client = -1;
	} else {
		connect_client();
	}
	pump();
}

/* --- sessions ------------------------------------------------------------ */

/* connect_frontend() - a new connection, attached as the worker would */
static void connect_frontend(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv) < 0)
		fuzz_fail("socketpair: %s", strerror(errno));
	h.conn = sv[1];
	h.conn_shared = false;
	h.replies_len = 0;
	if (vu_attach(&h.vu, sv[0]) < 0)
		fuzz_fail("vu_attach: %s", strerror(errno));
}

/*
 * reconnect() - the daemon closed the connection: the frontend comes back
 *
 * Return: false after FZ_RECONNECTS times
 */
static bool reconnect(void)
{
	if (h.reconnects++ == FZ_RECONNECTS)
		return false;
	drain_replies();
	close(h.conn);
	connect_frontend();
	return true;
}

/*
 * attach_client() - a console client on a socketpair, as if accepted; a
 * small send buffer lets a client that reads slowly fall behind soon
 */
static void attach_client(void)
{
	int sv[2], small = 4096;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv) < 0 ||
	    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) < 0)
		fuzz_fail("socketpair: %s", strerror(errno));
	if (!backend_attach_client(&h.con.ports[0].host, sv[0], sv[0]))
		fuzz_fail("backend_attach_client failed");
	h.client = sv[1];
}

/* session_begin() - the device the mode byte asks for, and a connection */
static void session_begin(uint8_t mode)
{
	h.mode = mode;
	h.client = -1;
	h.n_kept = 0;
	h.reconnects = 0;
	memset(stub_config, 0x5a, sizeof(stub_config));
	h.dev = (struct vu_device){
		.features = console_device_features,
		.num_queues = CONSOLE_NUM_QUEUES,
		.config_size = FZ_CONFIG_SIZE,
		.queue_kick = stub_queue_kick,
		.reset = stub_reset,
		.get_config = stub_get_config,
		.set_config = stub_set_config,
		.disconnected = no_disconnect,
	};
	if (mode & FZ_MODE_CONSOLE) {
		h.dev.config_size = sizeof(struct virtio_console_config);
		h.dev.queue_kick = con_queue_kick;
		h.dev.reset = con_reset;
		h.dev.get_config = con_get_config;
		h.dev.set_config = con_set_config;
		h.dev.features_set = con_features_set;
	}
	vu_init(&h.vu, &h.loop, &h.dev, FZ_MAX_QUEUE);
	/* As the worker: a memory fault is acted on after each batch. */
	ev_set_after_batch(&h.loop, vu_check_memory, &h.vu);
	if (mode & FZ_MODE_CONSOLE) {
		if (console_init(&h.con, &(struct console_config){
				.index = 0,
				.opts = &h.opts,
				.backend_listen_fd = h.console_listen_fd,
				.port_listen_fd = &h.port_listen_fd,
				.loop = &h.loop,
				.vu = &h.vu,
				.owner = &h.owner,
			}) < 0)
			fuzz_fail("console_init failed");
		h.dev.num_queues = console_num_queues(&h.con);
		/* A size: F_SIZE offered, RESIZE and config changes in play. */
		console_set_size(&h.con, 80, 24);
		h.dev.features = console_features(&h.con);
	}
	connect_frontend();
}

/*
 * check_loop_empty() - after the session, no watch but ours is left
 *
 * Every kept fd is made ready first (a watch on a closed fd whose file
 * lives on in our dup still fires), so a forgotten ev_del() shows.
 */
static void check_loop_empty(void)
{
	struct epoll_event ev[8];
	uint64_t one = 1;
	int n;

	for (unsigned int i = 0; i < h.n_kept; i++)
		if (h.kept[i].role == ROLE_KICK &&
		    write(h.kept[i].fd, &one, sizeof(one)) < 0)
			(void)0; /* full: it is ready anyway */
	n = epoll_wait(h.loop.epfd, ev, 8, 0);
	for (int i = 0; i < n; i++)
		if (ev[i].data.ptr != &h.stop_watch)
			fuzz_fail("a watch outlived the session");
}

/* check_vu_idle() - a detached device holds no memory, fd or ring */
static void check_vu_idle(void)
{
	if (vu_connected(&h.vu) || h.vu.mem.count || h.vu.in.nfds)
		fuzz_fail("detached device still holds state");
	for (unsigned int i = 0; i < VU_MAX_QUEUES; i++) {
		const struct virtqueue *vq = &h.vu.vqs[i];

		if (vq->kick_fd >= 0 || vq->call_fd >= 0 || vq->err_fd >= 0 ||
		    vq->desc || h.vu.kick_watch[i].fd >= 0)
			fuzz_fail("queue %u still set up after detach", i);
	}
}

/* session_end() - detach and tear down; nothing may be left */
static void session_end(void)
{
	pump();
	vu_detach(&h.vu);
	check_vu_idle();
	if (h.mode & FZ_MODE_CONSOLE) {
		console_fini(&h.con);
	}
	check_loop_empty();
	for (unsigned int i = 0; i < h.n_kept; i++)
		close(h.kept[i].fd);
	h.n_kept = 0;
	close(h.conn);
	h.conn = -1;
	if (h.client >= 0)
		close(h.client);
	h.client = -1;
}

/**
 * LLVMFuzzerInitialize() - what lives across inputs: the event loop, its
 * stop watch, and a listening socket for the console backend
 * @argc:	unused
 * @argv:	unused
 *
 * Return: 0
 */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	(void)argc;
	(void)argv;
	/* UML's call fds are pipes: a closed reader must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if (ev_loop_init(&h.loop) < 0)
		fuzz_fail("epoll: %s", strerror(errno));
	h.stop_fd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
	ev_watch_init(&h.stop_watch);
	if (h.stop_fd < 0 || ev_add(&h.loop, &h.stop_watch, h.stop_fd, EPOLLIN,
				    on_stop, NULL) < 0)
		fuzz_fail("stop watch: %s", strerror(errno));
	/* Autobind: an abstract address nobody else uses. */
	h.console_listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h.console_listen_fd < 0 ||
	    bind(h.console_listen_fd, (struct sockaddr *)&sa,
		 sizeof(sa.sun_family)) < 0 ||
	    listen(h.console_listen_fd, 1) < 0)
		fuzz_fail("console listener: %s", strerror(errno));
	h.port_listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h.port_listen_fd < 0 ||
	    bind(h.port_listen_fd, (struct sockaddr *)&sa,
		 sizeof(sa.sun_family)) < 0 ||
	    listen(h.port_listen_fd, 1) < 0)
		fuzz_fail("port listener: %s", strerror(errno));
	h.opts = (struct options){
		.socket_count = 1,
		.backend = BACKEND_UDS,
		.max_queue_size = FZ_MAX_QUEUE,
		.output_buffer = MIN_OUTPUT_BUFFER,
		.listen_fd = -1,
		.port_count = 1,
		.ports = {{.name = "org.example.data", .path = "unused"}},
	};
	h.conn = h.client = -1;
	return 0;
}

/**
 * LLVMFuzzerTestOneInput() - one session: the mode byte, then records
 * @data:	the input (format in fuzz.h)
 * @size:	its length
 *
 * Return: 0
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	int fds = fuzz_count_fds();

	session_begin(fz_u8(&in));
	while (in.left) {
		uint8_t ctl = fz_u8(&in);

		switch (FZ_REC_KIND(ctl)) {
		case FZ_REC_POKE:
			record_poke(&in);
			break;
		case FZ_REC_KICK:
			record_kick(&in);
			break;
		case FZ_REC_INPUT:
			record_input(&in);
			break;
		case FZ_REC_HANGUP:
			record_hangup(&in);
			break;
		default:
			record_message(&in, ctl);
			break;
		}
		if (!vu_connected(&h.vu) && !reconnect())
			break;
	}
	session_end();
	if (fuzz_live_maps() != 0)
		fuzz_fail("%u guest mappings left", fuzz_live_maps());
	if (fuzz_count_fds() != fds)
		fuzz_fail("%d fds before the input, %d after", fds,
			  fuzz_count_fds());
	return 0;
}
