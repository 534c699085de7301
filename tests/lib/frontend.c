/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * frontend.c - the test frontend: what a VMM and a guest driver do, made
 * small enough to drive the daemon from tests, fuzz seeds and benchmarks.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "frontend.h"
#include "wait.h"

#define HDR_SIZE    sizeof(struct vhost_user_header)
#define TABLE_DESCS 64 /* indirect table slots per head */
#define PAGE	    4096ull
#define UML_OFFSET  0x200000ull

static int fail(struct fe *fe, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct fe *fe, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fe->err, sizeof(fe->err), fmt, ap);
	va_end(ap);
	return -1;
}

static long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void *fe_gpa(struct fe *fe, uint64_t gpa)
{
	return fe->map + fe->mmap_offset + (gpa - FE_GPA_BASE);
}

static uint64_t uva_of(const struct fe *fe, uint64_t gpa)
{
	/* UML's frontend addresses are its guest addresses. */
	if (fe->cfg.style == FE_STYLE_UML)
		return gpa;
	return FE_UVA_BASE + (gpa - FE_GPA_BASE);
}

uint64_t fe_alloc(struct fe *fe, uint64_t size, uint64_t align)
{
	uint64_t at = (fe->alloc_next + align - 1) & ~(align - 1);

	if (at + size > FE_GPA_BASE + fe->mem_size)
		return 0;
	fe->alloc_next = at + size;
	return at;
}

static int connect_retry(struct fe *fe, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	long deadline = ms_now() + 5000;

	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return fail(fe, "socket: %s", strerror(errno));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		close(fd);
		if (ms_now() > deadline)
			return fail(fe, "connect %s: %s", path,
				    strerror(errno));
		usleep(10000);
	}
}

static int setup_ring(struct fe *fe, unsigned int q)
{
	struct fe_ring *r = &fe->rings[q];
	uint16_t num = fe->cfg.queue_size;
	int p[2];

	r->index = q;
	r->num = num;
	r->desc_gpa = fe_alloc(fe, vring_desc_bytes(num), PAGE);
	r->avail_gpa = fe_alloc(fe, vring_avail_bytes(num), PAGE);
	r->used_gpa = fe_alloc(fe, vring_used_bytes(num), PAGE);
	r->data_gpa = fe_alloc(fe, (uint64_t)num * fe->cfg.buf_size, PAGE);
	r->table_gpa = fe_alloc(fe, (uint64_t)num * TABLE_DESCS * 16, PAGE);
	if (!r->desc_gpa || !r->avail_gpa || !r->used_gpa || !r->data_gpa ||
	    !r->table_gpa)
		return fail(fe, "guest memory too small for ring %u", q);
	r->desc = fe_gpa(fe, r->desc_gpa);
	r->avail = fe_gpa(fe, r->avail_gpa);
	r->used = fe_gpa(fe, r->used_gpa);
	r->nfree = num;
	for (unsigned int i = 0; i < num; i++)
		r->free_ids[i] = (uint16_t)(num - 1 - i);
	r->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fe->cfg.style == FE_STYLE_UML) {
		if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
			return fail(fe, "pipe: %s", strerror(errno));
		r->call_fd = p[0];
		r->call_peer_fd = p[1];
	} else {
		r->call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		r->call_peer_fd = dup(r->call_fd);
	}
	if (r->kick_fd < 0 || r->call_fd < 0 || r->call_peer_fd < 0)
		return fail(fe, "ring %u fds: %s", q, strerror(errno));
	return 0;
}

