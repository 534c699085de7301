/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * vhost_user.c - read a message, validate it, dispatch it, reply.
 *
 * Security: the frontend is not trusted. No header field, payload size,
 * fd count, index, address or length is assumed sensible. Sizes and fd
 * counts are checked against a per-request table before any handler runs;
 * handlers check the values they use. Surplus fds are closed. A request
 * that fails is answered as failed (when the frontend asked for a reply)
 * and the session continues; a stream that cannot be trusted to stay in
 * step (bad version, oversized payload, a failing request whose answer the
 * frontend waits for) ends the connection. The next frontend is then
 * served on the same listening socket.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "sock.h"
#include "vhost_user.h"
#include "virtio_spec.h"

#define HDR_SIZE sizeof(struct vhost_user_header)

enum vu_result {
	VU_OK, /* done; ack if the frontend asked */
	VU_REPLY, /* done; the handler filled the reply payload */
	VU_ERROR, /* failed; nack if asked, the session goes on */
	VU_CLOSE, /* the session cannot go on */
};

typedef enum vu_result (*vu_handler)(struct vu_dev *vu, struct vu_msg *msg,
				     struct vu_msg *reply);

struct vu_request {
	const char *name;
	vu_handler handle;
	uint32_t min_size, max_size; /* payload bytes */
	uint8_t min_fds, max_fds;
	bool has_reply; /* the frontend always waits for an answer */
};

static const uint64_t protocol_features_offered =
	(1ULL << VHOST_USER_PROTOCOL_F_MQ) |
	(1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK) |
	(1ULL << VHOST_USER_PROTOCOL_F_BACKEND_REQ) |
	(1ULL << VHOST_USER_PROTOCOL_F_CONFIG) |
	(1ULL << VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS) |
	(1ULL << VHOST_USER_PROTOCOL_F_STATUS);

static uint64_t features_offered(const struct vu_dev *vu)
{
	return vu->dev->features | (1ULL << VHOST_USER_F_PROTOCOL_FEATURES);
}

bool vu_feature(const struct vu_dev *vu, unsigned int bit)
{
	return vu->acked_features & (1ULL << bit);
}

bool vu_connected(const struct vu_dev *vu)
{
	return vu->fd >= 0;
}

static void close_fds(struct vu_msg *msg)
{
	for (unsigned int i = 0; i < msg->nfds; i++)
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
	msg->nfds = 0;
}

/* take_fd() - the handler keeps fd @i; it will not be closed after */
static int take_fd(struct vu_msg *msg, unsigned int i)
{
	int fd = msg->fds[i];

	msg->fds[i] = -1;
	return fd;
}

static void reply_u64(struct vu_msg *reply, uint64_t v)
{
	reply->payload.u64 = v;
	reply->hdr.size = sizeof(uint64_t);
}

/* Every ring must be remapped when the memory table changes. */
static void remap_queues(struct vu_dev *vu)
{
	for (unsigned int i = 0; i < vu->dev->num_queues; i++)
		vq_map(&vu->vqs[i]);
}

static void stop_queue(struct vu_dev *vu, struct virtqueue *vq)
{
	ev_del(vu->loop, &vu->kick_watch[vq->index]);
	if (vq->kick_fd >= 0)
		close(vq->kick_fd);
	vq->kick_fd = -1;
	vq->started = false;
}

/* Let the device look at a queue that just became ready. */
static void queue_maybe_run(struct vu_dev *vu, struct virtqueue *vq)
{
	if (vq_ready(vq))
		vu->dev->queue_kick(vu->dev->opaque, vq);
}

/* Forget the session: rings, memory, negotiated state, device state. */
static void reset_session(struct vu_dev *vu)
{
	for (unsigned int i = 0; i < VU_MAX_QUEUES; i++) {
		ev_del(vu->loop, &vu->kick_watch[i]);
		vq_reset(&vu->vqs[i]);
	}
	guest_mem_clear(&vu->mem);
	vu->acked_features = 0;
	vu->protocol_features = 0;
	vu->status = 0;
	vu->owner = false;
	vu->queues_seen = 0;
	vu->dev->reset(vu->dev->opaque);
}

/* The device gives back chains it holds, before memory or a ring goes. */
static void release_held(struct vu_dev *vu)
{
	if (vu->dev->release_held)
		vu->dev->release_held(vu->dev->opaque);
}

/* Check the ring index in a request; NULL (logged) if out of range. */
static struct virtqueue *queue_at(struct vu_dev *vu, const char *what,
				  uint32_t index)
{
	if (index >= vu->dev->num_queues) {
		log_error("%s: queue %u does not exist (the device has %u)",
			  what, index, vu->dev->num_queues);
		return NULL;
	}
	if (index >= vu->queues_seen)
		vu->queues_seen = index + 1;
	return &vu->vqs[index];
}

