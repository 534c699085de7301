/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_vhost_user.c - the protocol as real frontends use it, against the
 * running daemon: UML's and QEMU's negotiations, every reply, ring
 * enabling and stopping, and bytes through all four queues.
 */
#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "session.h"
#include "suites.h"

/* VERSION_1, EVENT_IDX, INDIRECT_DESC, PROTOCOL_FEATURES, NOTIFY_ON_EMPTY,
 * EMERG_WRITE, MULTIPORT; no SIZE: this daemon is given no size. */
#define OFFERED_FEATURES                                                       \
	((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX) |    \
	 (1ull << VIRTIO_RING_F_INDIRECT_DESC) |                               \
	 (1ull << VHOST_USER_F_PROTOCOL_FEATURES) |                            \
	 (1ull << VIRTIO_F_NOTIFY_ON_EMPTY) |                                  \
	 (1ull << VIRTIO_CONSOLE_F_EMERG_WRITE) |                              \
	 (1ull << VIRTIO_CONSOLE_F_MULTIPORT))
#define OFFERED_PROTOCOL                                                       \
	((1ull << VHOST_USER_PROTOCOL_F_MQ) |                                  \
	 (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) |                           \
	 (1ull << VHOST_USER_PROTOCOL_F_BACKEND_REQ) |                         \
	 (1ull << VHOST_USER_PROTOCOL_F_CONFIG) |                              \
	 (1ull << VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS) |                 \
	 (1ull << VHOST_USER_PROTOCOL_F_STATUS))

SESSION_FIXTURE("--max-queue-size=256")

START_TEST(test_features_offered_exactly)
{
	uint64_t f, p;

	session_frontend(&s, &fe, FE_STYLE_QEMU, false);
	ck_assert_int_eq(fe_get_u64(&fe, VHOST_USER_GET_FEATURES, &f), 0);
	ck_assert_uint_eq(f, OFFERED_FEATURES);
	ck_assert_uint_eq(f, 0x171000006ull);
	ck_assert_int_eq(fe_get_u64(&fe, VHOST_USER_GET_PROTOCOL_FEATURES, &p),
			 0);
	ck_assert_uint_eq(p, OFFERED_PROTOCOL);
	ck_assert_uint_eq(p, 0x18229ull);
	ck_assert_int_eq(fe_get_u64(&fe, VHOST_USER_GET_QUEUE_NUM, &p), 0);
	ck_assert_uint_eq(p, 4);
	ck_assert_int_eq(fe_get_u64(&fe, VHOST_USER_GET_MAX_MEM_SLOTS, &p), 0);
	ck_assert_uint_eq(p, 32);
	/* Native replies: flags VERSION|REPLY and nothing else. */
	ck_assert_uint_eq(fe.last_reply.flags, 0x5);
}
END_TEST

START_TEST(test_uml_negotiation_acks_every_message)
{
	/* fe_request() checks each ack: flags exactly 0x5, size 8, value 0;
	 * UML asks for one on SET_PROTOCOL_FEATURES already. */
	session_frontend(&s, &fe, FE_STYLE_UML, true);
	ck_assert_uint_eq(fe.protocol_features,
			  (1u << VHOST_USER_PROTOCOL_F_REPLY_ACK) |
				  (1u << VHOST_USER_PROTOCOL_F_BACKEND_REQ) |
				  (1u << VHOST_USER_PROTOCOL_F_CONFIG));
	/* ... and hands over its back-end channel, as UML does. */
	ck_assert_int_ge(fe.chan_fd, 0);
	ck_assert_uint_eq(fe.last_reply.flags, 0x5);
	ck_assert_uint_eq(fe.last_reply.size, 8);
	ck_assert_int_eq(fe_console_handshake(&fe, NULL, 0), 0);
	tx_and_expect(&s, &fe, "uml says hi\n", 12, 4096, false);
}
END_TEST

