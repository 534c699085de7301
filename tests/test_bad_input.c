/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_bad_input.c - an untrusted frontend and guest: every class of bad
 * message and malformed ring is refused with a log line, never a crash,
 * and the worker then serves a new, well-behaved frontend.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "session.h"
#include "suites.h"

SESSION_FIXTURE(NULL)

/* The worker survived and a fresh frontend gets a working console. */
static void expect_recovery(void)
{
	struct fe good;
	char in[16];

	fe_close(&fe);
	session_console(&s, &good, FE_STYLE_QEMU);
	tx_and_expect(&s, &good, "recovered\n", 10, 4096, false);
	write_all(session_client(&s), "ok", 2);
	ck_assert_int_eq(fe_read_rx(&good, in, sizeof(in), 5000), 2);
	fe_close(&good);
}

static void expect_needs_reset(void)
{
	uint64_t st;

	ck_assert_int_eq(fe_get_u64(&fe, VHOST_USER_GET_STATUS, &st), 0);
	ck_assert(st & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET);
}

/* --- malformed rings (the guest) ------------------------------------- */

enum ring_attack {
	LOOP,
	NEXT_OUT_OF_RANGE,
	NESTED_INDIRECT,
	INDIRECT_BAD_LENGTH,
	INDIRECT_OUTSIDE_MEMORY,
	READABLE_AFTER_WRITABLE,
	ADDRESS_OUTSIDE_MEMORY,
	LENGTH_PAST_REGION_END,
	HEAD_OUT_OF_RANGE,
	AVAIL_INDEX_JUMP,
};

static const char *const attack_log[] = {
	[LOOP] = "loops or is longer than its table",
	[NEXT_OUT_OF_RANGE] = "descriptor next",
	[NESTED_INDIRECT] = "nested indirect descriptor table",
	[INDIRECT_BAD_LENGTH] = "indirect table of bad length 24",
	[INDIRECT_OUTSIDE_MEMORY] = "is outside guest memory",
	[READABLE_AFTER_WRITABLE] = "readable descriptor after a writable one",
	[ADDRESS_OUTSIDE_MEMORY] = "is outside guest memory",
	[LENGTH_PAST_REGION_END] = "is outside guest memory",
	[HEAD_OUT_OF_RANGE] = "avail ring names descriptor",
	[AVAIL_INDEX_JUMP] = "avail index jumped",
};