/**
 * vu_queues_seen() - how many queues this frontend has named so far
 *
 * QEMU's generic device names each of its queues (SET_VRING_CALL) while it
 * starts, before the driver reads the config space; 0 means not yet.
 */
unsigned int vu_queues_seen(const struct vu_dev *vu)
{
	return vu->queues_seen;
}

static enum vu_result get_features(struct vu_dev *vu, struct vu_msg *msg,
				   struct vu_msg *reply)
{
	(void)msg;
	reply_u64(reply, features_offered(vu));
	return VU_REPLY;
}

static enum vu_result set_features(struct vu_dev *vu, struct vu_msg *msg,
				   struct vu_msg *reply)
{
	uint64_t f = msg->payload.u64;
	bool protocol = f & (1ULL << VHOST_USER_F_PROTOCOL_FEATURES);

	(void)reply;
	if (f & ~features_offered(vu)) {
		log_error("SET_FEATURES: %#llx has bits never offered (%#llx)",
			  (unsigned long long)f,
			  (unsigned long long)(f & ~features_offered(vu)));
		return VU_ERROR;
	}
	vu->acked_features = f;
	for (unsigned int i = 0; i < vu->dev->num_queues; i++) {
		struct virtqueue *vq = &vu->vqs[i];

		vq_set_features(vq, f);
		/* Without protocol features there is no SET_VRING_ENABLE. */
		if (!protocol && !vq->enabled) {
			vq->enabled = true;
			queue_maybe_run(vu, vq);
		}
	}
	log_debug("features %#llx", (unsigned long long)f);
	if (vu->dev->features_set)
		vu->dev->features_set(vu->dev->opaque);
	return VU_OK;
}

static enum vu_result set_owner(struct vu_dev *vu, struct vu_msg *msg,
				struct vu_msg *reply)
{
	(void)msg;
	(void)reply;
	vu->owner = true;
	return VU_OK;
}

static enum vu_result reset_owner(struct vu_dev *vu, struct vu_msg *msg,
				  struct vu_msg *reply)
{
	(void)msg;
	(void)reply;
	reset_session(vu);
	return VU_OK;
}

static enum vu_result get_protocol_features(struct vu_dev *vu,
					    struct vu_msg *msg,
					    struct vu_msg *reply)
{
	(void)vu;
	(void)msg;
	reply_u64(reply, protocol_features_offered);
	return VU_REPLY;
}

static enum vu_result set_protocol_features(struct vu_dev *vu,
					    struct vu_msg *msg,
					    struct vu_msg *reply)
{
	uint64_t f = msg->payload.u64;

	(void)reply;
	if (f & ~protocol_features_offered) {
		log_error("SET_PROTOCOL_FEATURES: %#llx has bits never offered",
			  (unsigned long long)f);
		return VU_ERROR;
	}
	vu->protocol_features = f;
	return VU_OK;
}

static enum vu_result set_backend_req_fd(struct vu_dev *vu, struct vu_msg *msg,
					 struct vu_msg *reply)
{
	bool ack = vu->protocol_features &
		   (1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK);

	(void)reply;
	if (!(vu->protocol_features &
	      (1ULL << VHOST_USER_PROTOCOL_F_BACKEND_REQ))) {
		log_error(
			"SET_BACKEND_REQ_FD: VHOST_USER_PROTOCOL_F_BACKEND_REQ was not negotiated");
		return VU_ERROR;
	}
	if (vu_chan_attach(&vu->chan, take_fd(msg, 0), ack) < 0)
		return VU_ERROR;
	return VU_OK;
}

static enum vu_result get_queue_num(struct vu_dev *vu, struct vu_msg *msg,
				    struct vu_msg *reply)
{
	(void)msg;
	reply_u64(reply, vu->dev->num_queues);
	return VU_REPLY;
}

static enum vu_result get_max_mem_slots(struct vu_dev *vu, struct vu_msg *msg,
					struct vu_msg *reply)
{
	(void)vu;
	(void)msg;
	reply_u64(reply, GUEST_MEM_MAX_SLOTS);
	return VU_REPLY;
}

static enum vu_result set_mem_table(struct vu_dev *vu, struct vu_msg *msg,
				    struct vu_msg *reply)
{
	const struct vhost_user_mem_table *t = &msg->payload.mem;
	enum vu_result r = VU_OK;