START_TEST(test_need_reply_without_reply_ack_negotiated)
{
	uint64_t v = 0;
	struct vhost_user_header h;

	session_frontend(&s, &fe, FE_STYLE_QEMU, false);
	/* NEED_REPLY is honoured even before REPLY_ACK is negotiated. */
	ck_assert_int_eq(fe_send(&fe, VHOST_USER_SET_OWNER,
				 VHOST_USER_VERSION |
					 VHOST_USER_NEED_REPLY_MASK,
				 NULL, 0, NULL, 0),
			 0);
	ck_assert_int_eq(fe_recv(&fe, &h, &v, sizeof(v), 2000), 0);
	ck_assert_uint_eq(h.request, VHOST_USER_SET_OWNER);
	ck_assert_uint_eq(h.flags, 0x5);
	ck_assert_uint_eq(h.size, 8);
	ck_assert_uint_eq(v, 0);
}
END_TEST

START_TEST(test_get_config_exact_size_and_range)
{
	uint8_t cfg[12], word[4];
	struct vhost_user_config c = {.offset = 8, .size = 8};
	struct vhost_user_header h;
	uint64_t f;

	session_frontend(&s, &fe, FE_STYLE_QEMU, true);
	ck_assert_int_eq(fe_get_config(&fe, 0, 12, cfg), 0);
	ck_assert_uint_eq(cfg[0] | cfg[1] << 8, 20); /* cols */
	ck_assert_uint_eq(cfg[2] | cfg[3] << 8, 20); /* rows */
	ck_assert_uint_eq(cfg[4], 1); /* max_nr_ports */
	ck_assert_int_eq(fe_get_config(&fe, 4, 4, word), 0);
	ck_assert_uint_eq(fe.last_reply.size, 12 + 4);
	ck_assert_uint_eq(word[0], 1);

	/* Past the 12 bytes: an empty reply, and the session goes on. */
	ck_assert_int_eq(fe_send(&fe, VHOST_USER_GET_CONFIG, VHOST_USER_VERSION,
				 &c, 12 + 8, NULL, 0),
			 0);
	ck_assert_int_eq(fe_recv(&fe, &h, &c, sizeof(c), 2000), 0);
	ck_assert_uint_eq(h.size, 0);
	ck_assert(log_has(&s, "outside the 12-byte config space", 2000));
	ck_assert_int_eq(fe_get_u64(&fe, VHOST_USER_GET_FEATURES, &f), 0);
}
END_TEST

START_TEST(test_set_config_refused)
{
	struct vhost_user_config c = {.offset = 0, .size = 4};

	session_frontend(&s, &fe, FE_STYLE_QEMU, true);
	ck_assert_int_eq(fe_request(&fe, VHOST_USER_SET_CONFIG, &c, 12 + 4,
				    NULL, 0, NULL, 0),
			 -1);
	ck_assert_ptr_nonnull(strstr(fe.err, "failed"));
}
END_TEST

/* Data in every direction, for each combination of ring features. */
static void bytes_through_all_queues(uint64_t drop_features)
{
	struct fe_config cfg = {.style = FE_STYLE_QEMU};
	char in[64], big[3000];
	int n;

	cfg.socket_path = s.vu_path;
	cfg.features = OFFERED_FEATURES & ~drop_features;
	ck_assert_int_eq(fe_open(&fe, &cfg), 0);
	ck_assert_msg(fe_negotiate(&fe) == 0, "%s", fe.err);
	ck_assert_int_eq(fe.event_idx,
			 !(drop_features & (1ull << VIRTIO_RING_F_EVENT_IDX)));
	ck_assert_msg(fe_console_handshake(&fe, NULL, 0) == 0, "%s", fe.err);

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + 3);
	tx_and_expect(&s, &fe, "direct\n", 7, 4096, false);
	tx_and_expect(&s, &fe, big, sizeof(big), 100, false);
	if (fe.indirect)
		tx_and_expect(&s, &fe, big, sizeof(big), 64, true);

	write_all(session_client(&s), "typed", 5);
	n = fe_read_rx(&fe, in, sizeof(in), 5000);
	ck_assert_msg(n == 5, "rx %d: %s", n, fe.err);
	ck_assert(memcmp(in, "typed", 5) == 0);
	fe_close(&fe);
}

