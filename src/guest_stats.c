/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * guest_stats.c - a guest's counters in shared memory: the worker's rare
 * updates (a frontend, a client, the console log), the seqlock reader the
 * supervisor uses, and the repair after a worker died mid-update.
 *
 * The data path's counters are inline in guest_stats.h. What is here runs
 * when something changes that an operator would ask about: each such
 * change also wakes the supervisor (one eventfd write, never waited on),
 * so that its summary for systemd stays current without polling.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon_shm.h"
#include "guest_stats.h"
#include "options.h"
#include "peer.h"

_Static_assert(GUEST_STATS_CLIENTS == MAX_CLIENTS_LIMIT,
	       "one slot per client the backend may have");
_Static_assert(sizeof(struct guest_stats_data) % sizeof(uint64_t) == 0,
	       "the reader copies whole words");

/* How often a reader tries before it calls an entry unavailable. */
#define READ_TRIES 4096

static uint64_t wall_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec;
}

/* Store a string as the writer: whole, NUL-terminated, cut to fit. */
static void put_string(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strnlen(src, cap - 1) : 0;

	memcpy(dst, src ? src : "", n);
	memset(dst + n, 0, cap - n);
}

static void put_u64(uint64_t *field, uint64_t v)
{
	__atomic_store_n(field, v, __ATOMIC_RELAXED);
}

/**
 * guest_stats_wake() - tell the supervisor something it summarises
 * changed (a frontend or a client came or went)
 * @w:	the worker's writer
 *
 * A full eventfd (2^64 - 2 wake-ups unread) would only mean the
 * supervisor already has one to read: EAGAIN is fine.
 */