	(void)reply;
	if (t->nregions == 0 || t->nregions > VHOST_USER_MEMORY_MAX_NREGIONS ||
	    msg->hdr.size < offsetof(struct vhost_user_mem_table, regions) +
				    t->nregions * sizeof(t->regions[0]) ||
	    msg->nfds != t->nregions) {
		log_error("SET_MEM_TABLE: %u regions with %u fds in %u bytes",
			  t->nregions, msg->nfds, msg->hdr.size);
		return VU_ERROR;
	}
	/* Replaced regions go, and with them every ring pointer into them. */
	release_held(vu);
	guest_mem_clear(&vu->mem);
	for (unsigned int i = 0; i < t->nregions; i++)
		if (guest_mem_add(&vu->mem, &t->regions[i], take_fd(msg, i)) <
		    0)
			r = VU_ERROR;
	if (r == VU_ERROR) {
		for (unsigned int i = 0; i < msg->nfds; i++)
			take_fd(msg, i); /* guest_mem_add() closed them */
		guest_mem_clear(&vu->mem);
	}
	remap_queues(vu);
	return r;
}

static enum vu_result add_mem_reg(struct vu_dev *vu, struct vu_msg *msg,
				  struct vu_msg *reply)
{
	(void)reply;
	if (guest_mem_add(&vu->mem, &msg->payload.memreg.region,
			  take_fd(msg, 0)) < 0)
		return VU_ERROR;
	remap_queues(vu);
	return VU_OK;
}

static enum vu_result rem_mem_reg(struct vu_dev *vu, struct vu_msg *msg,
				  struct vu_msg *reply)
{
	(void)reply;
	release_held(vu);
	if (guest_mem_remove(&vu->mem, &msg->payload.memreg.region) < 0)
		return VU_ERROR;
	remap_queues(vu);
	return VU_OK;
}

static enum vu_result set_vring_num(struct vu_dev *vu, struct vu_msg *msg,
				    struct vu_msg *reply)
{
	struct virtqueue *vq =
		queue_at(vu, "SET_VRING_NUM", msg->payload.state.index);
	uint32_t num = msg->payload.state.num;

	(void)reply;
	if (!vq)
		return VU_ERROR;
	if (num == 0 || (num & (num - 1)) || num > vu->max_queue_size) {
		if (num > vu->max_queue_size && !(num & (num - 1)))
			log_error("SET_VRING_NUM: queue %u size %u is larger "
				  "than --max-queue-size=%u; start the daemon "
				  "with --max-queue-size=%u or more",
				  vq->index, num, vu->max_queue_size, num);
		else
			log_error("SET_VRING_NUM: queue %u size %u is not a "
				  "power of two from 1 to %u",
				  vq->index, num, vu->max_queue_size);
		return VU_ERROR;
	}
	vq_set_num(vq, (uint16_t)num);
	return VU_OK;
}

static enum vu_result set_vring_addr(struct vu_dev *vu, struct vu_msg *msg,
				     struct vu_msg *reply)
{
	const struct vhost_user_vring_addr *a = &msg->payload.addr;
	struct virtqueue *vq = queue_at(vu, "SET_VRING_ADDR", a->index);

	(void)reply;
	if (!vq)
		return VU_ERROR;
	if (a->flags & (1u << VHOST_VRING_F_LOG)) {
		log_error("SET_VRING_ADDR: queue %u asks for dirty logging, "
			  "which was never offered",
			  vq->index);
		return VU_ERROR;
	}
	if (vq_set_addr(vq, a->desc_user_addr, a->avail_user_addr,
			a->used_user_addr) < 0)
		return VU_ERROR;
	return VU_OK;
}

static enum vu_result set_vring_base(struct vu_dev *vu, struct vu_msg *msg,
				     struct vu_msg *reply)
{
	struct virtqueue *vq =
		queue_at(vu, "SET_VRING_BASE", msg->payload.state.index);

	(void)reply;
	if (!vq)
		return VU_ERROR;
	if (msg->payload.state.num > UINT16_MAX) {
		log_error("SET_VRING_BASE: queue %u base %u is not a split "
			  "ring index",
			  vq->index, msg->payload.state.num);
		return VU_ERROR;
	}
	vq->last_avail_idx = (uint16_t)msg->payload.state.num;
	vq->inflight = 0;
	vq->broken = false;
	vq->signalled_used_valid = false;
	return VU_OK;
}

static enum vu_result get_vring_base(struct vu_dev *vu, struct vu_msg *msg,
				     struct vu_msg *reply)
{
	struct virtqueue *vq =
		queue_at(vu, "GET_VRING_BASE", msg->payload.state.index);

	if (!vq)
		return VU_CLOSE; /* the frontend waits for an answer */
	release_held(vu);
	stop_queue(vu, vq);
	reply->payload.state.index = vq->index;
	reply->payload.state.num = vq->last_avail_idx;
	reply->hdr.size = sizeof(reply->payload.state);
	return VU_REPLY;
}

/*
 * Kicks and calls travel over eventfds (anonymous inodes, no file type),
 * pipes or sockets. Anything else, a character device that is always
 * readable say, would keep the loop busy or block it.
 */
