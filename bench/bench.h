/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * bench.h - what every part of the benchmark shares: the run's settings,
 * the clock, and fatal errors.
 *
 * The benchmark plays a VMM with a very fast guest (tests/lib/frontend)
 * on one side of a running daemon and the host's console client on the
 * other, and compares each figure with what plain sockets and eventfds
 * do on the same machine in the same run.
 */
#ifndef VDC_BENCH_H
#define VDC_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_MIB	   (1024ull * 1024)
#define BENCH_MB	   1e6 /* throughput is in MB/s, 10^6 bytes */
#define BENCH_CLIENT_READ  (256u << 10) /* the client's read buffer */
#define BENCH_CLIENT_WRITE (64u << 10) /* the client's write size */
#define BENCH_RX_BUF	   4096u /* the guest's rx buffers */
#define BENCH_MAX_SIZES	   8
#define BENCH_PATH_MAX	   96 /* a prefix; + index fits sun_path */
#define BENCH_SOCK_PATH	   108 /* sun_path: a prefix and an index */

enum bench_backend {
	BENCH_NETWORK,
	BENCH_UDS,
};

/* Everything the command line decides. */
struct bench_opts {
	char **daemon_argv; /* the daemon's command, prefix or template */
	int daemon_argc;
	bool quick;
	bool json_only;
	bool keep_tmp;
	bool flood; /* also run g2c with an unpaced guest */
	int use_perf; /* 1 yes, 0 no, -1 when perf is found */
	bool backends[2]; /* indexed by enum bench_backend */
	uint64_t xfer_bytes; /* per transfer */
	uint64_t window; /* paced guest: bytes ahead of the client */
	uint32_t sizes[BENCH_MAX_SIZES]; /* tx chain sizes */
	unsigned int nsizes;
	unsigned int echoes;
	unsigned int rounds; /* baseline and daemon alternate this often */
	unsigned int idle_s;
	unsigned int scale_sockets;
	unsigned int scale_streams;
	unsigned int port_base;
	uint16_t queue_size;
	const char *only; /* comma-separated groups, NULL for all */
	char tmpdir[64];
};

/* Monotonic time in nanoseconds and in seconds. */
uint64_t bench_now_ns(void);
double bench_now(void);
void bench_sleep_ms(unsigned int ms);

/* Print "vdc-bench: <message>" on stderr and exit(1); cleanup runs. */
void bench_die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
/* Progress and warnings on stderr (quiet with --json). */
void bench_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Is measurement group @name (g2c, c2g, echo, idle, scale) selected? */
bool bench_group(const char *name);

extern const struct bench_opts *bench_opts;

#endif