START_TEST(test_bytes_all_queues_every_ring_feature_mix)
{
	uint64_t mixes[] = {
		0,
		1ull << VIRTIO_RING_F_EVENT_IDX,
		1ull << VIRTIO_RING_F_INDIRECT_DESC,
		(1ull << VIRTIO_RING_F_EVENT_IDX) |
			(1ull << VIRTIO_RING_F_INDIRECT_DESC) |
			(1ull << VIRTIO_F_NOTIFY_ON_EMPTY),
	};

	for (size_t i = 0; i < sizeof(mixes) / sizeof(mixes[0]); i++)
		bytes_through_all_queues(mixes[i]);
}
END_TEST

START_TEST(test_indirect_refused_when_not_negotiated)
{
	struct fe_config cfg = {.socket_path = s.vu_path,
				.style = FE_STYLE_QEMU,
				.features =
					OFFERED_FEATURES &
					~(1ull << VIRTIO_RING_F_INDIRECT_DESC)};
	uint64_t st;

	ck_assert_int_eq(fe_open(&fe, &cfg), 0);
	ck_assert_int_eq(fe_negotiate(&fe), 0);
	ck_assert_int_eq(fe_submit_tx(&fe, CONSOLE_QUEUE_TX, "x", 1, 1, true),
			 0);
	fe_publish(&fe, CONSOLE_QUEUE_TX);
	ck_assert(
		log_has(&s, "indirect descriptor without INDIRECT_DESC", 3000));
	ck_assert_int_eq(fe_get_u64(&fe, VHOST_USER_GET_STATUS, &st), 0);
	ck_assert(st & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET);
}
END_TEST

START_TEST(test_rings_wait_for_enable_with_protocol_features)
{
	struct fe_config cfg = {.socket_path = s.vu_path,
				.style = FE_STYLE_QEMU,
				.no_enable = true};
	struct vhost_user_vring_state on = {CONSOLE_QUEUE_TX, 1};
	uint16_t id;
	uint32_t len;
	char got[4];

	ck_assert_int_eq(fe_open(&fe, &cfg), 0);
	ck_assert_int_eq(fe_negotiate(&fe), 0);
	session_client(&s);
	ck_assert_int_eq(fe_submit_tx(&fe, CONSOLE_QUEUE_TX, "late", 4, 4,
				      false),
			 0);
	fe_publish(&fe, CONSOLE_QUEUE_TX);
	fe_kick(&fe, CONSOLE_QUEUE_TX);
	sleep_ms(200);
	ck_assert_int_eq(fe_get_used(&fe, CONSOLE_QUEUE_TX, &id, &len), 0);

	ck_assert_int_eq(fe_request(&fe, VHOST_USER_SET_VRING_ENABLE, &on,
				    sizeof(on), NULL, 0, NULL, 0),
			 0);
	ck_assert(read_exact(s.client, got, 4, 3000));
	ck_assert(memcmp(got, "late", 4) == 0);
}
END_TEST

START_TEST(test_rings_enabled_at_set_features_without_protocol_features)
{
	struct fe_config cfg = {.socket_path = s.vu_path,
				.style = FE_STYLE_QEMU,
				.no_protocol_features = true};

	ck_assert_int_eq(fe_open(&fe, &cfg), 0);
	ck_assert_msg(fe_negotiate(&fe) == 0, "%s", fe.err);
	ck_assert_uint_eq(fe.protocol_features, 0);
	ck_assert_msg(fe_console_handshake(&fe, NULL, 0) == 0, "%s", fe.err);
	tx_and_expect(&s, &fe, "no-proto", 8, 8, false);
}
END_TEST

