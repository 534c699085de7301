/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_web_origin.c - --web-origin and --web-frame-ancestors: what an
 * origin may be, and what web_conn then accepts and says: a proxy's Host
 * and Origin besides the loopback ones and nothing looser (not its http
 * twin, not another port), framing by the named origins only, and no
 * framing without them.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "suites.h"
#include "web_conn.h"
#include "web_origin.h"

#define UPGRADE                                                                \
	"Upgrade: websocket\r\nConnection: Upgrade\r\n"                        \
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"                      \
	"Sec-WebSocket-Version: 13\r\n\r\n"

static const struct web_token token = {.text = "0123456789abcdef0123456789abcdef",
				       .len = 32};

/* ask() - one request on a new connection; its answer's head */
static char *ask(const struct web_origins *origins,
		 const struct web_origins *frame, const char *req)
{
	struct web_conn_config cfg = {.port = 8080,
				      .token = &token,
				      .peer = "127.0.0.1:1",
				      .origins = origins,
				      .frame_ancestors = frame};
	static char head[4096];
	struct web_conn *c;
	struct iovec iov[2];
	size_t have = 0;
	char *end;

	log_set_level(LOG_LEVEL_ERROR);
	c = web_conn_new(&cfg, NULL, NULL);
	ck_assert_ptr_nonnull(c);
	web_conn_feed(c, (const uint8_t *)req, strlen(req));
	while (web_conn_out_pending(c) && have < sizeof(head) - 1) {
		unsigned int n = web_conn_out_peek(c, iov);
		size_t take = iov[0].iov_len;

		ck_assert_uint_ge(n, 1);
		if (take > sizeof(head) - 1 - have)
			take = sizeof(head) - 1 - have;
		memcpy(head + have, iov[0].iov_base, take);
		have += take;
		web_conn_out_consume(c, take);
	}
	head[have] = '\0';
	web_conn_free(c);
	end = strstr(head, "\r\n\r\n");
	if (end)
		end[2] = '\0';
	return head;
}

START_TEST(test_origins_parsed_strictly)
{
	static const char *const good[] = {
		"https://vmm.example.com", "http://vmm.example.com:8443",
		"HTTPS://VMM.Example.COM", "http://10.0.0.1:65535",
	};
	static const char *const bad[] = {
		"vmm.example.com", "ftp://vmm.example.com",
		"https://", "https://vmm.example.com/",
		"https://vmm.example.com/path", "https://user@vmm.example.com",
		"https://vmm.example.com:", "https://vmm.example.com:0",
		"https://vmm.example.com:65536", "https://vmm.example.com:08",
		"https://vmm.example.com?q", "https://.example.com",
		"https://[::1]:8080", "https://vmm example.com",
		"https://vmm.example.com:123456",
	};
	struct web_origins l = {0};
	char err[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(web_origin_add(&l, good[i], err, sizeof(err)) == 0,
			      "%s: %s", good[i], err);
	ck_assert_str_eq(l.o[2].origin, "https://vmm.example.com");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(web_origin_add(&l, bad[i], err, sizeof(err)) < 0,
			      "%s accepted", bad[i]);
	while (l.n < WEB_ORIGINS_MAX)
		ck_assert_int_eq(web_origin_add(&l, "https://a.example", err,
						sizeof(err)),
				 0);
	ck_assert_int_lt(web_origin_add(&l, "https://b.example", err,
					sizeof(err)),
			 0);
}
END_TEST

START_TEST(test_proxy_origin_accepted_and_nothing_looser)
{
	struct web_origins o = {0};
	char err[256];

	ck_assert_int_eq(web_origin_add(&o, "https://vmm.example.com", err,
					sizeof(err)),
			 0);
	/* The page and the upgrade under the proxy's name. */
	ck_assert_ptr_nonnull(strstr(ask(&o, NULL, "GET / HTTP/1.1\r\nHost: vmm.example.com\r\n\r\n"),
				     "HTTP/1.1 200 "));
	ck_assert_ptr_nonnull(strstr(ask(&o, NULL, "GET /ws HTTP/1.1\r\nHost: vmm.example.com\r\nOrigin: https://vmm.example.com\r\n" UPGRADE),
				     "HTTP/1.1 101 "));
	/* Loopback still works beside it. */
	ck_assert_ptr_nonnull(strstr(ask(&o, NULL, "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nOrigin: http://127.0.0.1:8080\r\n" UPGRADE),
				     "HTTP/1.1 101 "));
	/* Its http twin, another port, another name: refused. */
	ck_assert_ptr_nonnull(strstr(ask(&o, NULL, "GET /ws HTTP/1.1\r\nHost: vmm.example.com\r\nOrigin: http://vmm.example.com\r\n" UPGRADE),
				     "HTTP/1.1 403 "));
	ck_assert_ptr_nonnull(strstr(ask(&o, NULL, "GET /ws HTTP/1.1\r\nHost: vmm.example.com\r\nOrigin: https://vmm.example.com:444\r\n" UPGRADE),
				     "HTTP/1.1 403 "));
	ck_assert_ptr_nonnull(strstr(ask(&o, NULL, "GET / HTTP/1.1\r\nHost: vmm.example.com:444\r\n\r\n"),
				     "HTTP/1.1 403 "));
	ck_assert_ptr_nonnull(strstr(ask(&o, NULL, "GET / HTTP/1.1\r\nHost: evil.example.com\r\n\r\n"),
				     "HTTP/1.1 403 "));
	/* Without the option, the proxy's name is a stranger's. */
	ck_assert_ptr_nonnull(strstr(ask(NULL, NULL, "GET / HTTP/1.1\r\nHost: vmm.example.com\r\n\r\n"),
				     "HTTP/1.1 403 "));
}
END_TEST

START_TEST(test_frame_ancestors_named_or_none)
{
	struct web_origins fa = {0};
	char err[256], *h;

	h = ask(NULL, NULL, "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
	ck_assert_ptr_nonnull(strstr(h, "; frame-ancestors 'none'\r\n"));
	ck_assert_ptr_nonnull(strstr(h, "X-Frame-Options: DENY\r\n"));
	ck_assert_int_eq(web_origin_add(&fa, "https://tool.example", err,
					sizeof(err)),
			 0);
	ck_assert_int_eq(web_origin_add(&fa, "http://other.example:8000", err,
					sizeof(err)),
			 0);
	h = ask(NULL, &fa, "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
	ck_assert_ptr_nonnull(strstr(h, "HTTP/1.1 200 "));
	ck_assert_ptr_nonnull(strstr(h, "; frame-ancestors https://tool.example http://other.example:8000\r\n"));
	ck_assert_ptr_null(strstr(h, "X-Frame-Options"));
	ck_assert_ptr_null(strstr(h, "'none'\r\n"));
	/* Error answers say the same. */
	h = ask(NULL, &fa, "GET /nothing HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
	ck_assert_ptr_nonnull(strstr(h, "HTTP/1.1 404 "));
	ck_assert_ptr_nonnull(strstr(h, "frame-ancestors https://tool.example http://other.example:8000\r\n"));
}
END_TEST

Suite *web_origin_suite(void)
{
	Suite *su = suite_create("web_origin");
	TCase *tc = tcase_create("origin");

	tcase_add_test(tc, test_origins_parsed_strictly);
	tcase_add_test(tc, test_proxy_origin_accepted_and_nothing_looser);
	tcase_add_test(tc, test_frame_ancestors_named_or_none);
	suite_add_tcase(su, tc);
	return su;
}
