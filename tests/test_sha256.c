/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_sha256.c - SHA-256 against the FIPS 180-4 examples (and the
 * million-'a' message of its validation suite), HMAC-SHA-256 against every
 * test case of RFC 4231, fed whole and in every split, and the
 * constant-time comparison.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "suites.h"

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static void expect_digest(const uint8_t d[SHA256_DIGEST_LEN], size_t n,
			  const char *want)
{
	char got[2 * SHA256_DIGEST_LEN + 1];

	hex(d, n, got);
	ck_assert_str_eq(got, want);
}

START_TEST(test_sha256_fips_180_4_examples)
{
	static const struct {
		const char *msg, *digest;
	} v[] = {
		{"abc",
		 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"",
		 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
		{"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		 "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
	};
	uint8_t d[SHA256_DIGEST_LEN];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t len = strlen(v[i].msg);

		sha256(v[i].msg, len, d);
		expect_digest(d, sizeof(d), v[i].digest);
		/* Every split point: the block buffer's edges. */
		for (size_t cut = 0; cut <= len; cut++) {
			struct sha256_ctx ctx;

			sha256_init(&ctx);
			sha256_update(&ctx, v[i].msg, cut);
			sha256_update(&ctx, v[i].msg + cut, len - cut);
			sha256_final(&ctx, d);
			expect_digest(d, sizeof(d), v[i].digest);
		}
	}
}
END_TEST

START_TEST(test_sha256_million_a)
{
	static uint8_t a[1000];
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_LEN];

	memset(a, 'a', sizeof(a));
	sha256_init(&ctx);
	for (int i = 0; i < 1000; i++)
		sha256_update(&ctx, a, sizeof(a));
	sha256_final(&ctx, d);
	expect_digest(
		d, sizeof(d),
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

/* Every padding length: 0..129 bytes, against the incremental form. */
START_TEST(test_sha256_lengths_around_blocks)
{
	uint8_t msg[130], d1[SHA256_DIGEST_LEN], d2[SHA256_DIGEST_LEN];

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7);
	for (size_t len = 0; len < sizeof(msg); len++) {
		struct sha256_ctx ctx;

		sha256(msg, len, d1);
		sha256_init(&ctx);
		for (size_t i = 0; i < len; i++)
			sha256_update(&ctx, msg + i, 1);
		sha256_final(&ctx, d2);
		ck_assert_mem_eq(d1, d2, sizeof(d1));
	}
	/* 55 bytes: the longest message one padding block holds. */
	memset(msg, 'x', 64);
	sha256(msg, 55, d1);
	expect_digest(
		d1, sizeof(d1),
		"d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072");
}
END_TEST

static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = strlen(s) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned int b;

		ck_assert_int_eq(sscanf(s + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
	return n;
}

START_TEST(test_hmac_sha256_rfc_4231)
{
	/* RFC 4231 section 4, test cases 1 to 7 (5 is truncated to 128
	 * bits). Keys and data in hex. */
	static const struct {
		const char *key, *data, *mac;
	} v[] = {
		{"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
		 "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
		{"4a656665",
		 "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
		 "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
		 "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
		{"0102030405060708090a0b0c0d0e0f10111213141516171819",
		 "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
		 "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
		{"0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c",
		 "546573742057697468205472756e636174696f6e",
		 "a3b6167473100ee06e0c796c2955552b"},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579204669727374",
		 "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d73697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565647320746f20626520686173686564206265666f7265206265696e6720757365642062792074686520484d414320616c676f726974686d2e",
		 "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
	};
	uint8_t key[256], data[256], mac[SHA256_DIGEST_LEN];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t kl = unhex(v[i].key, key), dl = unhex(v[i].data, data);
		struct hmac_sha256_ctx ctx;

		ck_assert_msg(i != 5 || kl == 131, "case 6 has a 131-byte key");
		hmac_sha256(key, kl, data, dl, mac);
		expect_digest(mac, strlen(v[i].mac) / 2, v[i].mac);
		/* The same in two pieces. */
		hmac_sha256_init(&ctx, key, kl);
		hmac_sha256_update(&ctx, data, dl / 3);
		hmac_sha256_update(&ctx, data + dl / 3, dl - dl / 3);
		hmac_sha256_final(&ctx, mac);
		expect_digest(mac, strlen(v[i].mac) / 2, v[i].mac);
	}
}
END_TEST

START_TEST(test_ct_equal)
{
	uint8_t a[32], b[32];

	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	ck_assert(ct_equal(a, b, sizeof(a)));
	ck_assert(ct_equal(a, b, 0));
	for (size_t i = 0; i < sizeof(b); i++) {
		b[i] ^= 1;
		ck_assert(!ct_equal(a, b, sizeof(a)));
		b[i] ^= 1;
	}
}
END_TEST

Suite *sha256_suite(void)
{
	Suite *su = suite_create("sha256");
	TCase *tc = tcase_create("vectors");

	tcase_add_test(tc, test_sha256_fips_180_4_examples);
	tcase_add_test(tc, test_sha256_million_a);
	tcase_add_test(tc, test_sha256_lengths_around_blocks);
	tcase_add_test(tc, test_hmac_sha256_rfc_4231);
	tcase_add_test(tc, test_ct_equal);
	suite_add_tcase(su, tc);
	return su;
}