static void attack(enum ring_attack a)
{
	struct fe_ring *r = &fe.rings[CONSOLE_QUEUE_TX];
	uint64_t buf, table;
	struct vring_desc *t;
	uint16_t head = 0;
	uint16_t id;
	uint32_t len;

	session_console(&s, &fe, FE_STYLE_QEMU);
	buf = r->data_gpa;
	table = r->table_gpa;
	t = fe_gpa(&fe, table);
	r->desc[0] = (struct vring_desc){buf, 8, 0, 0};
	switch (a) {
	case LOOP:
		r->desc[0] = (struct vring_desc){buf, 8, VRING_DESC_F_NEXT, 0};
		break;
	case NEXT_OUT_OF_RANGE:
		r->desc[0].flags = VRING_DESC_F_NEXT;
		r->desc[0].next = (uint16_t)(r->num + 1);
		break;
	case NESTED_INDIRECT:
		t[0] = (struct vring_desc){table + 64, 16,
					   VRING_DESC_F_INDIRECT, 0};
		r->desc[0] = (struct vring_desc){table, 16,
						 VRING_DESC_F_INDIRECT, 0};
		break;
	case INDIRECT_BAD_LENGTH:
		r->desc[0] = (struct vring_desc){table, 24,
						 VRING_DESC_F_INDIRECT, 0};
		break;
	case INDIRECT_OUTSIDE_MEMORY:
		r->desc[0] = (struct vring_desc){0x1000, 32,
						 VRING_DESC_F_INDIRECT, 0};
		break;
	case READABLE_AFTER_WRITABLE:
		r->desc[0] = (struct vring_desc){buf, 8,
						 VRING_DESC_F_WRITE |
							 VRING_DESC_F_NEXT,
						 1};
		r->desc[1] = (struct vring_desc){buf + 8, 8, 0, 0};
		break;
	case ADDRESS_OUTSIDE_MEMORY:
		r->desc[0].addr = 0xdead00000000ull;
		break;
	case LENGTH_PAST_REGION_END:
		r->desc[0].addr = FE_GPA_BASE + fe.mem_size - 8;
		r->desc[0].len = 16;
		break;
	case HEAD_OUT_OF_RANGE:
		head = (uint16_t)(r->num + 3);
		break;
	case AVAIL_INDEX_JUMP:
		break;
	}
	r->avail->ring[r->avail_idx % r->num] = head;
	r->avail_idx = a == AVAIL_INDEX_JUMP
			       ? (uint16_t)(r->avail_idx + r->num + 1)
			       : (uint16_t)(r->avail_idx + 1);
	fe_publish(&fe, CONSOLE_QUEUE_TX);
	fe_kick(&fe, CONSOLE_QUEUE_TX);
	ck_assert_msg(log_has(&s, attack_log[a], 3000), "no '%s' in log:\n%s",
		      attack_log[a], daemon_log(&s.d));
	ck_assert(log_has(&s, "queue stopped until the device is reset", 100));
	/* Nothing was completed from the bad chain. */
	ck_assert_int_eq(fe_get_used(&fe, CONSOLE_QUEUE_TX, &id, &len), 0);
	expect_needs_reset();
	expect_recovery();
}

START_TEST(test_descriptor_loop)
{
	attack(LOOP);
}
END_TEST

START_TEST(test_descriptor_next_out_of_range)
{
	attack(NEXT_OUT_OF_RANGE);
}
END_TEST

START_TEST(test_nested_indirect_table)
{
	attack(NESTED_INDIRECT);
}
END_TEST

START_TEST(test_indirect_table_of_bad_length)
{
	attack(INDIRECT_BAD_LENGTH);
}
END_TEST

START_TEST(test_indirect_table_outside_memory)
{
	attack(INDIRECT_OUTSIDE_MEMORY);
}
END_TEST

START_TEST(test_readable_after_writable)
{
	attack(READABLE_AFTER_WRITABLE);
}
END_TEST

START_TEST(test_descriptor_outside_guest_memory)
{
	attack(ADDRESS_OUTSIDE_MEMORY);
}
END_TEST

START_TEST(test_descriptor_past_region_end)
{
	attack(LENGTH_PAST_REGION_END);
}
END_TEST

START_TEST(test_avail_head_out_of_range)
{
	attack(HEAD_OUT_OF_RANGE);
}
END_TEST

START_TEST(test_avail_index_jumps_past_queue_size)
{
	attack(AVAIL_INDEX_JUMP);
}
END_TEST

/* --- bad messages (the frontend) ------------------------------------- */

/* Send raw; expect an ack with a non-zero (failure) value. */
static void expect_nack(uint32_t req, const void *p, uint32_t size,
			const int *fds, unsigned int nfds, const char *log)
{
	struct vhost_user_header h;
	uint64_t v = 0;

	ck_assert_int_eq(fe_send(&fe, req,
				 VHOST_USER_VERSION |
					 VHOST_USER_NEED_REPLY_MASK,
				 p, size, fds, nfds),
			 0);
	ck_assert_msg(fe_recv(&fe, &h, &v, sizeof(v), 3000) == 0, "%s", fe.err);
	ck_assert_uint_eq(h.flags, 0x5);
	ck_assert_uint_eq(h.size, 8);
	ck_assert_uint_ne(v, 0);
	ck_assert_msg(log_has(&s, log, 2000), "no '%s' in log:\n%s", log,
		      daemon_log(&s.d));
}