int fe_open(struct fe *fe, const struct fe_config *cfg)
{
	uint64_t per_ring;

	memset(fe, 0, sizeof(*fe));
	fe->sock = fe->memfd = fe->chan_fd = -1;
	for (unsigned int q = 0; q < FE_MAX_QUEUES; q++)
		fe->rings[q].kick_fd = fe->rings[q].call_fd =
			fe->rings[q].call_peer_fd = -1;
	fe->cfg = *cfg;
	fe->nq = cfg->queues ? cfg->queues : FE_QUEUES;
	if (fe->nq > FE_MAX_QUEUES)
		return fail(fe, "%u queues: at most %u", fe->nq, FE_MAX_QUEUES);
	if (!fe->cfg.queue_size)
		fe->cfg.queue_size = 64;
	if (!fe->cfg.buf_size)
		fe->cfg.buf_size = 4096;
	if (fe->cfg.queue_size > FE_MAX_NUM)
		return fail(fe, "queue size %u too large", fe->cfg.queue_size);
	per_ring = 4 * PAGE + vring_desc_bytes(fe->cfg.queue_size) +
		   vring_used_bytes(fe->cfg.queue_size) +
		   (uint64_t)fe->cfg.queue_size *
			   (fe->cfg.buf_size + TABLE_DESCS * 16);
	fe->mem_size = (fe->nq * per_ring + (1 << 20) + (2 << 20) - 1) &
		       ~((2ull << 20) - 1);
	fe->mmap_offset = cfg->style == FE_STYLE_UML ? UML_OFFSET : 0;
	fe->map_len = fe->mmap_offset + fe->mem_size;
	fe->alloc_next = FE_GPA_BASE;
	fe->memfd = memfd_create("fe-guest-ram", MFD_CLOEXEC);
	if (fe->memfd < 0 || ftruncate(fe->memfd, (off_t)fe->map_len) < 0)
		return fail(fe, "memfd: %s", strerror(errno));
	fe->map = mmap(NULL, fe->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fe->memfd, 0);
	if (fe->map == MAP_FAILED) {
		fe->map = NULL;
		return fail(fe, "mmap: %s", strerror(errno));
	}
	for (unsigned int q = 0; q < fe->nq; q++)
		if (setup_ring(fe, q) < 0)
			return -1;
	fe->sock = connect_retry(fe, cfg->socket_path);
	return fe->sock < 0 ? -1 : 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void fe_close(struct fe *fe)
{
	close_fd(&fe->sock);
	close_fd(&fe->chan_fd);
	for (unsigned int q = 0; q < fe->nq; q++) {
		close_fd(&fe->rings[q].kick_fd);
		close_fd(&fe->rings[q].call_fd);
		close_fd(&fe->rings[q].call_peer_fd);
	}
	if (fe->map)
		munmap(fe->map, fe->map_len);
	fe->map = NULL;
	close_fd(&fe->memfd);
}

/* --- messages -------------------------------------------------------- */

int fe_send(struct fe *fe, uint32_t req, uint32_t flags, const void *payload,
	    uint32_t size, const int *fds, unsigned int nfds)
{
	struct vhost_user_header hdr = {req, flags, size};
	struct iovec iov[2] = {{&hdr, HDR_SIZE}, {(void *)payload, size}};
	union {
		char buf[CMSG_SPACE(16 * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = size ? 2 : 1};
	ssize_t n;

	if (nfds > 16)
		return fail(fe, "too many fds");
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
	n = sendmsg(fe->sock, &mh, MSG_NOSIGNAL);
	if (n != (ssize_t)(HDR_SIZE + size))
		return fail(fe, "send request %u: %s", req,
			    n < 0 ? strerror(errno) : "short");
	return 0;
}

static int read_full(struct fe *fe, void *buf, size_t len, int timeout_ms)
{
	uint8_t *p = buf;
	long deadline = ms_now() + wait_floor_ms(timeout_ms);

	while (len) {
		struct pollfd pfd = {fe->sock, POLLIN, 0};
		long left = deadline - ms_now();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return fail(fe, "no reply within %d ms",
				    wait_floor_ms(timeout_ms));
		n = recv(fe->sock, p, len, 0);
		if (n <= 0)
			return fail(fe, "connection closed by the daemon");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fe_recv(struct fe *fe, struct vhost_user_header *hdr, void *payload,
	    uint32_t cap, int timeout_ms)
{
	uint8_t sink[4096];

	if (read_full(fe, hdr, HDR_SIZE, timeout_ms) < 0)
		return -1;
	fe->last_reply = *hdr;
	if (hdr->size > sizeof(sink))
		return fail(fe, "reply of %u bytes", hdr->size);
	if (read_full(fe, hdr->size <= cap ? payload : sink, hdr->size,
		      timeout_ms) < 0)
		return -1;
	if (hdr->size > cap)
		return fail(fe, "reply of %u bytes, room for %u", hdr->size,
			    cap);
	return 0;
}

static bool has_reply(uint32_t req)
{
	switch (req) {
	case VHOST_USER_GET_FEATURES:
	case VHOST_USER_GET_PROTOCOL_FEATURES:
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_GET_CONFIG:
	case VHOST_USER_GET_QUEUE_NUM:
	case VHOST_USER_GET_MAX_MEM_SLOTS:
	case VHOST_USER_GET_STATUS:
		return true;
	default:
		return false;
	}
}

/**
 * fe_request() - send a request, then wait for its reply or its ack
 *
 * A "set" request asks for an ack when REPLY_ACK is negotiated, as UML
 * does; the ack must be flags VERSION|REPLY, size 8, value 0.
 *
 * Return: the reply payload size, or -1
 */
int fe_request(struct fe *fe, uint32_t req, const void *payload, uint32_t size,
	       const int *fds, unsigned int nfds, void *reply,
	       uint32_t reply_cap)
{
	bool native = has_reply(req);
	bool ack = !native && (fe->protocol_features &
			       (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK));
	struct vhost_user_header hdr;
	uint64_t v = 0;

	if (fe_send(fe, req,
		    VHOST_USER_VERSION | (ack ? VHOST_USER_NEED_REPLY_MASK : 0),
		    payload, size, fds, nfds) < 0)
		return -1;
	if (!native && !ack)
		return 0;
	if (fe_recv(fe, &hdr, native ? reply : &v, native ? reply_cap : 8,
		    5000) < 0)
		return -1;
	if (hdr.request != req ||
	    hdr.flags != (VHOST_USER_VERSION | VHOST_USER_REPLY_MASK))
		return fail(fe, "reply to %u: request %u flags %#x", req,
			    hdr.request, hdr.flags);
	if (native)
		return (int)hdr.size;
	if (hdr.size != 8)
		return fail(fe, "ack to %u has size %u", req, hdr.size);
	if (v != 0)
		return fail(fe, "request %u failed (ack %llu)", req,
			    (unsigned long long)v);
	return 0;
}

int fe_get_u64(struct fe *fe, uint32_t req, uint64_t *v)
{
	int n = fe_request(fe, req, NULL, 0, NULL, 0, v, sizeof(*v));

	if (n < 0)
		return -1;
	if (n != 8)
		return fail(fe, "reply to %u has size %d", req, n);
	return 0;
}

int fe_set_u64(struct fe *fe, uint32_t req, uint64_t v)
{
	return fe_request(fe, req, &v, sizeof(v), NULL, 0, NULL, 0);
}

int fe_get_config(struct fe *fe, uint32_t offset, uint32_t size, void *out)
{
	struct vhost_user_config c = {.offset = offset, .size = size};
	int n;

	n = fe_request(fe, VHOST_USER_GET_CONFIG, &c,
		       VHOST_USER_CONFIG_HDR_SIZE + size, NULL, 0, &c,
		       sizeof(c));
	if (n < 0)
		return -1;
	if ((uint32_t)n != VHOST_USER_CONFIG_HDR_SIZE + size)
		return fail(fe, "GET_CONFIG reply of %d bytes", n);
	memcpy(out, c.payload, size);
	return 0;
}

int fe_set_config(struct fe *fe, uint32_t offset, uint32_t size,
		  const void *data)
{
	struct vhost_user_config c = {.offset = offset, .size = size};

	if (size > sizeof(c.payload))
		return fail(fe, "SET_CONFIG of %u bytes", size);
	memcpy(c.payload, data, size);
	return fe_request(fe, VHOST_USER_SET_CONFIG, &c,
			  VHOST_USER_CONFIG_HDR_SIZE + size, NULL, 0, NULL, 0);
}

/* --- the back-end channel -------------------------------------------- */

static int chan_read(struct fe *fe, void *buf, size_t len, int timeout_ms)
{
	uint8_t *p = buf;
	long deadline = ms_now() + wait_floor_ms(timeout_ms);

	while (len) {
		struct pollfd pfd = {fe->chan_fd, POLLIN, 0};
		long left = deadline - ms_now();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return fail(fe,
				    "nothing on the back-end channel within %d ms",
				    wait_floor_ms(timeout_ms));
		n = recv(fe->chan_fd, p, len, 0);
		if (n <= 0)
			return fail(fe,
				    "back-end channel closed by the daemon");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/**
 * fe_backend_recv() - the next request the daemon sent on the back-end
 * channel; its payload (none is expected) is read and dropped
 */
int fe_backend_recv(struct fe *fe, struct vhost_user_header *hdr,
		    int timeout_ms)
{
	uint8_t sink[256];

	if (fe->chan_fd < 0)
		return fail(fe, "no back-end channel");
	if (chan_read(fe, hdr, HDR_SIZE, timeout_ms) < 0)
		return -1;
	if (hdr->size > sizeof(sink))
		return fail(fe, "back-end request of %u bytes", hdr->size);
	return chan_read(fe, sink, hdr->size, timeout_ms);
}

/* fe_backend_reply() - answer @req with @value, as REPLY_ACK asks */
int fe_backend_reply(struct fe *fe, const struct vhost_user_header *req,
		     uint64_t value)
{
	struct {
		struct vhost_user_header h;
		uint64_t v;
	} __attribute__((packed))
	r = {{req->request, VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, 8},
	     value};

	if (send(fe->chan_fd, &r, sizeof(r), MSG_NOSIGNAL) != sizeof(r))
		return fail(fe, "back-end channel: reply: %s", strerror(errno));
	return 0;
}

/*
 * Both QEMU and UML hand over a socket for the back-end channel right
 * after SET_PROTOCOL_FEATURES when BACKEND_REQ is negotiated.
 */
static int set_backend_req_fd(struct fe *fe)
{
	int sv[2];

	if (!(fe->protocol_features &
	      (1ull << VHOST_USER_PROTOCOL_F_BACKEND_REQ)))
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return fail(fe, "socketpair: %s", strerror(errno));
	fe->chan_fd = sv[0];
	if (fe_request(fe, VHOST_USER_SET_BACKEND_REQ_FD, NULL, 0, &sv[1], 1,
		       NULL, 0) < 0) {
		close(sv[1]);
		return -1;
	}
	close(sv[1]);
	return 0;
}

/* --- negotiation ----------------------------------------------------- */

static int send_mem_table(struct fe *fe)
{
	struct vhost_user_mem_table t = {.nregions = 1};
	uint32_t size;

	t.regions[0].guest_phys_addr = FE_GPA_BASE;
	t.regions[0].memory_size = fe->mem_size;
	t.regions[0].userspace_addr = uva_of(fe, FE_GPA_BASE);
	t.regions[0].mmap_offset = fe->mmap_offset;
	/* UML always sends room for two regions. */
	size = fe->cfg.style == FE_STYLE_UML ? 8 + 2 * 32 : 8 + 32;
	return fe_request(fe, VHOST_USER_SET_MEM_TABLE, &t, size, &fe->memfd, 1,
			  NULL, 0);
}

static int send_vring_fd(struct fe *fe, uint32_t req, unsigned int q, int fd)
{
	uint64_t v = q;

	return fe_request(fe, req, &v, sizeof(v), &fd, 1, NULL, 0);
}

static int setup_vring(struct fe *fe, unsigned int q)
{
	struct fe_ring *r = &fe->rings[q];
	struct vhost_user_vring_state num = {q, r->num}, base = {q, 0};
	struct vhost_user_vring_addr a = {
		.index = q,
		.desc_user_addr = uva_of(fe, r->desc_gpa),
		.used_user_addr = uva_of(fe, r->used_gpa),
		.avail_user_addr = uva_of(fe, r->avail_gpa),
		.log_guest_addr = fe->cfg.style == FE_STYLE_UML ? ~0ull : 0,
	};

	if (fe_request(fe, VHOST_USER_SET_VRING_NUM, &num, sizeof(num), NULL, 0,
		       NULL, 0) < 0 ||
	    fe_request(fe, VHOST_USER_SET_VRING_BASE, &base, sizeof(base), NULL,
		       0, NULL, 0) < 0 ||
	    fe_request(fe, VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0,
		       NULL, 0) < 0)
		return -1;
	return 0;
}

static int enable_ring(struct fe *fe, unsigned int q)
{
	struct vhost_user_vring_state s = {q, 1};

	if (fe->cfg.no_enable || fe->cfg.no_protocol_features)
		return 0;
	return fe_request(fe, VHOST_USER_SET_VRING_ENABLE, &s, sizeof(s), NULL,
			  0, NULL, 0);
}

static int negotiate_features(struct fe *fe)
{
	uint64_t want = fe->cfg.features ? fe->cfg.features : fe->features;
	uint64_t proto;

	fe->acked = want & fe->features;
	if (fe->cfg.no_protocol_features)
		fe->acked &= ~(1ull << VHOST_USER_F_PROTOCOL_FEATURES);
	else if (fe->features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)) {
		fe->acked |= 1ull << VHOST_USER_F_PROTOCOL_FEATURES;
		if (fe_get_u64(fe, VHOST_USER_GET_PROTOCOL_FEATURES, &proto) <
		    0)
			return -1;
		/* UML keeps what it knows and asks for an ack right away. */
		if (fe->cfg.style == FE_STYLE_UML)
			proto &= (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) |
				 (1ull << VHOST_USER_PROTOCOL_F_BACKEND_REQ) |
				 (1ull << VHOST_USER_PROTOCOL_F_CONFIG);
		if (fe->cfg.no_backend_req)
			proto &= ~(1ull << VHOST_USER_PROTOCOL_F_BACKEND_REQ);
		fe->protocol_features = proto;
		if (fe_set_u64(fe, VHOST_USER_SET_PROTOCOL_FEATURES, proto) <
			    0 ||
		    set_backend_req_fd(fe) < 0)
			return -1;
	}
	fe->event_idx = fe->acked & (1ull << VIRTIO_RING_F_EVENT_IDX);
	fe->indirect = fe->acked & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
	return 0;
}

static int negotiate_uml(struct fe *fe)
{
	uint8_t cfg[12];

	if (fe_request(fe, VHOST_USER_SET_OWNER, NULL, 0, NULL, 0, NULL, 0) <
		    0 ||
	    fe_get_u64(fe, VHOST_USER_GET_FEATURES, &fe->features) < 0 ||
	    negotiate_features(fe) < 0 ||
	    fe_set_u64(fe, VHOST_USER_SET_FEATURES, fe->acked) < 0)
		return -1;
	if (!fe->cfg.no_protocol_features &&
	    fe_get_config(fe, 0, sizeof(cfg), cfg) < 0)
		return -1;
	if (send_mem_table(fe) < 0)
		return -1;
	for (unsigned int q = 0; q < fe->nq; q++)
		if (send_vring_fd(fe, VHOST_USER_SET_VRING_CALL, q,
				  fe->rings[q].call_peer_fd) < 0 ||
		    setup_vring(fe, q) < 0)
			return -1;
	for (unsigned int q = 0; q < fe->nq; q++)
		if (send_vring_fd(fe, VHOST_USER_SET_VRING_KICK, q,
				  fe->rings[q].kick_fd) < 0 ||
		    enable_ring(fe, q) < 0)
			return -1;
	return 0;
}

static int negotiate_qemu(struct fe *fe)
{
	uint64_t queues;
	uint8_t cfg[12];

	if (fe_get_u64(fe, VHOST_USER_GET_FEATURES, &fe->features) < 0 ||
	    negotiate_features(fe) < 0)
		return -1;
	if ((fe->protocol_features & (1ull << VHOST_USER_PROTOCOL_F_MQ)) &&
	    fe_get_u64(fe, VHOST_USER_GET_QUEUE_NUM, &queues) < 0)
		return -1;
	if (fe_request(fe, VHOST_USER_SET_OWNER, NULL, 0, NULL, 0, NULL, 0) <
		    0 ||
	    fe_get_u64(fe, VHOST_USER_GET_FEATURES, &fe->features) < 0)
		return -1;
	for (unsigned int q = 0; q < fe->nq; q++)
		if (send_vring_fd(fe, VHOST_USER_SET_VRING_CALL, q,
				  fe->rings[q].call_peer_fd) < 0)
			return -1;
	if (fe_set_u64(fe, VHOST_USER_SET_FEATURES, fe->acked) < 0 ||
	    send_mem_table(fe) < 0)
		return -1;
	for (unsigned int q = 0; q < fe->nq; q++)
		if (setup_vring(fe, q) < 0 ||
		    send_vring_fd(fe, VHOST_USER_SET_VRING_KICK, q,
				  fe->rings[q].kick_fd) < 0 ||
		    send_vring_fd(fe, VHOST_USER_SET_VRING_CALL, q,
				  fe->rings[q].call_peer_fd) < 0)
			return -1;
	for (unsigned int q = 0; q < fe->nq; q++)
		if (enable_ring(fe, q) < 0)
			return -1;
	if (!fe->cfg.no_protocol_features &&
	    fe_get_config(fe, 0, sizeof(cfg), cfg) < 0)
		return -1;
	return 0;
}

/** fe_negotiate() - the whole set-up, in the order the chosen VMM uses */
int fe_negotiate(struct fe *fe)
{
	int r = fe->cfg.style == FE_STYLE_UML ? negotiate_uml(fe)
					      : negotiate_qemu(fe);

	/* The daemon holds its copies of our call fds now. */
	for (unsigned int q = 0; q < fe->nq && fe->cfg.style == FE_STYLE_UML;
	     q++)
		close_fd(&fe->rings[q].call_peer_fd);
	return r;
}

/* --- rings ----------------------------------------------------------- */

#define READ_ONCE(x)	 (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

/* The daemon's avail_event sits just past the used ring. */
static uint16_t avail_event(const struct fe_ring *r)
{
	const volatile uint8_t *p = (const volatile uint8_t *)r->used +
				    offsetof(struct vring_used, ring) +
				    r->num * sizeof(struct vring_used_elem);

	return (uint16_t)(p[0] | p[1] << 8);
}

static bool need_event(uint16_t event, uint16_t new, uint16_t old)
{
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

unsigned int fe_ring_free(const struct fe *fe, unsigned int q)
{
	return fe->rings[q].nfree;
}

void fe_kick(struct fe *fe, unsigned int q)
{
	uint64_t one = 1;

	if (write(fe->rings[q].kick_fd, &one, sizeof(one)) < 0)
		(void)0; /* a full eventfd counter still wakes the daemon */
}

/** fe_publish() - make added chains visible, and kick if the daemon asks */
int fe_publish(struct fe *fe, unsigned int q)
{
	struct fe_ring *r = &fe->rings[q];
	uint16_t old = r->kicked_idx;
	bool kick;

	__atomic_thread_fence(__ATOMIC_RELEASE);
	WRITE_ONCE(r->avail->idx, r->avail_idx);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (fe->event_idx)
		kick = need_event(avail_event(r), r->avail_idx, old);
	else
		kick = !(READ_ONCE(r->used->flags) & VRING_USED_F_NO_NOTIFY);
	r->kicked_idx = r->avail_idx;
	if (kick)
		fe_kick(fe, q);
	return 0;
}

static int take_id(struct fe *fe, struct fe_ring *r, uint16_t *id)
{
	if (r->nfree == 0)
		return fail(fe, "ring %u is full", r->index);
	*id = r->free_ids[--r->nfree];
	return 0;
}

void *fe_buf(struct fe *fe, unsigned int q, uint16_t id)
{
	return fe_gpa(fe,
		      fe->rings[q].data_gpa + (uint64_t)id * fe->cfg.buf_size);
}

static void add_avail(struct fe_ring *r, uint16_t head)
{
	WRITE_ONCE(r->avail->ring[r->avail_idx % r->num], head);
	r->avail_idx++;
}

/** fe_post_rx() - add @count writable buffers of @len bytes (no publish) */
int fe_post_rx(struct fe *fe, unsigned int q, unsigned int count, uint32_t len)
{
	struct fe_ring *r = &fe->rings[q];

	if (len > fe->cfg.buf_size)
		return fail(fe, "rx buffer of %u bytes > %u", len,
			    fe->cfg.buf_size);
	for (unsigned int i = 0; i < count; i++) {
		uint16_t id = 0;

		if (take_id(fe, r, &id) < 0)
			return -1;
		r->desc[id] = (struct vring_desc){
			.addr = r->data_gpa + (uint64_t)id * fe->cfg.buf_size,
			.len = len,
			.flags = VRING_DESC_F_WRITE,
		};
		r->chain_len[id] = 1;
		add_avail(r, id);
	}
	return 0;
}

/**
 * fe_submit_tx() - add a readable chain carrying @data (no publish)
 * @seg:	bytes per descriptor
 * @indirect:	one ring descriptor pointing at a table of segments; the
 *		data must then fit one buffer
 */
int fe_submit_tx(struct fe *fe, unsigned int q, const void *data, size_t len,
		 uint32_t seg, bool indirect)
{
	struct fe_ring *r = &fe->rings[q];
	unsigned int nseg = len ? (unsigned int)((len + seg - 1) / seg) : 1;
	const uint8_t *p = data;
	uint16_t head = 0, id = 0, prev = 0;

	if (seg == 0 || seg > fe->cfg.buf_size)
		return fail(fe, "segment of %u bytes", seg);
	if (indirect) {
		struct vring_desc *t;
		uint64_t buf;

		if (nseg > TABLE_DESCS || len > fe->cfg.buf_size)
			return fail(fe, "indirect chain too long");
		if (take_id(fe, r, &head) < 0)
			return -1;
		buf = r->data_gpa + (uint64_t)head * fe->cfg.buf_size;
		t = fe_gpa(fe,
			   r->table_gpa + (uint64_t)head * TABLE_DESCS * 16);
		memcpy(fe_gpa(fe, buf), data, len);
		for (unsigned int i = 0; i < nseg; i++) {
			size_t k = len - (size_t)i * seg < seg
					   ? len - (size_t)i * seg
					   : seg;

			t[i] = (struct vring_desc){
				.addr = buf + (uint64_t)i * seg,
				.len = (uint32_t)k,
				.flags = i + 1 < nseg ? VRING_DESC_F_NEXT : 0,
				.next = (uint16_t)(i + 1),
			};
		}
		r->desc[head] = (struct vring_desc){
			.addr = r->table_gpa +
				(uint64_t)head * TABLE_DESCS * 16,
			.len = nseg * 16,
			.flags = VRING_DESC_F_INDIRECT,
		};
		r->chain_len[head] = 1;
		add_avail(r, head);
		return 0;
	}
	if (nseg > r->nfree)
		return fail(fe, "ring %u: %u descriptors free, %u needed", q,
			    r->nfree, nseg);
	for (unsigned int i = 0; i < nseg; i++) {
		size_t k = len - (size_t)i * seg < seg ? len - (size_t)i * seg
						       : seg;

		take_id(fe, r, &id);
		memcpy(fe_buf(fe, q, id), p, k);
		p += k;
		r->desc[id] = (struct vring_desc){
			.addr = r->data_gpa + (uint64_t)id * fe->cfg.buf_size,
			.len = (uint32_t)k,
		};
		if (i == 0)
			head = id;
		else {
			r->desc[prev].flags |= VRING_DESC_F_NEXT;
			r->desc[prev].next = id;
		}
		prev = id;
	}
	r->chain_len[head] = (uint16_t)nseg;
	add_avail(r, head);
	return 0;
}

/**
 * fe_get_used() - the next used entry, if any; frees its descriptors
 *
 * Return: 1 with *id and *len set, 0 when none is there
 */
int fe_get_used(struct fe *fe, unsigned int q, uint16_t *id, uint32_t *len)
{
	struct fe_ring *r = &fe->rings[q];
	struct vring_used_elem e;
	uint16_t d;

	if (READ_ONCE(r->used->idx) == r->last_used)
		return 0;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	e = r->used->ring[r->last_used % r->num];
	r->last_used++;
	if (e.id >= r->num)
		return fail(fe, "used id %u out of range", e.id);
	d = (uint16_t)e.id;
	for (unsigned int i = 0; i < r->chain_len[e.id]; i++) {
		uint16_t next = r->desc[d].next;

		r->free_ids[r->nfree++] = d;
		d = next;
	}
	/* Ask for a call when the next entry is used. */
	WRITE_ONCE(r->avail->ring[r->num], r->last_used);
	*id = (uint16_t)e.id;
	*len = e.len;
	return 1;
}

/**
 * fe_wait_call() - wait for the daemon to signal queue @q
 *
 * Return: 1 if it did, 0 on timeout
 */
int fe_wait_call(struct fe *fe, unsigned int q, int timeout_ms)
{
	struct pollfd pfd = {fe->rings[q].call_fd, POLLIN, 0};
	uint8_t buf[64];

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return 0;
	while (read(fe->rings[q].call_fd, buf, sizeof(buf)) > 0)
		;
	return 1;
}

/* Wait for the next used entry on @q, up to @timeout_ms. */
static int wait_used(struct fe *fe, unsigned int q, uint16_t *id, uint32_t *len,
		     int timeout_ms)
{
	long deadline = ms_now() + wait_floor_ms(timeout_ms);

	for (;;) {
		int r = fe_get_used(fe, q, id, len);
		long left = deadline - ms_now();

		if (r != 0)
			return r;
		if (left <= 0)
			return fail(fe, "queue %u: nothing used within %d ms",
				    q, wait_floor_ms(timeout_ms));
		/* used_event is published: look once more before sleeping. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (READ_ONCE(fe->rings[q].used->idx) != fe->rings[q].last_used)
			continue;
		fe_wait_call(fe, q, left < 50 ? (int)left : 50);
	}
}

/* --- the console driver's side --------------------------------------- */

int fe_ctrl_send(struct fe *fe, uint32_t id, uint16_t event, uint16_t value)
{
	struct virtio_console_control m = {id, event, value};
	uint16_t used_id;
	uint32_t len;

	if (fe_submit_tx(fe, CONSOLE_QUEUE_CTRL_TX, &m, sizeof(m), sizeof(m),
			 false) < 0)
		return -1;
	fe_publish(fe, CONSOLE_QUEUE_CTRL_TX);
	return wait_used(fe, CONSOLE_QUEUE_CTRL_TX, &used_id, &len, 5000) < 0
		       ? -1
		       : 0;
}

int fe_ctrl_recv(struct fe *fe, struct virtio_console_control *m, char *extra,
		 size_t extra_cap, size_t *extra_len, int timeout_ms)
{
	uint16_t id;
	uint32_t len;
	const uint8_t *buf;

	if (wait_used(fe, CONSOLE_QUEUE_CTRL_RX, &id, &len, timeout_ms) < 0)
		return -1;
	if (len < sizeof(*m))
		return fail(fe, "control message of %u bytes", len);
	buf = fe_buf(fe, CONSOLE_QUEUE_CTRL_RX, id);
	memcpy(m, buf, sizeof(*m));
	if (extra) {
		size_t k = len - sizeof(*m);

		if (k >= extra_cap)
			k = extra_cap - 1;
		memcpy(extra, buf + sizeof(*m), k);
		extra[k] = '\0';
		if (extra_len)
			*extra_len = len - sizeof(*m);
	}
	/* Give the buffer back, as the driver does. */
	fe_post_rx(fe, CONSOLE_QUEUE_CTRL_RX, 1, fe->cfg.buf_size);
	fe_publish(fe, CONSOLE_QUEUE_CTRL_RX);
	return 0;
}

static int expect_ctrl(struct fe *fe, uint16_t event, uint16_t value,
		       char *extra, size_t cap)
{
	struct virtio_console_control m;

	if (fe_ctrl_recv(fe, &m, extra, cap, NULL, 5000) < 0)
		return -1;
	if (m.event != event || m.id != 0 ||
	    (value != 0xffff && m.value != value))
		return fail(fe,
			    "control: got event %u id %u value %u, "
			    "expected event %u value %u",
			    m.event, m.id, m.value, event, value);
	return 0;
}

/**
 * fe_console_handshake() - bring up port 0 as Linux's driver does
 * @name:	receives the port name
 */
int fe_console_handshake(struct fe *fe, char *name, size_t name_cap)
{
	char scratch[64];
	unsigned int half = fe->cfg.queue_size / 2;

	if (!name) {
		name = scratch;
		name_cap = sizeof(scratch);
	}
	if (fe_post_rx(fe, CONSOLE_QUEUE_CTRL_RX, half, fe->cfg.buf_size) < 0)
		return -1;
	fe_publish(fe, CONSOLE_QUEUE_CTRL_RX);
	if (fe_ctrl_send(fe, 0xffffffffu, VIRTIO_CONSOLE_DEVICE_READY, 1) < 0 ||
	    expect_ctrl(fe, VIRTIO_CONSOLE_DEVICE_ADD, 0xffff, NULL, 0) < 0)
		return -1;
	if (fe_post_rx(fe, CONSOLE_QUEUE_RX, fe->cfg.queue_size,
		       fe->cfg.buf_size) < 0)
		return -1;
	fe_publish(fe, CONSOLE_QUEUE_RX);
	if (fe_ctrl_send(fe, 0, VIRTIO_CONSOLE_PORT_READY, 1) < 0 ||
	    expect_ctrl(fe, VIRTIO_CONSOLE_CONSOLE_PORT, 1, NULL, 0) < 0 ||
	    expect_ctrl(fe, VIRTIO_CONSOLE_PORT_NAME, 0xffff, name, name_cap) <
		    0 ||
	    expect_ctrl(fe, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL, 0) < 0)
		return -1;
	return fe_ctrl_send(fe, 0, VIRTIO_CONSOLE_PORT_OPEN, 1);
}

/**
 * fe_read_rx() - the next rx buffer's bytes; the buffer is posted again
 *
 * Return: bytes copied, or -1 when nothing came within @timeout_ms
 */
int fe_read_rx(struct fe *fe, void *buf, size_t cap, int timeout_ms)
{
	return fe_read_rx_queue(fe, CONSOLE_QUEUE_RX, buf, cap, timeout_ms);
}

/** fe_read_rx_queue() - fe_read_rx() on receive queue @q (any port's) */
int fe_read_rx_queue(struct fe *fe, unsigned int q, void *buf, size_t cap,
		     int timeout_ms)
{
	uint16_t id;
	uint32_t len;

	if (wait_used(fe, q, &id, &len, timeout_ms) < 0)
		return -1;
	if (len > cap)
		return fail(fe, "rx entry of %u bytes, room for %zu", len, cap);
	memcpy(buf, fe_buf(fe, q, id), len);
	fe_post_rx(fe, q, 1, fe->cfg.buf_size);
	fe_publish(fe, q);
	return (int)len;
}
