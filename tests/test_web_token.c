/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_web_token.c - what the web console's secret rests on: SHA-1 and
 * base64 against the published vectors (FIPS 180, RFC 4648, RFC 6455's
 * handshake), and the token file: created 0600 with a fresh random token,
 * loaded back, and refused with one line when it is not safe.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "helpers.h"
#include "sha1.h"
#include "suites.h"
#include "web_conn.h"
#include "web_token.h"

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void expect_sha1(const char *msg, const char *want)
{
	uint8_t d[SHA1_DIGEST_LEN];
	char h[2 * SHA1_DIGEST_LEN + 1];

	sha1(msg, strlen(msg), d);
	hex(d, sizeof(d), h);
	ck_assert_str_eq(h, want);
}

START_TEST(test_sha1_fips_vectors)
{
	expect_sha1("", "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	expect_sha1("abc", "a9993e364706816aba3e25717850c26c9cd0d89d");
	expect_sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		    "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	expect_sha1("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		    "a49b2446a02c645bf419f995b67091253a04a259");
}
END_TEST

/* A million 'a's, fed in uneven pieces: block boundaries everywhere. */
START_TEST(test_sha1_million_a_in_pieces)
{
	static uint8_t a[1000000];
	struct sha1_ctx ctx;
	uint8_t d[SHA1_DIGEST_LEN];
	char h[2 * SHA1_DIGEST_LEN + 1];
	size_t off = 0, step = 1;

	memset(a, 'a', sizeof(a));
	sha1_init(&ctx);
	while (off < sizeof(a)) {
		size_t n = step < sizeof(a) - off ? step : sizeof(a) - off;

		sha1_update(&ctx, a + off, n);
		off += n;
		step = step * 7 % 131 + 1;
	}
	sha1_final(&ctx, d);
	hex(d, sizeof(d), h);
	ck_assert_str_eq(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}
END_TEST

START_TEST(test_base64_rfc4648_vectors)
{
	static const char *const v[][2] = {
		{"", ""},
		{"f", "Zg=="},
		{"fo", "Zm8="},
		{"foo", "Zm9v"},
		{"foob", "Zm9vYg=="},
		{"fooba", "Zm9vYmE="},
		{"foobar", "Zm9vYmFy"},
	};
	char out[16];
	uint8_t back[16];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = strlen(v[i][0]);

		ck_assert_uint_eq(base64_encode(BASE64_STD,
						(const uint8_t *)v[i][0], n,
						out, sizeof(out)),
				  strlen(v[i][1]));
		ck_assert_str_eq(out, v[i][1]);
		ck_assert_int_eq(base64_decode(BASE64_STD, v[i][1],
					       strlen(v[i][1]), back,
					       sizeof(back)),
				 (ssize_t)n);
		ck_assert(memcmp(back, v[i][0], n) == 0);
	}
}
END_TEST

START_TEST(test_base64_url_alphabet_unpadded)
{
	static const uint8_t raw[] = {0xfb, 0xff, 0xbf, 0xfe};
	char out[16];
	uint8_t back[8];

	ck_assert_uint_eq(base64_encode(BASE64_URL, raw, 4, out, sizeof(out)),
			  6);
	ck_assert_str_eq(out, "-_-__g");
	ck_assert_int_eq(base64_decode(BASE64_URL, out, 6, back, sizeof(back)),
			 4);
	ck_assert(memcmp(back, raw, 4) == 0);
	ck_assert_int_eq(base64_decode(BASE64_URL, "-_-_-g==", 8, back,
				       sizeof(back)),
			 -1);
	ck_assert_int_eq(base64_decode(BASE64_STD, "-_-_-g==", 8, back,
				       sizeof(back)),
			 -1);
}
END_TEST

START_TEST(test_base64_decode_refuses_non_canonical)
{
	static const char *const bad[] = {
		"Zg", /* padding missing */
		"Zg=", /* short */
		"Zh==", /* unused bits set */
		"Zm9=", /* unused bits set */
		"Z===", /* too much padding */
		"Zm9v\n", "Zm 9v", "Zg=A", "====", "Zm9v====",
	};
	uint8_t out[16];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(base64_decode(BASE64_STD, bad[i], strlen(bad[i]),
					    out, sizeof(out)) == -1,
			      "'%s' decoded", bad[i]);
	/* Output that would not fit is refused, not cut. */
	ck_assert_int_eq(base64_decode(BASE64_STD, "Zm9vYmFy", 8, out, 5), -1);
	ck_assert_uint_eq(base64_encode(BASE64_STD, out, 3, (char *)out, 4), 0);
}
END_TEST

