/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * baseline.c - plain loopback transfers and a plain eventfd+socket
 * ping-pong, to put every figure of the daemon next to what the kernel
 * alone does here.
 *
 * The ping-pong has the daemon's topology: a client thread, a relay
 * process that waits in epoll on the client's socket and on an eventfd
 * (the daemon's worker) and a "guest" thread that waits in poll on
 * another eventfd. A byte goes
 * client -> relay (socket) -> guest (eventfd) -> relay (eventfd) ->
 * client (socket), the least any vhost-user console must do.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "baseline.h"
#include "bench.h"
#include "client.h"

#define MAX_PAIRS 64

/* A connected loopback TCP pair, TCP_NODELAY as the daemon sets it. */
static void tcp_pair(int fds[2])
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&sa, &len) < 0)
		bench_die("loopback listener: %s", strerror(errno));
	fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fds[0] < 0 || connect(fds[0], (struct sockaddr *)&sa, len) < 0)
		bench_die("loopback connect: %s", strerror(errno));
	fds[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (fds[1] < 0)
		bench_die("loopback accept: %s", strerror(errno));
	close(l);
	setsockopt(fds[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fds[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* fds[0] is the writing end, fds[1] the reading end. */
static void sock_pair(enum sock_kind kind, int fds[2])
{
	if (kind == SOCK_KIND_TCP)
		tcp_pair(fds);
	else if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
		bench_die("socketpair: %s", strerror(errno));
}

/* --- streams -------------------------------------------------------- */

struct stream {
	uint64_t bytes;
	pthread_barrier_t *go;
	double t_first; /* the writer: just past the barrier */
	double t_last; /* the reader: when the last byte came */
	int fd;
	uint32_t chunk;
};

/* Write the stream's bytes, one write() per chunk. */
static void *writer_main(void *arg)
{
	struct stream *s = arg;

	pthread_barrier_wait(s->go);
	s->t_first = bench_now();
	if (client_write_all(s->fd, s->bytes, s->chunk) < 0)
		bench_die("baseline writer: %s", strerror(errno));
	return NULL;
}

/* Read the stream's bytes, at most one chunk per read(). */
static void *reader_main(void *arg)
{
	struct stream *s = arg;
	uint8_t *buf = malloc(s->chunk);
	uint64_t got = 0;

	if (!buf)
		bench_die("out of memory");
	pthread_barrier_wait(s->go);
	while (got < s->bytes) {
		ssize_t n = read(s->fd, buf, s->chunk);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			bench_die("baseline reader: %s",
				  n ? strerror(errno) : "early end");
		got += (uint64_t)n;
	}
	s->t_last = bench_now();
	free(buf);
	return NULL;
}

/**
 * baseline_stream() - @pairs transfers at once over plain socket pairs
 *
 * Return: seconds from the first writer's start until the last reader had
 * all its bytes. The writers take the start time themselves: this thread
 * may be scheduled after the barrier only once a transfer is over.
 */
double baseline_stream(enum sock_kind kind, unsigned int pairs,
		       uint64_t bytes_per_pair, uint32_t write_chunk,
		       uint32_t read_chunk)
{
	struct stream w[MAX_PAIRS], r[MAX_PAIRS];
	pthread_t tw[MAX_PAIRS], tr[MAX_PAIRS];
	pthread_barrier_t go;
	double t0 = 0, t_end = 0;

	if (pairs > MAX_PAIRS)
		pairs = MAX_PAIRS;
	pthread_barrier_init(&go, NULL, 2 * pairs + 1);
	for (unsigned int i = 0; i < pairs; i++) {
		int fds[2];

		sock_pair(kind, fds);
		w[i] = (struct stream){.fd = fds[0],
				       .bytes = bytes_per_pair,
				       .chunk = write_chunk,
				       .go = &go};
		r[i] = (struct stream){.fd = fds[1],
				       .bytes = bytes_per_pair,
				       .chunk = read_chunk,
				       .go = &go};
		pthread_create(&tw[i], NULL, writer_main, &w[i]);
		pthread_create(&tr[i], NULL, reader_main, &r[i]);
	}
	pthread_barrier_wait(&go);
	for (unsigned int i = 0; i < pairs; i++) {
		pthread_join(tw[i], NULL);
		pthread_join(tr[i], NULL);
		if (i == 0 || w[i].t_first < t0)
			t0 = w[i].t_first;
		if (r[i].t_last > t_end)
			t_end = r[i].t_last;
		close(w[i].fd);
		close(r[i].fd);
	}
	pthread_barrier_destroy(&go);
	return t_end - t0;
}

/* --- ping-pong ------------------------------------------------------ */

struct pingpong {
	int relay_sock; /* the relay's end of the client's socket */
	int to_guest; /* eventfd: relay -> guest (the daemon's call) */
	int to_relay; /* eventfd: guest -> relay (the guest's kick) */
	bool stop;
};

/* Add one to an eventfd; false if that failed. */
static bool signal_fd(int fd)
{
	uint64_t one = 1;

	return write(fd, &one, sizeof(one)) == sizeof(one);
}

/* Read an eventfd's count, if any. */
static void drain_fd(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		bench_die("eventfd read: %s", strerror(errno));
}

/* The guest: wait for a call, read it, kick back. */
static void *pp_guest_main(void *arg)
{
	struct pingpong *pp = arg;

	for (;;) {
		struct pollfd p = {pp->to_guest, POLLIN, 0};

		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			bench_die("poll: %s", strerror(errno));
		drain_fd(pp->to_guest);
		if (__atomic_load_n(&pp->stop, __ATOMIC_ACQUIRE))
			return NULL;
		if (!signal_fd(pp->to_relay))
			bench_die("eventfd write: %s", strerror(errno));
	}
}

/*
 * One relay event: a byte from the client, or a kick from the guest.
 * Return: false when the client is gone.
 */
static bool pp_relay_event(struct pingpong *pp, int fd, uint8_t *held)
{
	uint64_t v;

	if (fd == pp->to_relay)
		return read(pp->to_relay, &v, sizeof(v)) == sizeof(v) &&
		       write(pp->relay_sock, held, 1) == 1;
	return read(pp->relay_sock, held, 1) == 1 && signal_fd(pp->to_guest);
}

/*
 * The relay, a process of its own as the daemon's worker is: one epoll
 * loop over the client's socket and the guest's kick, until the client
 * hangs up. Only system calls here: we were forked from threads.
 */
static void pp_relay_main(struct pingpong *pp)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev[2];
	uint8_t held = 0;
	bool up = true;

	ev[0] = (struct epoll_event){.events = EPOLLIN,
				     .data.fd = pp->relay_sock};
	ev[1] = (struct epoll_event){.events = EPOLLIN,
				     .data.fd = pp->to_relay};
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, pp->relay_sock, &ev[0]) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, pp->to_relay, &ev[1]))
		_exit(1);
	while (up) {
		int n = epoll_wait(ep, ev, 2, -1);

		if (n < 0 && errno != EINTR)
			_exit(1);
		for (int i = 0; i < n && up; i++)
			up = pp_relay_event(pp, ev[i].data.fd, &held);
	}
	_exit(0);
}