START_TEST(test_get_vring_base_stops_ring_returns_next_avail)
{
	struct vhost_user_vring_state st = {CONSOLE_QUEUE_TX, 0};
	uint16_t id;
	uint32_t len;

	session_console(&s, &fe, FE_STYLE_QEMU);
	tx_and_expect(&s, &fe, "a", 1, 1, false);
	tx_and_expect(&s, &fe, "b", 1, 1, false);
	tx_and_expect(&s, &fe, "c", 1, 1, false);
	ck_assert_int_eq(fe_request(&fe, VHOST_USER_GET_VRING_BASE, &st,
				    sizeof(st), NULL, 0, &st, sizeof(st)),
			 8);
	ck_assert_uint_eq(st.index, CONSOLE_QUEUE_TX);
	ck_assert_uint_eq(st.num, 3);

	/* Stopped: a new chain is not taken, even when kicked. */
	ck_assert_int_eq(fe_submit_tx(&fe, CONSOLE_QUEUE_TX, "d", 1, 1, false),
			 0);
	fe_publish(&fe, CONSOLE_QUEUE_TX);
	fe_kick(&fe, CONSOLE_QUEUE_TX);
	sleep_ms(200);
	ck_assert_int_eq(fe_get_used(&fe, CONSOLE_QUEUE_TX, &id, &len), 0);
}
END_TEST

/* UML re-probes: NUM, BASE, ADDR, KICK on a running ring, new memory. */
START_TEST(test_running_ring_reconfigured_like_uml_reprobe)
{
	struct fe_ring *r = &fe.rings[CONSOLE_QUEUE_TX];
	struct vhost_user_vring_state num, base;
	struct vhost_user_vring_addr a = {.index = CONSOLE_QUEUE_TX};
	uint64_t desc, avail, used, v = CONSOLE_QUEUE_TX;

	session_console(&s, &fe, FE_STYLE_UML);
	tx_and_expect(&s, &fe, "before", 6, 6, false);

	desc = fe_alloc(&fe, vring_desc_bytes(r->num), 4096);
	avail = fe_alloc(&fe, vring_avail_bytes(r->num), 4096);
	used = fe_alloc(&fe, vring_used_bytes(r->num), 4096);
	ck_assert(desc && avail && used);
	num = (struct vhost_user_vring_state){CONSOLE_QUEUE_TX, r->num};
	base = (struct vhost_user_vring_state){CONSOLE_QUEUE_TX, 0};
	a.desc_user_addr = desc;
	a.avail_user_addr = avail;
	a.used_user_addr = used;
	ck_assert_int_eq(fe_request(&fe, VHOST_USER_SET_VRING_NUM, &num,
				    sizeof(num), NULL, 0, NULL, 0),
			 0);
	ck_assert_int_eq(fe_request(&fe, VHOST_USER_SET_VRING_BASE, &base,
				    sizeof(base), NULL, 0, NULL, 0),
			 0);
	ck_assert_int_eq(fe_request(&fe, VHOST_USER_SET_VRING_ADDR, &a,
				    sizeof(a), NULL, 0, NULL, 0),
			 0);
	ck_assert_int_eq(fe_request(&fe, VHOST_USER_SET_VRING_KICK, &v,
				    sizeof(v), &r->kick_fd, 1, NULL, 0),
			 0);
	/* Our side of the ring starts over too. */
	r->desc = fe_gpa(&fe, desc);
	r->avail = fe_gpa(&fe, avail);
	r->used = fe_gpa(&fe, used);
	r->desc_gpa = desc;
	r->avail_idx = r->kicked_idx = r->last_used = 0;
	r->nfree = r->num;
	for (unsigned int i = 0; i < r->num; i++)
		r->free_ids[i] = (uint16_t)i;
	tx_and_expect(&s, &fe, "after", 5, 5, false);
}
END_TEST

