/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * sha1.h - SHA-1 (FIPS 180-4), for the WebSocket handshake only.
 *
 * RFC 6455 derives Sec-WebSocket-Accept from the client's key with SHA-1.
 * That use needs no collision resistance (the key is public and the
 * answer only proves the server speaks WebSocket), so SHA-1 is fine here
 * and must not be used for anything that needs a secure hash.
 */
#ifndef VDC_SHA1_H
#define VDC_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_LEN 20
#define SHA1_BLOCK_LEN	64

struct sha1_ctx {
	uint32_t h[5];
	uint64_t total; /* bytes hashed so far */
	uint8_t block[SHA1_BLOCK_LEN];
	size_t fill; /* bytes waiting in block */
};

void sha1_init(struct sha1_ctx *ctx);
void sha1_update(struct sha1_ctx *ctx, const void *data, size_t len);
void sha1_final(struct sha1_ctx *ctx, uint8_t digest[SHA1_DIGEST_LEN]);
void sha1(const void *data, size_t len, uint8_t digest[SHA1_DIGEST_LEN]);

#endif