static bool notifier_fd_ok(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return false;
	return (st.st_mode & S_IFMT) == 0 || S_ISFIFO(st.st_mode) ||
	       S_ISSOCK(st.st_mode);
}

/*
 * vring_fd_request() - the common part of SET_VRING_KICK/CALL/ERR
 *
 * Return: the queue, or NULL (logged); *fd is the fd or -1 for "none"
 */
static struct virtqueue *vring_fd_request(struct vu_dev *vu, const char *what,
					  struct vu_msg *msg, int *fd)
{
	uint64_t v = msg->payload.u64;
	bool nofd = v & VHOST_USER_VRING_NOFD_MASK;
	struct virtqueue *vq;

	*fd = -1;
	if (v & ~(uint64_t)(VHOST_USER_VRING_IDX_MASK |
			    VHOST_USER_VRING_NOFD_MASK)) {
		log_error("%s: unknown bits in %#llx", what,
			  (unsigned long long)v);
		return NULL;
	}
	vq = queue_at(vu, what, (uint32_t)(v & VHOST_USER_VRING_IDX_MASK));
	if (!vq)
		return NULL;
	if (nofd != (msg->nfds == 0)) {
		log_error("%s: queue %u: %u fds with the no-fd flag %s", what,
			  vq->index, msg->nfds, nofd ? "set" : "clear");
		return NULL;
	}
	if (!nofd && !notifier_fd_ok(msg->fds[0])) {
		log_error("%s: queue %u: the fd is not an eventfd, pipe or "
			  "socket",
			  what, vq->index);
		return NULL;
	}
	if (!nofd) {
		*fd = take_fd(msg, 0);
		/* A full or idle pipe must never block the worker. */
		if (sock_set_nonblock(*fd) < 0)
			log_warn("%s: queue %u: cannot make the fd "
				 "non-blocking: "
				 "%s",
				 what, vq->index, strerror(errno));
	}
	return vq;
}

static void on_kick(void *arg, uint32_t events);

static enum vu_result set_vring_kick(struct vu_dev *vu, struct vu_msg *msg,
				     struct vu_msg *reply)
{
	struct virtqueue *vq;
	int fd;

	(void)reply;
	vq = vring_fd_request(vu, "SET_VRING_KICK", msg, &fd);
	if (!vq)
		return VU_ERROR;
	stop_queue(vu, vq);
	if (fd < 0) {
		log_error("SET_VRING_KICK: queue %u: polling mode (no kick fd) "
			  "is not supported",
			  vq->index);
		return VU_ERROR;
	}
	if (ev_add(vu->loop, &vu->kick_watch[vq->index], fd, EPOLLIN, on_kick,
		   vq) < 0) {
		log_error("SET_VRING_KICK: queue %u: cannot watch fd: %s",
			  vq->index, strerror(errno));
		close(fd);
		return VU_ERROR;
	}
	vq->kick_fd = fd;
	vq->started = true;
	/* Kicks sent before the ring started were never seen: look now. */
	queue_maybe_run(vu, vq);
	return VU_OK;
}

/* SET_VRING_CALL and SET_VRING_ERR: replace the fd kept in @slot. */
static enum vu_result set_vring_notifier(struct vu_dev *vu, struct vu_msg *msg,
					 const char *what, size_t slot)
{
	struct virtqueue *vq;
	int fd, *kept;

	vq = vring_fd_request(vu, what, msg, &fd);
	if (!vq)
		return VU_ERROR;
	kept = (int *)(void *)((char *)vq + slot);
	if (*kept >= 0)
		close(*kept);
	*kept = fd;
	return VU_OK;
}

static enum vu_result set_vring_call(struct vu_dev *vu, struct vu_msg *msg,
				     struct vu_msg *reply)
{
	(void)reply;
	return set_vring_notifier(vu, msg, "SET_VRING_CALL",
				  offsetof(struct virtqueue, call_fd));
}

static enum vu_result set_vring_err(struct vu_dev *vu, struct vu_msg *msg,
				    struct vu_msg *reply)
{
	(void)reply;
	return set_vring_notifier(vu, msg, "SET_VRING_ERR",
				  offsetof(struct virtqueue, err_fd));
}

static enum vu_result set_vring_enable(struct vu_dev *vu, struct vu_msg *msg,
				       struct vu_msg *reply)
{
	struct virtqueue *vq =
		queue_at(vu, "SET_VRING_ENABLE", msg->payload.state.index);

	(void)reply;
	if (!vq)
		return VU_ERROR;
	if (msg->payload.state.num > 1) {
		log_error("SET_VRING_ENABLE: queue %u: bad value %u", vq->index,
			  msg->payload.state.num);
		return VU_ERROR;
	}
	vq->enabled = msg->payload.state.num;
	queue_maybe_run(vu, vq);
	return VU_OK;
}

