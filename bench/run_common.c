/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * run_common.c - what the measurements share: names, units, and the
 * daemon, its clients and its guests brought up (or a clear death). It
 * calls no measurement: the runs call down into it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "client.h"
#include "dut.h"
#include "guest.h"
#include "run_common.h"

#define READY_TIMEOUT_S 10.0
#define SYNC_TIMEOUT_MS 5000

const char *backend_name(enum bench_backend b)
{
	return b == BENCH_NETWORK ? "network" : "uds";
}

/* The plain socket that compares with @b's console connection. */
const char *kind_name(enum bench_backend b)
{
	return b == BENCH_NETWORK ? "tcp" : "unix";
}

/* The plain socket type of @b's baselines. */
enum sock_kind kind_of(enum bench_backend b)
{
	return b == BENCH_NETWORK ? SOCK_KIND_TCP : SOCK_KIND_UNIX;
}

/* Throughput in MB/s (10^6 bytes a second). */
double mbps(uint64_t bytes, double secs)
{
	return secs > 0 ? (double)bytes / secs / BENCH_MB : NAN;
}

/**
 * dut_up() - start a daemon and wait until every socket is served, or stop
 * the benchmark with its log
 * @t_bound, @t_ready:	seconds until connectable and served; may be NULL
 */
void dut_up(struct dut *d, enum bench_backend b, unsigned int count,
	    const char *tag, double *t_bound, double *t_ready)
{
	double bound, ready;

	dut_spawn(d, b, count, tag);
	if (dut_wait_ready(d, READY_TIMEOUT_S, &bound, &ready) < 0) {
		dut_show_log(d);
		if (d->pid == 0)
			bench_die("the daemon exited at start (its log is "
				  "above)");
		bench_die("the daemon did not serve its %u socket(s) within "
			  "%.0f s",
			  count, READY_TIMEOUT_S);
	}
	dut_find_workers(d);
	if (b == BENCH_NETWORK)
		bench_note("daemon pid %d, consoles on TCP ports %u..%u",
			   (int)d->pid, d->port, d->port + count - 1);
	if (t_bound)
		*t_bound = bound;
	if (t_ready)
		*t_ready = ready;
}

/* A client connected to console @i, or stop the benchmark. */
int client_up(const struct dut *d, unsigned int i)
{
	int fd = client_connect(d, i, READY_TIMEOUT_S);

	if (fd < 0) {
		dut_show_log(d);
		bench_die("cannot connect to console %u: %s", i,
			  strerror(errno));
	}
	return fd;
}

/**
 * guest_up() - connect guest @i and check both directions with one echo,
 * so that the client is known to be attached before anything is measured
 */
void guest_up(struct guest *g, const struct dut *d, unsigned int i,
	      uint32_t buf_size, int client_fd)
{
	char path[BENCH_SOCK_PATH];
	uint8_t c = '!';

	dut_vu_path(d, i, path, sizeof(path));
	if (guest_open(g, path, bench_opts->queue_size, buf_size) < 0) {
		dut_show_log(d);
		bench_die("guest %u could not connect", i);
	}
	if (write(client_fd, &c, 1) != 1 ||
	    guest_echo_once(g, SYNC_TIMEOUT_MS) < 0 ||
	    read_byte(client_fd, SYNC_TIMEOUT_MS) != c) {
		dut_show_log(d);
		bench_die("console %u: a byte did not make the round trip", i);
	}
}
