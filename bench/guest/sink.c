/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * sink.c - vdc-sink: the reference backend of `make bench-guest`.
 *
 * A virtio console that does nothing with what the guest writes: every
 * transmit chain is handed back the moment it is seen, its bytes never
 * touched. No host side, no buffering, no second fd in the loop besides
 * the kicks. What a guest can push through it is the most any console
 * backend could take from that guest: the guest-bound limit for
 * guest -> host transfers.
 *
 * It speaks vhost-user through the daemon's own protocol layer
 * (src/vhost_user.c, virtqueue.c, guest_mem.c, event_loop.c), so the
 * protocol costs both the same; only the device differs. It offers the
 * daemon's ring features but not MULTIPORT: the guest's console is then
 * port 0 on queues 0 and 1 - the same queues, driver path and hvc0 as
 * with the daemon - and there is no control queue to serve. Receive
 * buffers the guest posts are left alone (no input ever comes).
 *
 * Each burst of output (bytes with less than --gap ms between kicks) is
 * reported on stdout when the next one starts or the frontend leaves:
 *
 *     burst BYTES FIRST_NS LAST_NS CHAINS KICKS
 *
 * with CLOCK_MONOTONIC times of the first and the last kick that brought
 * bytes; and at the end, for comparing its costs with the daemon's worker:
 *
 *     schedstat ON_CPU_NS RUNQUEUE_WAIT_NS TIMESLICES
 *     ctxsw VOLUNTARY INVOLUNTARY Built by bench/bench.mk only; never installed.
 *
 * --reader=before|after is for finding out where a real backend's time
 * goes: the sink then also passes the bytes on, to a child process that
 * reads and discards them through a unix socket pair, as a console
 * client would. "before" writes them straight from guest memory and only
 * then hands the chains back (as the daemon does); "after" copies them
 * out, hands the chains back and notifies, and writes afterwards.
 *
 *     vdc-sink --socket-path=PATH [--gap=MS] [--max-queue-size=N]
 *              [--reader=none|before|after]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "event_loop.h"
#include "log.h"
#include "vhost_user.h"

#define SINK_QUEUES	    4 /* what QEMU's num_vqs=4 sets up; UML: 2 */
#define SINK_IOV_CAP	    1024
#define SINK_DEFAULT_GAP_MS 200

struct burst {
	uint64_t bytes;
	uint64_t chains;
	uint64_t kicks;
	uint64_t first_ns;
	uint64_t last_ns;
};

enum reader_mode { READER_NONE, READER_BEFORE, READER_AFTER };

struct sink {
	enum reader_mode reader;
	int reader_fd; /* our end of the pair, or -1 */
	char *copy; /* READER_AFTER: the batch, copied out */
	size_t copy_cap;
	struct ev_loop loop;
	struct vu_dev vu;
	struct vu_device dev;
	int listen_fd;
	struct ev_watch listen_watch;
	int sigfd;
	struct ev_watch sig_watch;
	uint64_t gap_ns;
	struct burst burst;
	struct iovec iov[SINK_IOV_CAP];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Print the burst so far, if any, and start afresh. */
static void burst_report(struct sink *s)
{
	struct burst *b = &s->burst;

	if (b->bytes)
		printf("burst %llu %llu %llu %llu %llu\n",
		       (unsigned long long)b->bytes,
		       (unsigned long long)b->first_ns,
		       (unsigned long long)b->last_ns,
		       (unsigned long long)b->chains,
		       (unsigned long long)b->kicks);
	fflush(stdout);
	memset(b, 0, sizeof(*b));
}

static void burst_add(struct sink *s, uint64_t bytes, uint64_t chains)
{
	struct burst *b = &s->burst;
	uint64_t t = now_ns();

	if (b->bytes && t - b->last_ns > s->gap_ns)
		burst_report(s);
	if (!b->bytes)
		b->first_ns = t;
	b->bytes += bytes;
	b->chains += chains;
	b->kicks++;
	b->last_ns = t;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0 && errno != EINTR)
			return;
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		}
	}
}