/* Is [offset, offset+size) inside the device's config space? */
static bool config_range_ok(const struct vu_dev *vu, const char *what,
			    const struct vu_msg *msg)
{
	const struct vhost_user_config *c = &msg->payload.config;

	if (c->size > VHOST_USER_MAX_CONFIG_SIZE ||
	    msg->hdr.size != VHOST_USER_CONFIG_HDR_SIZE + c->size ||
	    c->offset > vu->dev->config_size ||
	    c->size > vu->dev->config_size - c->offset) {
		log_error("%s: offset %u size %u (message %u bytes) is outside "
			  "the %u-byte config space",
			  what, c->offset, c->size, msg->hdr.size,
			  vu->dev->config_size);
		return false;
	}
	return true;
}

static enum vu_result get_config(struct vu_dev *vu, struct vu_msg *msg,
				 struct vu_msg *reply)
{
	const struct vhost_user_config *c = &msg->payload.config;

	if (!config_range_ok(vu, "GET_CONFIG", msg)) {
		/* A reply without payload tells the frontend it failed. */
		reply->hdr.size = 0;
		return VU_REPLY;
	}
	reply->payload.config.offset = c->offset;
	reply->payload.config.size = c->size;
	reply->payload.config.flags = c->flags;
	vu->dev->get_config(vu->dev->opaque, c->offset,
			    reply->payload.config.payload, c->size);
	reply->hdr.size = VHOST_USER_CONFIG_HDR_SIZE + c->size;
	return VU_REPLY;
}

static enum vu_result set_config(struct vu_dev *vu, struct vu_msg *msg,
				 struct vu_msg *reply)
{
	const struct vhost_user_config *c = &msg->payload.config;

	(void)reply;
	if (!config_range_ok(vu, "SET_CONFIG", msg))
		return VU_ERROR;
	if (vu->dev->set_config(vu->dev->opaque, c->offset, c->payload,
				c->size) < 0)
		return VU_ERROR;
	return VU_OK;
}

static enum vu_result set_status(struct vu_dev *vu, struct vu_msg *msg,
				 struct vu_msg *reply)
{
	uint64_t s = msg->payload.u64;

	(void)reply;
	if (s > UINT8_MAX) {
		log_error("SET_STATUS: %#llx is not a device status",
			  (unsigned long long)s);
		return VU_ERROR;
	}
	log_debug("status %#llx", (unsigned long long)s);
	vu->status = (uint8_t)s;
	/* Status 0 is the driver resetting the device. */
	if (s == 0)
		vu->dev->reset(vu->dev->opaque);
	return VU_OK;
}

static enum vu_result get_status(struct vu_dev *vu, struct vu_msg *msg,
				 struct vu_msg *reply)
{
	uint64_t s = vu->status;

	(void)msg;
	for (unsigned int i = 0; i < vu->dev->num_queues; i++)
		if (vu->vqs[i].broken)
			s |= VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET;
	reply_u64(reply, s);
	return VU_REPLY;
}

#define U64    sizeof(uint64_t)
#define STATE  sizeof(struct vhost_user_vring_state)
#define ADDR   sizeof(struct vhost_user_vring_addr)
#define REGION sizeof(struct vhost_user_mem_single)
#define TABLE_MIN                                                              \
	(offsetof(struct vhost_user_mem_table, regions) +                      \
	 sizeof(struct vhost_user_mem_region))
#define TABLE_MAX  sizeof(struct vhost_user_mem_table)
#define TABLE_FDS  VHOST_USER_MEMORY_MAX_NREGIONS
#define CONFIG_MIN VHOST_USER_CONFIG_HDR_SIZE
#define CONFIG_MAX sizeof(struct vhost_user_config)

/*
 * The requests served, one a line, as DPDK's lib/vhost lists them: the
 * handler; the payload's smallest and largest size in bytes; the fewest
 * and most fds it carries; whether the frontend always waits for a reply.
 * Any other request is refused before a handler runs (vu_dispatch()).
 */
