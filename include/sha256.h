/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * sha256.h - SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104), for the web
 * console's challenge-response: both sides prove they know the token by
 * an HMAC over fresh nonces, and neither ever sends the token itself.
 */
#ifndef VDC_SHA256_H
#define VDC_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32
#define SHA256_BLOCK_LEN  64

struct sha256_ctx {
	uint32_t h[8];
	uint64_t total; /* bytes hashed so far */
	uint8_t block[SHA256_BLOCK_LEN];
	size_t fill; /* bytes waiting in block */
};

void sha256_init(struct sha256_ctx *ctx);
void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len);
void sha256_final(struct sha256_ctx *ctx, uint8_t digest[SHA256_DIGEST_LEN]);
void sha256(const void *data, size_t len, uint8_t digest[SHA256_DIGEST_LEN]);

/* An HMAC being computed: the keyed inner hash, and the outer key pad. */
struct hmac_sha256_ctx {
	struct sha256_ctx inner;
	uint8_t opad[SHA256_BLOCK_LEN];
};

void hmac_sha256_init(struct hmac_sha256_ctx *ctx, const void *key,
		      size_t keylen);
void hmac_sha256_update(struct hmac_sha256_ctx *ctx, const void *data,
			size_t len);
void hmac_sha256_final(struct hmac_sha256_ctx *ctx,
		       uint8_t mac[SHA256_DIGEST_LEN]);
void hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		 uint8_t mac[SHA256_DIGEST_LEN]);

bool ct_equal(const uint8_t *a, const uint8_t *b, size_t len);

#endif