/* READER_BEFORE: the chain, straight from guest memory. */
static void pass_on_iov(struct sink *s, const struct vq_chain *ch)
{
	struct iovec *v = s->iov;
	unsigned int n = ch->n_out;

	while (n) {
		ssize_t w = writev(s->reader_fd, v, (int)n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		while (n && (size_t)w >= v->iov_len) {
			w -= (ssize_t)v->iov_len;
			v++;
			n--;
		}
		if (n) {
			v->iov_base = (char *)v->iov_base + w;
			v->iov_len -= (size_t)w;
		}
	}
}

/* READER_AFTER: copy the chain out, to be written once it is handed back. */
static size_t copy_out(struct sink *s, const struct vq_chain *ch, size_t at)
{
	for (unsigned int i = 0; i < ch->n_out; i++) {
		size_t len = s->iov[i].iov_len;

		if (at + len > s->copy_cap) {
			s->copy_cap = 2 * (at + len);
			s->copy = realloc(s->copy, s->copy_cap);
			if (!s->copy)
				abort();
		}
		memcpy(s->copy + at, s->iov[i].iov_base, len);
		at += len;
	}
	return at;
}

/* Transmit queue: give every chain back at once, unread (or passed on,
 * with --reader). */
static void sink_tx(struct sink *s, struct virtqueue *vq)
{
	uint64_t bytes = 0, chains = 0;
	struct vq_chain ch;

	do {
		size_t copied = 0;

		while (vq_pop(vq, s->iov, SINK_IOV_CAP, &ch) == VQ_POP_OK) {
			if (s->reader == READER_BEFORE)
				pass_on_iov(s, &ch);
			else if (s->reader == READER_AFTER)
				copied = copy_out(s, &ch, copied);
			vq_push(vq, ch.head, 0);
			bytes += ch.out_len;
			chains++;
		}
		vq_flush(vq);
		vq_notify(vq);
		if (copied)
			write_all(s->reader_fd, s->copy, copied);
	} while (vq_enable_notify(vq));
	if (bytes)
		burst_add(s, bytes, chains);
}

/* A child that reads and discards, as a console client would. */
static int start_reader(struct sink *s)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		static char buf[256 << 10];

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(sv[0]);
		while (read(sv[1], buf, sizeof(buf)) > 0)
			;
		_exit(0);
	}
	close(sv[1]);
	s->reader_fd = sv[0];
	return 0;
}

static void on_queue_kick(void *opaque, struct virtqueue *vq)
{
	if (vq->index == CONSOLE_QUEUE_TX)
		sink_tx(opaque, vq);
}

static void on_reset(void *opaque)
{
	burst_report(opaque);
}

/* Port 0 only, no size: the config space a console without F_SIZE and
 * MULTIPORT shows. */
static void on_get_config(void *opaque, uint32_t offset, uint8_t *buf,
			  uint32_t len)
{
	struct virtio_console_config cfg = {.max_nr_ports = 1};

	(void)opaque;
	memcpy(buf, (uint8_t *)&cfg + offset, len);
}

static int on_set_config(void *opaque, uint32_t offset, const uint8_t *buf,
			 uint32_t len)
{
	(void)opaque;
	(void)offset;
	(void)buf;
	(void)len;
	return 0;
}

/* UML connects once: when its frontend leaves, the sink is done. */
static void on_disconnected(void *opaque)
{
	struct sink *s = opaque;

	burst_report(s);
	ev_stop(&s->loop);
}

static void on_listen(void *arg, uint32_t events)
{
	struct sink *s = arg;
	int fd;

	(void)events;
	fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (vu_connected(&s->vu)) {
		close(fd);
		return;
	}
	vu_attach(&s->vu, fd);
}