/* The daemon closes the connection: the next read sees EOF. */
static void expect_closed(const char *log)
{
	struct vhost_user_header h;

	ck_assert_int_eq(fe_recv(&fe, &h, NULL, 0, 3000), -1);
	ck_assert_ptr_nonnull(strstr(fe.err, "closed"));
	ck_assert_msg(log_has(&s, log, 2000), "no '%s' in log:\n%s", log,
		      daemon_log(&s.d));
}

START_TEST(test_unknown_request_fails_cleanly)
{
	uint64_t f;

	session_frontend(&s, &fe, FE_STYLE_QEMU, false);
	expect_nack(99, NULL, 0, NULL, 0, "request 99 is not supported");
	expect_nack(VHOST_USER_SET_LOG_BASE, &f, 8, NULL, 0,
		    "request 6 is not supported");
	ck_assert_int_eq(fe_get_u64(&fe, VHOST_USER_GET_FEATURES, &f), 0);
	expect_recovery();
}
END_TEST

START_TEST(test_wrong_payload_size_fails)
{
	uint32_t four = 0;

	session_frontend(&s, &fe, FE_STYLE_QEMU, false);
	expect_nack(VHOST_USER_SET_FEATURES, &four, 4, NULL, 0,
		    "SET_FEATURES: payload of 4 bytes (expected 8 to 8)");
	expect_recovery();
}
END_TEST

START_TEST(test_surplus_fds_are_closed)
{
	uint64_t f = 0;
	int before, efd = eventfd(0, EFD_CLOEXEC);
	int fds[2] = {efd, efd};

	session_frontend(&s, &fe, FE_STYLE_QEMU, false);
	session_sync(&s, &fe);
	before = count_fds(s.worker);
	expect_nack(VHOST_USER_SET_FEATURES, &f, 8, fds, 2,
		    "SET_FEATURES: 2 fds attached (expected 0 to 0)");
	ck_assert_int_eq(count_fds(s.worker), before);
	close(efd);
	expect_recovery();
}
END_TEST

START_TEST(test_more_fds_than_any_request_closes)
{
	int fds[9], efd = eventfd(0, EFD_CLOEXEC);
	uint64_t v = 0;

	for (int i = 0; i < 9; i++)
		fds[i] = efd;
	session_frontend(&s, &fe, FE_STYLE_QEMU, false);
	ck_assert_int_eq(fe_send(&fe, VHOST_USER_SET_VRING_CALL,
				 VHOST_USER_VERSION, &v, 8, fds, 9),
			 0);
	close(efd);
	expect_closed("more than 8 fds attached");
	expect_recovery();
}
END_TEST

START_TEST(test_bad_version_closes)
{
	session_frontend(&s, &fe, FE_STYLE_QEMU, false);
	ck_assert_int_eq(fe_send(&fe, VHOST_USER_GET_FEATURES, 0x2, NULL, 0,
				 NULL, 0),
			 0);
	expect_closed("protocol version 2, expected 1");
	expect_recovery();
}
END_TEST

START_TEST(test_oversized_payload_closes)
{
	struct vhost_user_header h = {VHOST_USER_SET_FEATURES, 1, 100000};

	session_frontend(&s, &fe, FE_STYLE_QEMU, false);
	ck_assert_int_eq(write(fe.sock, &h, sizeof(h)), (ssize_t)sizeof(h));
	expect_closed("payload of 100000 bytes is larger than any request");
	expect_recovery();
}
END_TEST

START_TEST(test_disconnect_mid_message)
{
	struct vhost_user_header h = {VHOST_USER_SET_VRING_ADDR, 1, 40};

	session_frontend(&s, &fe, FE_STYLE_QEMU, false);
	ck_assert_int_eq(write(fe.sock, &h, sizeof(h)), (ssize_t)sizeof(h));
	ck_assert_int_eq(write(fe.sock, "abcd", 4), 4);
	fe_close(&fe);
	ck_assert(log_has(&s, "frontend closed the connection mid-message",
			  3000));
	expect_recovery();
}
END_TEST