START_TEST(test_websocket_accept_rfc6455_example)
{
	char accept[32];
	const char *key = "dGhlIHNhbXBsZSBub25jZQ==";

	ck_assert_int_eq(web_accept_key(key, strlen(key), accept,
					sizeof(accept)),
			 0);
	ck_assert_str_eq(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	/* 15 or 17 bytes are not a key. */
	ck_assert_int_eq(web_accept_key("dGhlIHNhbXBsZSBub25j", 20, accept,
					sizeof(accept)),
			 -1);
	ck_assert_int_eq(web_accept_key("dGhlIHNhbXBsZSBub25jZQA=", 24, accept,
					sizeof(accept)),
			 -1);
}
END_TEST

/* ---- the token file ---- */

static char dir[256], path[300], err[WEB_TOKEN_ERR_LEN];
static struct web_token tok;

static void token_setup(void)
{
	make_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/token", dir);
	err[0] = '\0';
}

static void token_teardown(void)
{
	remove_tree(dir);
}

static void write_file(const char *p, const char *text, mode_t mode)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

/* Expect refusal, with one line naming the file and saying @why. */
static void expect_refused(const char *why)
{
	bool created = true;

	ck_assert_int_eq(web_token_load(path, &tok, &created, err, sizeof(err)),
			 -1);
	ck_assert(!created);
	ck_assert_msg(strstr(err, path) && strstr(err, why),
		      "error '%s' lacks '%s'", err, why);
	ck_assert_ptr_null(strchr(err, '\n'));
	ck_assert_uint_eq(tok.len, 0);
}

START_TEST(test_token_file_created_0600_with_256_random_bits)
{
	struct web_token again, other;
	struct stat st;
	bool created = false;
	char text[128] = "";
	FILE *f;

	ck_assert_int_eq(web_token_load(path, &tok, &created, err, sizeof(err)),
			 0);
	ck_assert(created);
	ck_assert_uint_eq(tok.len, BASE64_URL_LEN(WEB_TOKEN_RANDOM_BYTES));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(text, sizeof(text), f));
	fclose(f);
	ck_assert_uint_eq(strlen(text), tok.len + 1);
	ck_assert(memcmp(text, tok.text, tok.len) == 0);
	/* Loaded again, it is the same token; a new one differs. */
	ck_assert_int_eq(web_token_load(path, &again, &created, err,
					sizeof(err)),
			 0);
	ck_assert(!created);
	ck_assert_str_eq(again.text, tok.text);
	ck_assert_int_eq(web_token_generate(&other, err, sizeof(err)), 0);
	ck_assert_str_ne(other.text, tok.text);
}
END_TEST

START_TEST(test_token_file_created_readable_under_strict_umask)
{
	mode_t old = umask(0277);
	bool created;
	struct stat st;

	ck_assert_int_eq(web_token_load(path, &tok, &created, err, sizeof(err)),
			 0);
	umask(old);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
}
END_TEST

START_TEST(test_token_file_hand_written_hex_accepted)
{
	bool created;

	write_file(path, "0123456789abcdef0123456789ABCDEF\r\n", 0600);
	ck_assert_int_eq(web_token_load(path, &tok, &created, err, sizeof(err)),
			 0);
	ck_assert_str_eq(tok.text, "0123456789abcdef0123456789ABCDEF");
	write_file(path, "0123456789abcdef0123456789abcdef", 0400);
	ck_assert_int_eq(web_token_load(path, &tok, &created, err, sizeof(err)),
			 0);
}
END_TEST

START_TEST(test_token_file_readable_by_others_refused)
{
	write_file(path, "0123456789abcdef0123456789abcdef\n", 0644);
	expect_refused("mode 0644");
	write_file(path, "0123456789abcdef0123456789abcdef\n", 0620);
	expect_refused("group or others");
}
END_TEST

START_TEST(test_token_file_not_regular_refused)
{
	char target[320];

	ck_assert_int_eq(mkdir(path, 0700), 0);
	expect_refused("not a regular file");
	rmdir(path);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	expect_refused("not a regular file");
	unlink(path);
	snprintf(target, sizeof(target), "%s/real", dir);
	write_file(target, "0123456789abcdef0123456789abcdef\n", 0600);
	ck_assert_int_eq(symlink(target, path), 0);
	expect_refused("symbolic link");
}
END_TEST

START_TEST(test_token_file_short_or_odd_token_refused)
{
	write_file(path, "0123456789abcdef0123456789abcde\n", 0600);
	expect_refused("has 31 characters; it needs at least 32");
	write_file(path, "", 0600);
	expect_refused("has 0 characters");
	write_file(path, "0123456789abcdef 0123456789abcdef\n", 0600);
	expect_refused("may only hold");
	write_file(path, "0123456789abcdef0123456789abcdef\n\n", 0600);
	expect_refused("may only hold");
}
END_TEST

START_TEST(test_token_file_in_missing_directory_refused)
{
	snprintf(path, sizeof(path), "%s/no/token", dir);
	expect_refused("cannot create it");
}
END_TEST

Suite *web_token_suite(void)
{
	Suite *s = suite_create("web_token");
	TCase *crypto = tcase_create("sha1_base64");
	TCase *file = tcase_create("token_file");

	tcase_add_test(crypto, test_sha1_fips_vectors);
	tcase_add_test(crypto, test_sha1_million_a_in_pieces);
	tcase_add_test(crypto, test_base64_rfc4648_vectors);
	tcase_add_test(crypto, test_base64_url_alphabet_unpadded);
	tcase_add_test(crypto, test_base64_decode_refuses_non_canonical);
	tcase_add_test(crypto, test_websocket_accept_rfc6455_example);
	suite_add_tcase(s, crypto);

	tcase_add_checked_fixture(file, token_setup, token_teardown);
	tcase_add_test(file, test_token_file_created_0600_with_256_random_bits);
	tcase_add_test(file,
		       test_token_file_created_readable_under_strict_umask);
	tcase_add_test(file, test_token_file_hand_written_hex_accepted);
	tcase_add_test(file, test_token_file_readable_by_others_refused);
	tcase_add_test(file, test_token_file_not_regular_refused);
	tcase_add_test(file, test_token_file_short_or_odd_token_refused);
	tcase_add_test(file, test_token_file_in_missing_directory_refused);
	suite_add_tcase(s, file);
	return s;
}