START_TEST(test_call_fd_pipe_gets_whole_8_byte_writes)
{
	int call;
	struct pollfd pfd = {.events = POLLIN};
	uint8_t buf[64];
	char got[4];
	ssize_t n;

	session_console(&s, &fe, FE_STYLE_UML);
	call = fe.rings[CONSOLE_QUEUE_TX].call_fd;
	pfd.fd = call;
	/* Drain what the handshake signalled, then one more tx chain. */
	while (read(call, buf, sizeof(buf)) > 0)
		;
	ck_assert_int_eq(fe_submit_tx(&fe, CONSOLE_QUEUE_TX, "ping", 4, 4,
				      false),
			 0);
	fe_publish(&fe, CONSOLE_QUEUE_TX);
	ck_assert(read_exact(session_client(&s), got, 4, 3000));
	/* The call comes through the pipe as whole 8-byte counts. */
	ck_assert_int_eq(poll(&pfd, 1, 3000), 1);
	n = read(call, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(n % 8, 0);
}
END_TEST

START_TEST(test_queue_size_over_limit_names_the_option)
{
	struct vhost_user_vring_state num = {0, 512};

	session_frontend(&s, &fe, FE_STYLE_QEMU, true);
	ck_assert_int_eq(fe_request(&fe, VHOST_USER_SET_VRING_NUM, &num,
				    sizeof(num), NULL, 0, NULL, 0),
			 -1);
	ck_assert(log_has(&s, "--max-queue-size=512", 2000));
	num.num = 100; /* not a power of two */
	ck_assert_int_eq(fe_request(&fe, VHOST_USER_SET_VRING_NUM, &num,
				    sizeof(num), NULL, 0, NULL, 0),
			 -1);
	num.num = 256; /* what UML asks for, allowed by -q 256 */
	ck_assert_int_eq(fe_request(&fe, VHOST_USER_SET_VRING_NUM, &num,
				    sizeof(num), NULL, 0, NULL, 0),
			 0);
}
END_TEST

START_TEST(test_default_max_queue_size_refuses_uml_256)
{
	struct session d;
	struct fe f;
	struct fe_config cfg = {.style = FE_STYLE_UML, .queue_size = 256};

	/* A second daemon with the default limit of 128. */
	session_start(&d, NULL);
	cfg.socket_path = d.vu_path;
	ck_assert_int_eq(fe_open(&f, &cfg), 0);
	ck_assert_int_eq(fe_negotiate(&f), -1);
	ck_assert(log_has(&d, "start the daemon with --max-queue-size=256",
			  2000));
	fe_close(&f);
	session_stop(&d);
}
END_TEST

Suite *vhost_user_suite(void)
{
	Suite *su = suite_create("vhost_user");
	TCase *tc = tcase_create("protocol");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_features_offered_exactly);
	tcase_add_test(tc, test_uml_negotiation_acks_every_message);
	tcase_add_test(tc, test_need_reply_without_reply_ack_negotiated);
	tcase_add_test(tc, test_get_config_exact_size_and_range);
	tcase_add_test(tc, test_set_config_refused);
	tcase_add_test(tc, test_bytes_all_queues_every_ring_feature_mix);
	tcase_add_test(tc, test_indirect_refused_when_not_negotiated);
	tcase_add_test(tc, test_rings_wait_for_enable_with_protocol_features);
	tcase_add_test(
		tc,
		test_rings_enabled_at_set_features_without_protocol_features);
	tcase_add_test(tc, test_get_vring_base_stops_ring_returns_next_avail);
	tcase_add_test(tc, test_running_ring_reconfigured_like_uml_reprobe);
	tcase_add_test(tc, test_call_fd_pipe_gets_whole_8_byte_writes);
	tcase_add_test(tc, test_queue_size_over_limit_names_the_option);
	tcase_add_test(tc, test_default_max_queue_size_refuses_uml_256);
	suite_add_tcase(su, tc);
	return su;
}