START_TEST(test_unoffered_features_refused)
{
	uint64_t f = 1ull << 40;

	session_frontend(&s, &fe, FE_STYLE_QEMU, false);
	expect_nack(VHOST_USER_SET_FEATURES, &f, 8, NULL, 0,
		    "has bits never offered");
	f = 1ull << VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS;
	expect_nack(VHOST_USER_SET_PROTOCOL_FEATURES, &f, 8, NULL, 0,
		    "SET_PROTOCOL_FEATURES");
	expect_recovery();
}
END_TEST

START_TEST(test_bad_memory_tables_refused)
{
	struct vhost_user_mem_table t = {.nregions = 1};
	struct vhost_user_mem_single one = {0};

	session_frontend(&s, &fe, FE_STYLE_QEMU, false);
	/* fd count does not match the region count */
	t.regions[0] = (struct vhost_user_mem_region){FE_GPA_BASE, 4096, 0, 0};
	expect_nack(VHOST_USER_SET_MEM_TABLE, &t, 8 + 32, NULL, 0,
		    "SET_MEM_TABLE: 0 fds attached");
	/* size zero */
	t.regions[0].memory_size = 0;
	expect_nack(VHOST_USER_SET_MEM_TABLE, &t, 8 + 32, &fe.memfd, 1,
		    "memory region: bad size 0");
	/* addresses that wrap */
	t.regions[0] = (struct vhost_user_mem_region){~0ull - 10, 4096, 0, 0};
	expect_nack(VHOST_USER_SET_MEM_TABLE, &t, 8 + 32, &fe.memfd, 1,
		    "addresses wrap");
	/* past the end of the memfd: would SIGBUS when touched */
	t.regions[0] = (struct vhost_user_mem_region){FE_GPA_BASE, fe.mem_size,
						      0, 4096};
	expect_nack(VHOST_USER_SET_MEM_TABLE, &t, 8 + 32, &fe.memfd, 1,
		    "runs past the end of its file");
	/* nine regions */
	t.nregions = 9;
	expect_nack(VHOST_USER_SET_MEM_TABLE, &t, sizeof(t), &fe.memfd, 1,
		    "SET_MEM_TABLE: 9 regions");
	/* removing a region that does not exist */
	one.region = (struct vhost_user_mem_region){0x1000, 4096, 0, 0};
	expect_nack(VHOST_USER_REM_MEM_REG, &one, sizeof(one), NULL, 0,
		    "no such region");
	expect_recovery();
}
END_TEST

START_TEST(test_add_overlapping_region_refused)
{
	struct vhost_user_mem_single one = {0};

	session_frontend(&s, &fe, FE_STYLE_QEMU, true);
	one.region = (struct vhost_user_mem_region){FE_GPA_BASE + 4096, 4096,
						    0x5000000, 0};
	expect_nack(VHOST_USER_ADD_MEM_REG, &one, sizeof(one), &fe.memfd, 1,
		    "overlaps");
	/* A region beside it is fine, and can be removed again. */
	one.region.guest_phys_addr = FE_GPA_BASE + fe.mem_size;
	ck_assert_int_eq(fe_request(&fe, VHOST_USER_ADD_MEM_REG, &one,
				    sizeof(one), &fe.memfd, 1, NULL, 0),
			 0);
	ck_assert_int_eq(fe_request(&fe, VHOST_USER_REM_MEM_REG, &one,
				    sizeof(one), NULL, 0, NULL, 0),
			 0);
	expect_recovery();
}
END_TEST

