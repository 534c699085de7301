/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * guest_stats.h - one guest's counters, published by its worker in the
 * daemon's shared memory (daemon_shm.h) for status and metrics.
 *
 * The worker is the only writer of its entry while it runs; readers never
 * stop it and never make it do a system call. A sequence count (a
 * seqlock) tells a reader whether its copy is consistent: the writer
 * makes it odd, stores, and makes it even again, with release ordering;
 * a reader copies between two loads of the count and keeps the copy only
 * when both loads saw the same even value. Every store of the writer is a
 * plain store to memory (no lock, no atomic read-modify-write), so
 * counting a batch of console output costs a few instructions.
 *
 * A worker killed in the middle of an update leaves the count odd: no
 * reader will ever take that entry as consistent until the supervisor,
 * the entry's owner between two workers, repairs it (guest_stats_recover())
 * before it forks the next worker. Counters survive a restart; what
 * described the dead worker's connections is cleared.
 *
 * The wake-up: a worker whose frontend or clients change (rare events,
 * never the data path) writes to an eventfd the supervisor watches, which
 * then reads the entries again for its one-line summary (systemd's
 * STATUS=).
 */
#ifndef VDC_GUEST_STATS_H
#define VDC_GUEST_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_STATS_CLIENTS  64u /* MAX_CLIENTS_LIMIT, checked in the .c */
#define GUEST_STATS_ADDR_LEN 64u
#define GUEST_STATS_PATH_LEN 256u
#define GUEST_STATS_VER_LEN  32u

enum guest_client_kind {
	GUEST_CLIENT_NONE = 0, /* a free slot */
	GUEST_CLIENT_TCP,
	GUEST_CLIENT_UNIX,
	GUEST_CLIENT_WEB,
	GUEST_CLIENT_TERMINAL, /* the nested backend's terminal */
};

/* One client of the console (port 0), in the backend's slot order. */
struct guest_client_stats {
	uint32_t kind; /* enum guest_client_kind */
	uint32_t writer; /* 1: what it types goes to the guest */
	int64_t uid; /* its peer uid; -1 when unknown */
	int64_t pid; /* its peer pid (unix sockets); -1 when unknown */
	uint64_t since; /* CLOCK_REALTIME seconds it connected */
	uint64_t dropped_bytes; /* output it fell behind by and lost */
	char addr[GUEST_STATS_ADDR_LEN]; /* "127.0.0.1:40000", a path, "" */
};

struct guest_stats_data {
	uint64_t attached; /* 1 while a frontend (VMM) is connected */
	uint64_t attached_since; /* CLOCK_REALTIME seconds, when attached */
	uint64_t attaches; /* frontends served so far */
	uint64_t console_open; /* 1 while the guest has the console open */
	uint64_t bytes_out; /* guest to host, every port */
	uint64_t bytes_in; /* host to guest, every port */
	uint64_t dropped_client_bytes; /* clients that fell behind */
	uint64_t dropped_unattended_bytes; /* overwritten with no client */
	uint64_t dropped_log_bytes; /* the console log's queue and errors */
	uint64_t log_errors; /* console log write and reopen failures */
	uint64_t clients; /* used slots of client[] */
	uint64_t restarts; /* the supervisor's: workers restarted */
	uint64_t worker_pid; /* 0 while no worker runs */
	uint64_t worker_started; /* CLOCK_REALTIME seconds */
	char version[GUEST_STATS_VER_LEN]; /* the worker's program version */
	char log_path[GUEST_STATS_PATH_LEN]; /* --console-log's file, or "" */
	struct guest_client_stats client[GUEST_STATS_CLIENTS];
};

struct guest_stats {
	uint64_t seq; /* even: stable; odd: being written */
	uint64_t pad[7]; /* the count on a cache line of its own */
	struct guest_stats_data d;
};

/*
 * What a worker writes with: its entry and the supervisor's eventfd. A
 * NULL writer is allowed everywhere (tests and tools without shared
 * memory).
 */
struct guest_stats_writer {
	struct guest_stats *gs;
	int wake_fd; /* -1: nobody to tell */
};

/* guest_stats_begin() - open an update: readers retry until the end */
static inline void guest_stats_begin(struct guest_stats *gs)
{
	uint64_t s = __atomic_load_n(&gs->seq, __ATOMIC_RELAXED);

	__atomic_store_n(&gs->seq, s + 1, __ATOMIC_RELAXED);
	/* The odd count is visible before any store of the update. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

/* guest_stats_end() - close it: the stores before are visible first */
static inline void guest_stats_end(struct guest_stats *gs)
{
	uint64_t s = __atomic_load_n(&gs->seq, __ATOMIC_RELAXED);

	__atomic_store_n(&gs->seq, s + 1, __ATOMIC_RELEASE);
}

/* guest_stats_add() - @field += @n: a plain, untorn 64-bit store */
static inline void guest_stats_add(uint64_t *field, uint64_t n)
{
	__atomic_store_n(field, *field + n, __ATOMIC_RELAXED);
}

/* The data path's counters: one update each, no system call. */
static inline void guest_stats_count(struct guest_stats_writer *w,
				     size_t offset, uint64_t n)
{
	if (!w || !w->gs || !n)
		return;
	guest_stats_begin(w->gs);
	guest_stats_add((uint64_t *)(void *)((char *)&w->gs->d + offset), n);
	guest_stats_end(w->gs);
}

#define GUEST_STATS_COUNT(w, field, n)                                         \
	guest_stats_count((w), offsetof(struct guest_stats_data, field), (n))

void guest_stats_worker_start(struct guest_stats_writer *w,
			      const char *version);
void guest_stats_log_opened(struct guest_stats_writer *w, const char *path);
void guest_stats_attached(struct guest_stats_writer *w, bool on);
void guest_stats_console_open(struct guest_stats_writer *w, bool open);
void guest_stats_client_in(struct guest_stats_writer *w, unsigned int slot,
			   enum guest_client_kind kind, int fd, bool writer);
void guest_stats_client_out(struct guest_stats_writer *w, unsigned int slot);
void guest_stats_client_writer(struct guest_stats_writer *w,
			       unsigned int slot);
void guest_stats_client_dropped(struct guest_stats_writer *w,
				unsigned int slot, uint64_t n);
void guest_stats_log(struct guest_stats_writer *w, uint64_t dropped,
		     uint64_t errors);

bool guest_stats_read(const struct guest_stats *gs,
		      struct guest_stats_data *out);
void guest_stats_recover(struct guest_stats *gs, bool restarting);

struct daemon_shm;
int guest_stats_summary(const struct daemon_shm *shm, unsigned int guests,
			char *buf, size_t len);
int guest_stats_wake_open(void);
void guest_stats_wake(const struct guest_stats_writer *w);

const char *guest_client_kind_name(enum guest_client_kind kind);

#endif