/* clang-format off */
#define VU_REQUESTS(X) \
	/* request               handler                min         max         fds           reply */  \
	X(GET_FEATURES,          get_features,          0,          U64,        0, 0,         true)   \
	X(SET_FEATURES,          set_features,          U64,        U64,        0, 0,         false)  \
	X(SET_OWNER,             set_owner,             0,          U64,        0, 0,         false)  \
	X(RESET_OWNER,           reset_owner,           0,          U64,        0, 0,         false)  \
	X(SET_MEM_TABLE,         set_mem_table,         TABLE_MIN,  TABLE_MAX,  1, TABLE_FDS, false)  \
	X(SET_VRING_NUM,         set_vring_num,         STATE,      STATE,      0, 0,         false)  \
	X(SET_VRING_ADDR,        set_vring_addr,        ADDR,       ADDR,       0, 0,         false)  \
	X(SET_VRING_BASE,        set_vring_base,        STATE,      STATE,      0, 0,         false)  \
	X(GET_VRING_BASE,        get_vring_base,        STATE,      STATE,      0, 0,         true)   \
	X(SET_VRING_KICK,        set_vring_kick,        U64,        U64,        0, 1,         false)  \
	X(SET_VRING_CALL,        set_vring_call,        U64,        U64,        0, 1,         false)  \
	X(SET_VRING_ERR,         set_vring_err,         U64,        U64,        0, 1,         false)  \
	X(GET_PROTOCOL_FEATURES, get_protocol_features, 0,          U64,        0, 0,         true)   \
	X(SET_PROTOCOL_FEATURES, set_protocol_features, U64,        U64,        0, 0,         false)  \
	X(GET_QUEUE_NUM,         get_queue_num,         0,          U64,        0, 0,         true)   \
	X(SET_VRING_ENABLE,      set_vring_enable,      STATE,      STATE,      0, 0,         false)  \
	X(SET_BACKEND_REQ_FD,    set_backend_req_fd,    0,          U64,        1, 1,         false)  \
	X(GET_CONFIG,            get_config,            CONFIG_MIN, CONFIG_MAX, 0, 0,         true)   \
	X(SET_CONFIG,            set_config,            CONFIG_MIN, CONFIG_MAX, 0, 0,         false)  \
	X(GET_MAX_MEM_SLOTS,     get_max_mem_slots,     0,          U64,        0, 0,         true)   \
	X(ADD_MEM_REG,           add_mem_reg,           REGION,     REGION,     1, 1,         false)  \
	X(REM_MEM_REG,           rem_mem_reg,           REGION,     REGION,     0, 1,         false)  \
	X(SET_STATUS,            set_status,            U64,        U64,        0, 0,         false)  \
	X(GET_STATUS,            get_status,            0,          U64,        0, 0,         true)

#define VU_REQUEST(req, fn, min, max, fds_min, fds_max, reply)                 \
	[VHOST_USER_##req] = {.name = #req, .handle = (fn),                     \
			      .min_size = (min), .max_size = (max),             \
			      .min_fds = (fds_min), .max_fds = (fds_max),       \
			      .has_reply = (reply)},

static const struct vu_request requests[VHOST_USER_MAX_REQUEST] = {
	VU_REQUESTS(VU_REQUEST)
};
/* clang-format on */

static int send_reply(struct vu_dev *vu, const struct vu_msg *req,
		      struct vu_msg *reply)
{
	struct iovec iov[2] = {
		{&reply->hdr, HDR_SIZE},
		{&reply->payload, reply->hdr.size},
	};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
	size_t len = HDR_SIZE + reply->hdr.size;
	ssize_t n;

	reply->hdr.request = req->hdr.request;
	reply->hdr.flags = VHOST_USER_VERSION | VHOST_USER_REPLY_MASK;
	do
		n = sendmsg(vu->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len) {
		log_error("reply to request %u: %s", req->hdr.request,
			  n < 0 ? strerror(errno) : "short write");
		return -1;
	}
	return 0;
}

/* Is @msg's shape right for its request? Logs why not. */
static bool shape_ok(const struct vu_request *rq, const struct vu_msg *msg)
{
	if (msg->hdr.size < rq->min_size || msg->hdr.size > rq->max_size) {
		log_error("%s: payload of %u bytes (expected %u to %u)",
			  rq->name, msg->hdr.size, rq->min_size, rq->max_size);
		return false;
	}
	if (msg->nfds < rq->min_fds || msg->nfds > rq->max_fds) {
		log_error("%s: %u fds attached (expected %u to %u)", rq->name,
			  msg->nfds, rq->min_fds, rq->max_fds);
		return false;
	}
	return true;
}

/**
 * vu_dispatch() - handle one complete message and answer it
 * @vu:		a connected device
 * @msg:	the message; its fds are consumed (kept or closed)
 *
 * May end the connection (vu_detach()); callers check vu_connected().
 */
void vu_dispatch(struct vu_dev *vu, struct vu_msg *msg)
{
	static struct vu_msg reply;
	const struct vu_request *rq = NULL;
	bool need_reply = msg->hdr.flags & VHOST_USER_NEED_REPLY_MASK;
	enum vu_result r;

	if (msg->hdr.request < VHOST_USER_MAX_REQUEST)
		rq = &requests[msg->hdr.request];
	memset(&reply.hdr, 0, sizeof(reply.hdr));
	if (!rq || !rq->handle) {
		log_error("request %u is not supported", msg->hdr.request);
		r = VU_ERROR;
	} else if (!shape_ok(rq, msg)) {
		r = rq->has_reply ? VU_CLOSE : VU_ERROR;
	} else {
		log_trace("%s (%u bytes, %u fds%s)", rq->name, msg->hdr.size,
			  msg->nfds, need_reply ? ", reply wanted" : "");
		r = rq->handle(vu, msg, &reply);
	}
	close_fds(msg);

	if (r == VU_ERROR && rq && rq->has_reply)
		r = VU_CLOSE; /* the frontend would wait forever */
	if (r == VU_OK || r == VU_ERROR) {
		if (!need_reply)
			return;
		reply_u64(&reply, r == VU_OK ? 0 : 1);
		r = VU_REPLY;
	}
	if (r == VU_REPLY && send_reply(vu, msg, &reply) == 0)
		return;
	log_error("closing the frontend connection");
	vu_detach(vu);
}