START_TEST(test_ring_outside_memory_refused)
{
	struct vhost_user_vring_addr a = {.index = 1,
					  .desc_user_addr = 0x1000,
					  .avail_user_addr = 0x2000,
					  .used_user_addr = 0x3000};
	struct vhost_user_vring_state st = {7, 64};
	uint64_t v = 7;
	int efd = eventfd(0, EFD_CLOEXEC);

	session_frontend(&s, &fe, FE_STYLE_QEMU, true);
	expect_nack(VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0,
		    "are not in guest memory");
	a.desc_user_addr = FE_UVA_BASE + 8; /* misaligned */
	expect_nack(VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0,
		    "misaligned ring addresses");
	expect_nack(VHOST_USER_SET_VRING_NUM, &st, sizeof(st), NULL, 0,
		    "queue 7 does not exist");
	expect_nack(VHOST_USER_SET_VRING_KICK, &v, 8, &efd, 1,
		    "SET_VRING_KICK: queue 7 does not exist");
	v = 0x1001; /* unknown bits */
	expect_nack(VHOST_USER_SET_VRING_CALL, &v, 8, &efd, 1,
		    "SET_VRING_CALL: unknown bits");
	v = 0x100; /* no-fd flag, yet an fd */
	expect_nack(VHOST_USER_SET_VRING_ERR, &v, 8, &efd, 1,
		    "with the no-fd flag set");
	close(efd);
	/* Always readable: would keep the worker busy. */
	efd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	v = 1;
	expect_nack(VHOST_USER_SET_VRING_KICK, &v, 8, &efd, 1,
		    "the fd is not an eventfd, pipe or socket");
	close(efd);
	expect_recovery();
}
END_TEST

START_TEST(test_failing_request_with_reply_closes)
{
	struct vhost_user_vring_state st = {9, 0};

	session_frontend(&s, &fe, FE_STYLE_QEMU, true);
	ck_assert_int_eq(fe_send(&fe, VHOST_USER_GET_VRING_BASE,
				 VHOST_USER_VERSION, &st, sizeof(st), NULL, 0),
			 0);
	expect_closed("GET_VRING_BASE: queue 9 does not exist");
	expect_recovery();
}
END_TEST

START_TEST(test_blocking_full_call_pipe_never_blocks_the_worker)
{
	uint64_t v = CONSOLE_QUEUE_TX;
	char junk[4096];
	int p[2];

	session_console(&s, &fe, FE_STYLE_QEMU);
	/* A blocking pipe nobody drains, already full. */
	ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
	memset(junk, 0, sizeof(junk));
	while (write(p[1], junk, sizeof(junk)) > 0)
		;
	ck_assert_int_eq(fcntl(p[1], F_SETFL, 0), 0);
	ck_assert_int_eq(fe_request(&fe, VHOST_USER_SET_VRING_CALL, &v,
				    sizeof(v), &p[1], 1, NULL, 0),
			 0);
	/* Chains still complete (the frontend polls for them). */
	tx_and_expect(&s, &fe, "still here", 10, 10, false);
	tx_and_expect(&s, &fe, "and here", 8, 8, false);
	close(p[0]);
	close(p[1]);
	expect_recovery();
}
END_TEST

START_TEST(test_broken_kick_fd_stops_the_queue_without_spinning)
{
	uint64_t v = CONSOLE_QUEUE_TX;
	long before;
	int p[2];

	session_console(&s, &fe, FE_STYLE_QEMU);
	/* A kick fd that is ready forever and cannot be read. */
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fe_request(&fe, VHOST_USER_SET_VRING_KICK, &v,
				    sizeof(v), &p[1], 1, NULL, 0),
			 0);
	close(p[0]);
	close(p[1]);
	ck_assert(log_has(&s, "queue 1: kick fd", 3000));
	before = cpu_ticks(s.worker);
	sleep_ms(500);
	ck_assert_int_le(cpu_ticks(s.worker) - before, 5);
	expect_recovery();
}
END_TEST

START_TEST(test_guest_memory_shrunk_under_the_worker)
{
	pid_t worker = s.worker;

	session_console(&s, &fe, FE_STYLE_QEMU);
	tx_and_expect(&s, &fe, "before", 6, 6, false);
	/* The frontend takes its memory away; the worker must not die. */
	ck_assert_int_eq(ftruncate(fe.memfd, 0), 0);
	fe_kick(&fe, CONSOLE_QUEUE_TX);
	ck_assert_msg(log_has(&s, "guest memory shrank under the device", 3000),
		      "log:\n%s", daemon_log(&s.d));
	ck_assert_int_eq(find_child(s.d.pid, "vdc-worker-0"), worker);
	expect_recovery();
}
END_TEST