static void on_signal(void *arg, uint32_t events)
{
	struct sink *s = arg;

	(void)events;
	burst_report(s);
	ev_stop(&s->loop);
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vdc-sink: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 1) < 0) {
		fprintf(stderr, "vdc-sink: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* What this process cost and how long it waited for a CPU. */
static void report_costs(void)
{
	unsigned long long run = 0, wait = 0, slices = 0;
	struct rusage ru;
	FILE *f = fopen("/proc/self/schedstat", "r");

	if (f && fscanf(f, "%llu %llu %llu", &run, &wait, &slices) == 3)
		printf("schedstat %llu %llu %llu\n", run, wait, slices);
	if (f)
		fclose(f);
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		printf("ctxsw %ld %ld\n", ru.ru_nvcsw, ru.ru_nivcsw);
	fflush(stdout);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vdc-sink --socket-path=PATH [--gap=MS] [--max-queue-size=N] [--reader=none|before|after]\n"
		"A vhost-user console that discards all guest output; prints its bursts.\n");
}

int main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{"socket-path", required_argument, NULL, 's'},
		{"gap", required_argument, NULL, 'g'},
		{"max-queue-size", required_argument, NULL, 'q'},
		{"reader", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct sink s;
	const char *path = NULL;
	unsigned long gap_ms = SINK_DEFAULT_GAP_MS, qsize = 1024;
	sigset_t mask;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'g':
			gap_ms = strtoul(optarg, NULL, 10);
			break;
		case 'q':
			qsize = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			if (strcmp(optarg, "before") == 0)
				s.reader = READER_BEFORE;
			else if (strcmp(optarg, "after") == 0)
				s.reader = READER_AFTER;
			else if (strcmp(optarg, "none") != 0) {
				usage(stderr);
				return 1;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (!path || qsize < 2 || qsize > 32768) {
		usage(stderr);
		return 1;
	}
	s.reader_fd = -1;
	if (s.reader != READER_NONE && start_reader(&s) < 0) {
		fprintf(stderr, "vdc-sink: cannot start the reader: %s\n",
			strerror(errno));
		return 1;
	}
	log_open();
	log_set_level(LOG_LEVEL_WARN);
	s.gap_ns = gap_ms * 1000000ull;
	s.dev = (struct vu_device){
		.features = (1ULL << VIRTIO_F_VERSION_1) |
			    (1ULL << VIRTIO_F_NOTIFY_ON_EMPTY) |
			    (1ULL << VIRTIO_RING_F_EVENT_IDX) |
			    (1ULL << VIRTIO_RING_F_INDIRECT_DESC),
		.num_queues = SINK_QUEUES,
		.config_size = sizeof(struct virtio_console_config),
		.opaque = &s,
		.queue_kick = on_queue_kick,
		.reset = on_reset,
		.get_config = on_get_config,
		.set_config = on_set_config,
		.disconnected = on_disconnected,
	};
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	ev_watch_init(&s.listen_watch);
	ev_watch_init(&s.sig_watch);
	s.sigfd = ev_signalfd_open(&mask);
	s.listen_fd = listen_unix(path);
	if (s.sigfd < 0 || s.listen_fd < 0 || ev_loop_init(&s.loop) < 0)
		return 1;
	vu_init(&s.vu, &s.loop, &s.dev, (uint32_t)qsize);
	if (ev_add(&s.loop, &s.sig_watch, s.sigfd, EPOLLIN, on_signal, &s) <
		    0 ||
	    ev_add(&s.loop, &s.listen_watch, s.listen_fd, EPOLLIN, on_listen,
		   &s) < 0)
		return 1;
	fprintf(stderr, "vdc-sink: listening on %s\n", path);
	ev_run(&s.loop);
	vu_detach(&s.vu);
	report_costs();
	ev_loop_fini(&s.loop);
	close(s.listen_fd);
	unlink(path);
	return 0;
}