/* Take the fds that came with this chunk of the message. */
static void collect_fds(struct vu_dev *vu, struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		const uint8_t *data = CMSG_DATA(c);
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, data + i * sizeof(int), sizeof(fd));
			if (vu->in.nfds < VHOST_USER_MAX_FDS)
				vu->in.fds[vu->in.nfds++] = fd;
			else {
				close(fd);
				vu->in_fd_overflow = true;
			}
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		vu->in_fd_overflow = true;
}

/*
 * receive_some() - read what is missing of the current message
 *
 * Return: 1 when a whole message is in vu->in, 2 when part of it came,
 * 0 when nothing could be read yet, -1 when the connection is over
 */
static int receive_some(struct vu_dev *vu)
{
	union {
		char buf[CMSG_SPACE(VHOST_USER_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov;
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = control.buf,
			    .msg_controllen = sizeof(control.buf)};
	ssize_t n;

	/* The header and the payload are apart in struct vu_msg. */
	if (vu->in_have < HDR_SIZE) {
		iov.iov_base = (uint8_t *)&vu->in.hdr + vu->in_have;
		iov.iov_len = HDR_SIZE - vu->in_have;
	} else {
		iov.iov_base = vu->in.payload.bytes + (vu->in_have - HDR_SIZE);
		iov.iov_len = HDR_SIZE + vu->in.hdr.size - vu->in_have;
	}
	n = recvmsg(vu->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		if (n < 0)
			log_error("frontend connection: %s", strerror(errno));
		else if (vu->in_have)
			log_error("frontend closed the connection mid-message");
		else
			log_info("frontend disconnected");
		return -1;
	}
	collect_fds(vu, &mh);
	vu->in_have += (size_t)n;
	if (vu->in_have == HDR_SIZE) {
		if ((vu->in.hdr.flags & VHOST_USER_VERSION_MASK) !=
		    VHOST_USER_VERSION) {
			log_error("request %u: protocol version %u, expected "
				  "%u",
				  vu->in.hdr.request,
				  vu->in.hdr.flags & VHOST_USER_VERSION_MASK,
				  VHOST_USER_VERSION);
			return -1;
		}
		if (vu->in.hdr.size > VU_MAX_PAYLOAD) {
			log_error("request %u: payload of %u bytes is larger "
				  "than any request (%u)",
				  vu->in.hdr.request, vu->in.hdr.size,
				  VU_MAX_PAYLOAD);
			return -1;
		}
	}
	if (vu->in_have >= HDR_SIZE &&
	    vu->in_have == HDR_SIZE + vu->in.hdr.size)
		return 1;
	return 2;
}

/** vu_peer_gone() - has the frontend hung up (its close not yet read)? */
bool vu_peer_gone(const struct vu_dev *vu)
{
	struct pollfd p = {.fd = vu->fd, .events = POLLRDHUP};

	if (vu->fd < 0)
		return true;
	return poll(&p, 1, 0) == 1 &&
	       (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/**
 * vu_note_memory_fault() - the kernel found guest memory unreachable
 * (EFAULT); the session ends at the next vu_check_memory(), after the
 * loop's batch
 */
void vu_note_memory_fault(struct vu_dev *vu)
{
	(void)vu;
	guest_mem_note_fault();
}

/**
 * vu_notify_config_change() - tell the frontend the device's config space
 * changed (VHOST_USER_BACKEND_CONFIG_CHANGE_MSG on the back-end channel)
 *
 * Return: 0 when sent; -1 when the frontend gave no channel (it then just
 * gets no notification) or it could not be sent now (logged)
 */
int vu_notify_config_change(struct vu_dev *vu)
{
	return vu_chan_config_changed(&vu->chan);
}

/**
 * vu_check_memory() - end the session if guest memory faulted
 * @arg:	the &struct vu_dev
 *
 * The owner of the event loop runs it after every batch
 * (ev_set_after_batch()), the one place a fault is acted on: a page past
 * the end of its file means the frontend shrank memory it shared, and
 * nothing in it can be trusted any more. Until then, reads that faulted
 * are refused where they are made (guest_mem_copy_out(), EFAULT).
 */
void vu_check_memory(void *arg)
{
	struct vu_dev *vu = arg;

	if (!guest_mem_fault_taken() || !vu_connected(vu))
		return;
	log_error("guest memory shrank under the device (a shared page is "
		  "past the end of its file); closing the frontend connection");
	vu_detach(vu);
}

#define VU_READ_BUDGET 64 /* recvmsg() calls per wake-up */

static void on_frontend(void *arg, uint32_t events)
{
	struct vu_dev *vu = arg;

	(void)events;
	/* A frontend that never stops sending must not starve the console:
	 * after a budget of reads the level-triggered loop comes back. */
	for (unsigned int reads = 0; vu_connected(vu) && reads < VU_READ_BUDGET;
	     reads++) {
		/* Memory faulted: the session ends after this batch
		 * (vu_check_memory()); none of its messages is read. */
		if (guest_mem_fault_pending())
			return;
		int r = receive_some(vu);

		if (r == 0)
			return;
		if (r == 2)
			continue;
		if (r < 0) {
			vu_detach(vu);
			return;
		}
		vu->in_have = 0;
		if (vu->in_fd_overflow) {
			log_error("request %u: more than %d fds attached",
				  vu->in.hdr.request, VHOST_USER_MAX_FDS);
			vu->in_fd_overflow = false;
			close_fds(&vu->in);
			vu_detach(vu);
			return;
		}
		vu_dispatch(vu, &vu->in);
		vu->in.nfds = 0;
	}
}

static void on_kick(void *arg, uint32_t events)
{
	struct virtqueue *vq = arg;
	/* vq is vu->vqs[vq->index]: step back to the array, then to vu. */
	struct vu_dev *vu =
		(struct vu_dev *)(void *)((char *)(vq - vq->index) -
					  offsetof(struct vu_dev, vqs));
	uint8_t buf[64];
	ssize_t n;

	/*
	 * One read per wake-up: an eventfd empties at once, and a pipe with
	 * more kicks in it wakes the level-triggered loop again. Reading
	 * until empty could block on an fd the frontend made blocking.
	 */
	n = read(vq->kick_fd, buf, sizeof(buf));
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) ||
	    (n < 0 && (events & (EPOLLERR | EPOLLHUP)))) {
		/* It would be reported ready forever: stop listening. */
		log_warn("queue %u: kick fd %s; queue stopped", vq->index,
			 n == 0			    ? "closed by the frontend"
			 : n < 0 && errno != EAGAIN ? strerror(errno)
						    : "hung up");
		stop_queue(vu, vq);
		return;
	}
	queue_maybe_run(vu, vq);
}

/**
 * vu_init() - an unconnected device
 * @vu:			the state
 * @loop:		where connection and kick fds are watched
 * @dev:		the device behind the protocol
 * @max_queue_size:	largest SET_VRING_NUM accepted
 */
void vu_init(struct vu_dev *vu, struct ev_loop *loop,
	     const struct vu_device *dev, uint32_t max_queue_size)
{
	memset(vu, 0, sizeof(*vu));
	vu->dev = dev;
	if (guest_mem_guard(&vu->mem) < 0)
		log_warn("cannot guard against SIGBUS: %s", strerror(errno));
	vu->loop = loop;
	vu->max_queue_size = max_queue_size;
	vu->fd = -1;
	ev_watch_init(&vu->watch);
	guest_mem_init(&vu->mem);
	for (unsigned int i = 0; i < VU_MAX_QUEUES; i++) {
		vq_init(&vu->vqs[i], i, &vu->mem);
		ev_watch_init(&vu->kick_watch[i]);
	}
	vu_chan_init(&vu->chan, loop);
}

/**
 * vu_attach() - serve the frontend on @fd (non-blocking, owned from now)
 *
 * Return: 0, or -1 (and @fd closed)
 */
int vu_attach(struct vu_dev *vu, int fd)
{
	vu->fd = fd;
	vu->in_have = 0;
	vu->in.nfds = 0;
	if (ev_add(vu->loop, &vu->watch, fd, EPOLLIN, on_frontend, vu) < 0) {
		log_error("cannot watch the frontend: %s", strerror(errno));
		close(fd);
		vu->fd = -1;
		return -1;
	}
	return 0;
}

/**
 * vu_detach() - end the session: every ring, mapping and fd is released,
 * the device is reset, and the owner is told it may accept again
 */
void vu_detach(struct vu_dev *vu)
{
	if (vu->fd < 0)
		return;
	ev_del(vu->loop, &vu->watch);
	close(vu->fd);
	vu->fd = -1;
	close_fds(&vu->in);
	vu->in_have = 0;
	vu_chan_close(&vu->chan);
	reset_session(vu);
	if (vu->dev->disconnected)
		vu->dev->disconnected(vu->dev->opaque);
}