/* --- many sessions --------------------------------------------------- */

static void wait_fds(pid_t pid, int want)
{
	long deadline = now_ms() + WAIT_FLOOR_MS;

	while (count_fds(pid) != want && now_ms() < deadline)
		sleep_ms(10);
}

START_TEST(test_200_sessions_leak_nothing)
{
	int fds, maps;

	/* One session first, so that lazily created state exists. */
	session_console(&s, &fe, FE_STYLE_QEMU);
	fe_close(&fe);
	/* The worker has seen it go and let its memory go. */
	ck_assert(log_has(&s, "frontend disconnected", WAIT_FLOOR_MS));
	for (long end = now_ms() + WAIT_FLOOR_MS;
	     count_maps(s.worker) && now_ms() < end;)
		sleep_ms(10);
	fds = count_fds(s.worker);
	maps = count_maps(s.worker);
	ck_assert_int_eq(maps, 0);
	for (int i = 0; i < 200; i++) {
		session_frontend(&s, &fe, i % 2 ? FE_STYLE_UML : FE_STYLE_QEMU,
				 true);
		fe_close(&fe);
	}
	wait_fds(s.worker, fds);
	ck_assert_int_eq(count_fds(s.worker), fds);
	ck_assert_int_eq(count_maps(s.worker), 0);
	expect_recovery();
}
END_TEST

Suite *bad_input_suite(void)
{
	Suite *su = suite_create("bad_input");
	TCase *ring = tcase_create("guest");
	TCase *msg = tcase_create("frontend");

	tcase_add_checked_fixture(ring, setup, teardown);
	tcase_set_timeout(ring, 60);
	tcase_add_test(ring, test_descriptor_loop);
	tcase_add_test(ring, test_descriptor_next_out_of_range);
	tcase_add_test(ring, test_nested_indirect_table);
	tcase_add_test(ring, test_indirect_table_of_bad_length);
	tcase_add_test(ring, test_indirect_table_outside_memory);
	tcase_add_test(ring, test_readable_after_writable);
	tcase_add_test(ring, test_descriptor_outside_guest_memory);
	tcase_add_test(ring, test_descriptor_past_region_end);
	tcase_add_test(ring, test_avail_head_out_of_range);
	tcase_add_test(ring, test_avail_index_jumps_past_queue_size);
	suite_add_tcase(su, ring);

	tcase_add_checked_fixture(msg, setup, teardown);
	tcase_set_timeout(msg, 120);
	tcase_add_test(msg, test_unknown_request_fails_cleanly);
	tcase_add_test(msg, test_wrong_payload_size_fails);
	tcase_add_test(msg, test_surplus_fds_are_closed);
	tcase_add_test(msg, test_more_fds_than_any_request_closes);
	tcase_add_test(msg, test_bad_version_closes);
	tcase_add_test(msg, test_oversized_payload_closes);
	tcase_add_test(msg, test_disconnect_mid_message);
	tcase_add_test(msg, test_unoffered_features_refused);
	tcase_add_test(msg, test_bad_memory_tables_refused);
	tcase_add_test(msg, test_add_overlapping_region_refused);
	tcase_add_test(msg, test_ring_outside_memory_refused);
	tcase_add_test(msg, test_failing_request_with_reply_closes);
	tcase_add_test(msg,
		       test_blocking_full_call_pipe_never_blocks_the_worker);
	tcase_add_test(msg,
		       test_broken_kick_fd_stops_the_queue_without_spinning);
	tcase_add_test(msg, test_guest_memory_shrunk_under_the_worker);
	tcase_add_test(msg, test_200_sessions_leak_nothing);
	suite_add_tcase(su, msg);
	return su;
}
