/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * client.c - the console client: blocking sockets, big reads, and one
 * byte at a time for latency.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "dut.h"
#include "flow.h"

#define IO_TIMEOUT_MS 5000

/* One connection attempt to console @i; the fd, or -1 to retry. */
static int connect_once(const struct dut *d, unsigned int i)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	struct sockaddr_in in = {.sin_family = AF_INET};
	bool tcp = d->backend == BENCH_NETWORK;
	int fd = socket(tcp ? AF_INET : AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1, r;

	if (fd < 0)
		bench_die("socket: %s", strerror(errno));
	if (tcp) {
		in.sin_port = htons((uint16_t)(d->port + i));
		in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		r = connect(fd, (struct sockaddr *)&in, sizeof(in));
	} else {
		snprintf(un.sun_path, sizeof(un.sun_path), "%s%u",
			 d->uds_prefix, i);
		r = connect(fd, (struct sockaddr *)&un, sizeof(un));
	}
	if (r < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/**
 * client_connect() - connect to guest @i's console, retrying while the
 * daemon starts
 *
 * Return: a blocking socket, or -1 after @timeout_s
 */
int client_connect(const struct dut *d, unsigned int i, double timeout_s)
{
	double deadline = bench_now() + timeout_s;

	for (;;) {
		int fd = connect_once(d, i);

		if (fd >= 0)
			return fd;
		if (bench_now() > deadline)
			return -1;
		bench_sleep_ms(5);
	}
}

/**
 * sink_main() - read and count until @expect bytes, or quiet after the
 * source is done (a daemon may drop output it cannot deliver)
 */
void *sink_main(void *arg)
{
	uint8_t *buf = malloc(BENCH_CLIENT_READ);
	struct sink *s = arg;

	if (!buf)
		bench_die("out of memory");
	s->got = 0;
	s->t_last = bench_now();
	while (s->got < s->expect) {
		struct pollfd p = {s->fd, POLLIN, 0};
		ssize_t n;

		if (poll(&p, 1, s->idle_ms) == 0) {
			if (__atomic_load_n(s->source_done, __ATOMIC_ACQUIRE))
				break;
			continue;
		}
		n = read(s->fd, buf, BENCH_CLIENT_READ);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		s->got += (uint64_t)n;
		s->t_last = bench_now();
		if (s->flow)
			flow_delivered(s->flow, s->got);
	}
	free(buf);
	return NULL;
}

/**
 * client_write_all() - write @total bytes, @chunk per write()
 *
 * Return: 0, or -1 if the connection failed
 */
int client_write_all(int fd, uint64_t total, uint32_t chunk)
{
	/* What is written does not matter; shared by writer threads. */
	static const uint8_t buf[BENCH_CLIENT_WRITE];

	if (chunk > sizeof(buf))
		chunk = sizeof(buf);
	while (total) {
		size_t k = total < chunk ? (size_t)total : chunk;
		ssize_t n = write(fd, buf, k);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		total -= (uint64_t)n;
	}
	return 0;
}

/**
 * read_byte() - one byte, waiting at most @timeout_ms
 *
 * Return: the byte, or -1
 */
int read_byte(int fd, int timeout_ms)
{
	struct pollfd p = {fd, POLLIN, 0};
	uint8_t c;

	if (poll(&p, 1, timeout_ms) <= 0 || read(fd, &c, 1) != 1)
		return -1;
	return c;
}

/**
 * client_ping() - @count round trips of one byte, each timed into
 * @rtt_ns (may be NULL for a warm-up)
 *
 * Return: 0, or -1 if a byte did not come back
 */
int client_ping(int fd, unsigned int count, uint64_t *rtt_ns)
{
	for (unsigned int i = 0; i < count; i++) {
		uint8_t c = (uint8_t)('0' + i % 10);
		uint64_t t0 = bench_now_ns();

		if (write(fd, &c, 1) != 1 || read_byte(fd, IO_TIMEOUT_MS) != c)
			return -1;
		if (rtt_ns)
			rtt_ns[i] = bench_now_ns() - t0;
	}
	return 0;
}
