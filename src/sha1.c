/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * sha1.c - SHA-1 as FIPS 180-4 section 6.1 describes it, written for
 * clarity rather than speed: it hashes one 60-byte string per WebSocket
 * handshake.
 */
#include <string.h>

#include "sha1.h"

static uint32_t rol32(uint32_t x, unsigned int n)
{
	return (x << n) | (x >> (32 - n));
}

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* compress() - fold one 64-byte block into the state (FIPS 180-4 6.1.2) */
static void compress(uint32_t h[5], const uint8_t block[SHA1_BLOCK_LEN])
{
	uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

	for (size_t t = 0; t < 16; t++)
		w[t] = load_be32(block + 4 * t);
	for (size_t t = 16; t < 80; t++)
		w[t] = rol32(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
	for (unsigned int t = 0; t < 80; t++) {
		uint32_t f, k, tmp;

		if (t < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (t < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (t < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		tmp = rol32(a, 5) + f + e + k + w[t];
		e = d;
		d = c;
		c = rol32(b, 30);
		b = a;
		a = tmp;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

/** sha1_init() - start a new digest in @ctx */
void sha1_init(struct sha1_ctx *ctx)
{
	static const uint32_t iv[5] = {0x67452301, 0xefcdab89, 0x98badcfe,
				       0x10325476, 0xc3d2e1f0};

	memset(ctx, 0, sizeof(*ctx));
	memcpy(ctx->h, iv, sizeof(iv));
}

/**
 * sha1_update() - hash @len more bytes
 * @ctx:	as left by sha1_init() or an earlier sha1_update()
 * @data:	the bytes
 * @len:	how many
 */
void sha1_update(struct sha1_ctx *ctx, const void *data, size_t len)
{
	const uint8_t *p = data;

	ctx->total += len;
	while (len) {
		size_t n = SHA1_BLOCK_LEN - ctx->fill;

		if (n > len)
			n = len;
		memcpy(ctx->block + ctx->fill, p, n);
		ctx->fill += n;
		p += n;
		len -= n;
		if (ctx->fill == SHA1_BLOCK_LEN) {
			compress(ctx->h, ctx->block);
			ctx->fill = 0;
		}
	}
}

/**
 * sha1_final() - pad, finish and write the digest
 * @ctx:	the digest so far; wiped afterwards
 * @digest:	the 20-byte result, big-endian as the standard prints it
 */
void sha1_final(struct sha1_ctx *ctx, uint8_t digest[SHA1_DIGEST_LEN])
{
	uint64_t bits = ctx->total * 8;

	/* A 1 bit, zeros up to 56 mod 64, then the length in bits. */
	ctx->block[ctx->fill++] = 0x80;
	if (ctx->fill > SHA1_BLOCK_LEN - 8) {
		memset(ctx->block + ctx->fill, 0, SHA1_BLOCK_LEN - ctx->fill);
		compress(ctx->h, ctx->block);
		ctx->fill = 0;
	}
	memset(ctx->block + ctx->fill, 0, SHA1_BLOCK_LEN - 8 - ctx->fill);
	store_be32(ctx->block + 56, (uint32_t)(bits >> 32));
	store_be32(ctx->block + 60, (uint32_t)bits);
	compress(ctx->h, ctx->block);
	for (size_t i = 0; i < 5; i++)
		store_be32(digest + 4 * i, ctx->h[i]);
	memset(ctx, 0, sizeof(*ctx));
}

/** sha1() - the digest of @len bytes at @data, in one call */
void sha1(const void *data, size_t len, uint8_t digest[SHA1_DIGEST_LEN])
{
	struct sha1_ctx ctx;

	sha1_init(&ctx);
	sha1_update(&ctx, data, len);
	sha1_final(&ctx, digest);
}