void guest_stats_wake(const struct guest_stats_writer *w)
{
	uint64_t one = 1;

	if (!w || w->wake_fd < 0)
		return;
	if (write(w->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return; /* nothing to do about it: the summary is late */
}

/**
 * guest_stats_wake_open() - the eventfd workers wake the supervisor with
 *
 * Return: the fd (non-blocking), or -1 with errno set
 */
int guest_stats_wake_open(void)
{
	return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

/**
 * guest_stats_worker_start() - a worker takes its entry over
 * @w:		its writer
 * @version:	program_version
 */
void guest_stats_worker_start(struct guest_stats_writer *w,
			      const char *version)
{
	struct guest_stats *gs = w ? w->gs : NULL;

	if (!gs)
		return;
	guest_stats_begin(gs);
	put_u64(&gs->d.worker_pid, (uint64_t)getpid());
	put_u64(&gs->d.worker_started, wall_seconds());
	put_string(gs->d.version, sizeof(gs->d.version), version);
	put_string(gs->d.log_path, sizeof(gs->d.log_path), NULL);
	guest_stats_end(gs);
	guest_stats_wake(w);
}

/** guest_stats_log_opened() - the console log is @path (cut to fit) */
void guest_stats_log_opened(struct guest_stats_writer *w, const char *path)
{
	struct guest_stats *gs = w ? w->gs : NULL;

	if (!gs)
		return;
	guest_stats_begin(gs);
	put_string(gs->d.log_path, sizeof(gs->d.log_path), path);
	guest_stats_end(gs);
}

/** guest_stats_attached() - a frontend connected (@on) or left */
void guest_stats_attached(struct guest_stats_writer *w, bool on)
{
	struct guest_stats *gs = w ? w->gs : NULL;

	if (!gs || gs->d.attached == (uint64_t)on)
		return;
	guest_stats_begin(gs);
	put_u64(&gs->d.attached, on);
	put_u64(&gs->d.attached_since, on ? wall_seconds() : 0);
	if (on)
		guest_stats_add(&gs->d.attaches, 1);
	else
		put_u64(&gs->d.console_open, 0);
	guest_stats_end(gs);
	guest_stats_wake(w);
}

/** guest_stats_console_open() - the guest opened or closed its console */
void guest_stats_console_open(struct guest_stats_writer *w, bool open)
{
	struct guest_stats *gs = w ? w->gs : NULL;

	if (!gs || gs->d.console_open == (uint64_t)open)
		return;
	guest_stats_begin(gs);
	put_u64(&gs->d.console_open, open);
	guest_stats_end(gs);
	guest_stats_wake(w);
}

/* The peer's address as a person reads it; "" when it has none. */
static void peer_address(int fd, char *out, size_t cap, int64_t *pid)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl = sizeof(ss);
	char ip[INET6_ADDRSTRLEN] = "";

	out[0] = '\0';
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(out, cap, "%s:%u", ip, (unsigned int)ntohs(in->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(out, cap, "[%s]:%u", ip,
			 (unsigned int)ntohs(in6->sin6_port));
	} else if (ss.ss_family == AF_UNIX) {
		const struct sockaddr_un *un = (const void *)&ss;
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		size_t plen = sl > offsetof(struct sockaddr_un, sun_path)
				      ? sl - offsetof(struct sockaddr_un, sun_path)
				      : 0;

		/* A client's own socket is rarely bound: its pid says more. */
		if (plen && un->sun_path[0])
			snprintf(out, cap, "%.*s", (int)strnlen(un->sun_path, plen),
				 un->sun_path);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0)
			*pid = cred.pid;
	}
}

/**
 * guest_stats_client_in() - a client took slot @slot of the console
 * @w:		the worker's writer
 * @slot:	its index in the backend's clients
 * @kind:	how it came
 * @fd:		its socket (peer uid and address), or -1 (the terminal)
 * @writer:	whether it types
 *
 * The peer is asked once here (SO_PEERCRED, inet_diag), not by readers.
 */
void guest_stats_client_in(struct guest_stats_writer *w, unsigned int slot,
			   enum guest_client_kind kind, int fd, bool writer)
{
	struct guest_stats *gs = w ? w->gs : NULL;
	struct guest_client_stats c = {.kind = kind,
				       .writer = writer,
				       .uid = -1,
				       .pid = -1};
	char err[128];
	uid_t uid;

	if (!gs || slot >= GUEST_STATS_CLIENTS)
		return;
	c.since = wall_seconds();
	if (kind == GUEST_CLIENT_TERMINAL) {
		c.uid = (int64_t)getuid();
		c.pid = (int64_t)getpid();
		snprintf(c.addr, sizeof(c.addr), "terminal");
	} else {
		if (peer_uid(fd, &uid, err, sizeof(err)) == 0)
			c.uid = (int64_t)uid;
		peer_address(fd, c.addr, sizeof(c.addr), &c.pid);
	}
	guest_stats_begin(gs);
	if (gs->d.client[slot].kind == GUEST_CLIENT_NONE)
		guest_stats_add(&gs->d.clients, 1);
	memcpy(&gs->d.client[slot], &c, sizeof(c));
	guest_stats_end(gs);
	guest_stats_wake(w);
}

/** guest_stats_client_out() - the client of @slot left */
void guest_stats_client_out(struct guest_stats_writer *w, unsigned int slot)
{
	struct guest_stats *gs = w ? w->gs : NULL;

	if (!gs || slot >= GUEST_STATS_CLIENTS ||
	    gs->d.client[slot].kind == GUEST_CLIENT_NONE)
		return;
	guest_stats_begin(gs);
	memset(&gs->d.client[slot], 0, sizeof(gs->d.client[slot]));
	put_u64(&gs->d.clients, gs->d.clients - 1);
	guest_stats_end(gs);
	guest_stats_wake(w);
}

/** guest_stats_client_writer() - the client of @slot types now */
void guest_stats_client_writer(struct guest_stats_writer *w,
			       unsigned int slot)
{
	struct guest_stats *gs = w ? w->gs : NULL;

	if (!gs || slot >= GUEST_STATS_CLIENTS)
		return;
	guest_stats_begin(gs);
	__atomic_store_n(&gs->d.client[slot].writer, 1u, __ATOMIC_RELAXED);
	guest_stats_end(gs);
}

/**
 * guest_stats_client_dropped() - the client of @slot fell behind: @n
 * bytes of output it will never get
 */
void guest_stats_client_dropped(struct guest_stats_writer *w,
				unsigned int slot, uint64_t n)
{
	struct guest_stats *gs = w ? w->gs : NULL;

	if (!gs || !n)
		return;
	guest_stats_begin(gs);
	guest_stats_add(&gs->d.dropped_client_bytes, n);
	if (slot < GUEST_STATS_CLIENTS)
		guest_stats_add(&gs->d.client[slot].dropped_bytes, n);
	guest_stats_end(gs);
}

/**
 * guest_stats_log() - the console log's losses so far
 * @dropped:	bytes it dropped (queue full, write errors)
 * @errors:	write error episodes and failed reopens
 */
void guest_stats_log(struct guest_stats_writer *w, uint64_t dropped,
		     uint64_t errors)
{
	struct guest_stats *gs = w ? w->gs : NULL;

	if (!gs || (gs->d.dropped_log_bytes == dropped &&
		    gs->d.log_errors == errors))
		return;
	guest_stats_begin(gs);
	put_u64(&gs->d.dropped_log_bytes, dropped);
	put_u64(&gs->d.log_errors, errors);
	guest_stats_end(gs);
}

/**
 * guest_stats_read() - a consistent copy of @gs, without stopping its
 * writer
 * @gs:		an entry of the shared memory
 * @out:	the copy
 *
 * Return: false when no consistent copy could be had: the writer died in
 * the middle of an update (until the supervisor repairs the entry), or it
 * never paused long enough
 */
bool guest_stats_read(const struct guest_stats *gs,
		      struct guest_stats_data *out)
{
	const uint64_t *src = (const uint64_t *)(const void *)&gs->d;
	uint64_t *dst = (uint64_t *)(void *)out;
	const size_t words = sizeof(*out) / sizeof(uint64_t);

	for (unsigned int t = 0; t < READ_TRIES; t++) {
		uint64_t s1 = __atomic_load_n(&gs->seq, __ATOMIC_ACQUIRE);

		/* A writer preempted inside its update (a page fault on a
		 * first store) gets the CPU back now and then. */
		if (t % 64 == 63)
			sched_yield();
		if (s1 & 1)
			continue;
		for (size_t i = 0; i < words; i++)
			dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
		/* The copy is complete before the count is read again. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&gs->seq, __ATOMIC_RELAXED) == s1) {
			out->version[sizeof(out->version) - 1] = '\0';
			out->log_path[sizeof(out->log_path) - 1] = '\0';
			for (unsigned int i = 0; i < GUEST_STATS_CLIENTS; i++)
				out->client[i].addr[GUEST_STATS_ADDR_LEN - 1] =
					'\0';
			return true;
		}
	}
	return false;
}

/**
 * guest_stats_recover() - the supervisor takes the entry of a worker that
 * is gone (no worker of this guest runs now)
 * @gs:		the entry
 * @restart:	a new worker is about to start: count it
 *
 * An update the dead worker left open is abandoned (the count made even);
 * its frontend, console and clients are gone with it. The counters stay:
 * they are the guest's, and the next worker adds to them.
 */
void guest_stats_recover(struct guest_stats *gs, bool restart)
{
	uint64_t s = __atomic_load_n(&gs->seq, __ATOMIC_RELAXED);

	if (s & 1)
		__atomic_store_n(&gs->seq, s + 1, __ATOMIC_RELAXED);
	guest_stats_begin(gs);
	put_u64(&gs->d.attached, 0);
	put_u64(&gs->d.attached_since, 0);
	put_u64(&gs->d.console_open, 0);
	put_u64(&gs->d.clients, 0);
	put_u64(&gs->d.worker_pid, 0);
	memset(gs->d.client, 0, sizeof(gs->d.client));
	if (restart)
		guest_stats_add(&gs->d.restarts, 1);
	guest_stats_end(gs);
}

/**
 * guest_stats_summary() - one line for systemd's STATUS=: "12 of 16
 * guests attached, 3 clients"
 * @shm:	the daemon's shared memory
 * @guests:	its entries, as the supervisor mapped them (not the header's
 *		count, which any worker could overwrite)
 * @buf:	where the line goes
 * @len:	its size
 *
 * Return: what snprintf() returns
 */
int guest_stats_summary(const struct daemon_shm *shm, unsigned int guests,
			char *buf, size_t len)
{
	static struct guest_stats_data d;
	unsigned int attached = 0, unknown = 0;
	uint64_t clients = 0;

	for (unsigned int i = 0; i < guests; i++) {
		if (!guest_stats_read(&shm->guest[i], &d)) {
			unknown++;
			continue;
		}
		attached += d.attached ? 1 : 0;
		clients += d.clients;
	}
	if (unknown)
		return snprintf(buf, len, "%u of %u guest%s attached, %llu client%s (%u unknown)",
				attached, guests, guests == 1 ? "" : "s",
				(unsigned long long)clients, clients == 1 ? "" : "s",
				unknown);
	return snprintf(buf, len, "%u of %u guest%s attached, %llu client%s",
			attached, guests, guests == 1 ? "" : "s",
			(unsigned long long)clients, clients == 1 ? "" : "s");
}

/** guest_client_kind_name() - "tcp", "unix", "web", "terminal" */
const char *guest_client_kind_name(enum guest_client_kind kind)
{
	switch (kind) {
	case GUEST_CLIENT_TCP:
		return "tcp";
	case GUEST_CLIENT_UNIX:
		return "unix";
	case GUEST_CLIENT_WEB:
		return "web";
	case GUEST_CLIENT_TERMINAL:
		return "terminal";
	case GUEST_CLIENT_NONE:
		break;
	}
	return "none";
}