/* Fork the relay; it dies with us. */
static pid_t pp_relay_start(struct pingpong *pp, int client_fd)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid < 0)
		bench_die("fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		close(client_fd);
		pp_relay_main(pp);
	}
	return pid;
}

/**
 * baseline_pingpong() - @count one-byte round trips through a relay
 * process and a guest thread, each timed into @rtt_ns
 *
 * Return: 0, or -1 if a byte was lost
 */
int baseline_pingpong(enum sock_kind kind, unsigned int count, uint64_t *rtt_ns)
{
	struct pingpong pp = {0};
	pthread_t guest;
	pid_t relay;
	int fds[2], r;

	sock_pair(kind, fds);
	pp.relay_sock = fds[1];
	pp.to_guest = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pp.to_relay = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pp.to_guest < 0 || pp.to_relay < 0)
		bench_die("eventfd: %s", strerror(errno));
	relay = pp_relay_start(&pp, fds[0]);
	close(fds[1]);
	pthread_create(&guest, NULL, pp_guest_main, &pp);
	r = client_ping(fds[0], count / 20 + 1, NULL);
	if (r == 0)
		r = client_ping(fds[0], count, rtt_ns);
	close(fds[0]);
	waitpid(relay, NULL, 0);
	__atomic_store_n(&pp.stop, true, __ATOMIC_RELEASE);
	signal_fd(pp.to_guest);
	pthread_join(guest, NULL);
	close(pp.to_guest);
	close(pp.to_relay);
	return r;
}
