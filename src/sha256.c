/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * sha256.c - SHA-256 as FIPS 180-4 sections 5.3.3, 6.2 describe it, and
 * HMAC over it as RFC 2104 does, written for clarity rather than speed:
 * the web console computes two HMACs per login.
 *
 * The one hard decision: every comparison of a secret-derived value goes
 * through ct_equal(), whose time depends on the length only, so that a
 * client cannot learn a proof byte by byte from how long a refusal takes.
 */
#include <string.h>

#include "sha256.h"

/* FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube
 * roots of the first 64 primes. */
static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror32(uint32_t x, unsigned int n)
{
	return (x >> n) | (x << (32 - n));
}

/* compress() - fold one 64-byte block into the state (FIPS 180-4 6.2.2) */
static void compress(uint32_t h[8], const uint8_t *block)
{
	uint32_t w[64], s[8];

	for (size_t t = 0; t < 16; t++) {
		const uint8_t *p = block + 4 * t;

		w[t] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		       (uint32_t)p[2] << 8 | p[3];
	}
	for (unsigned int t = 16; t < 64; t++) {
		uint32_t s0 = ror32(w[t - 15], 7) ^ ror32(w[t - 15], 18) ^
			      (w[t - 15] >> 3);
		uint32_t s1 = ror32(w[t - 2], 17) ^ ror32(w[t - 2], 19) ^
			      (w[t - 2] >> 10);

		w[t] = w[t - 16] + s0 + w[t - 7] + s1;
	}
	memcpy(s, h, sizeof(s));
	for (unsigned int t = 0; t < 64; t++) {
		/* s[] is a, b, c, d, e, f, g, h of the standard. */
		uint32_t e1 =
			ror32(s[4], 6) ^ ror32(s[4], 11) ^ ror32(s[4], 25);
		uint32_t ch = (s[4] & s[5]) ^ (~s[4] & s[6]);
		uint32_t t1 = s[7] + e1 + ch + K[t] + w[t];
		uint32_t e0 =
			ror32(s[0], 2) ^ ror32(s[0], 13) ^ ror32(s[0], 22);
		uint32_t maj = (s[0] & s[1]) ^ (s[0] & s[2]) ^ (s[1] & s[2]);

		memmove(s + 1, s, 7 * sizeof(s[0]));
		s[4] += t1;
		s[0] = t1 + e0 + maj;
	}
	for (unsigned int i = 0; i < 8; i++)
		h[i] += s[i];
	explicit_bzero(w, sizeof(w));
	explicit_bzero(s, sizeof(s));
}

/** sha256_init() - start a hash (FIPS 180-4 5.3.3) */
void sha256_init(struct sha256_ctx *ctx)
{
	static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372,
				       0xa54ff53a, 0x510e527f, 0x9b05688c,
				       0x1f83d9ab, 0x5be0cd19};

	memcpy(ctx->h, h0, sizeof(h0));
	ctx->total = 0;
	ctx->fill = 0;
}

/**
 * sha256_update() - hash @len more bytes of @data: whole blocks straight
 * from @data, only a partial block through the context's buffer
 */
void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len)
{
	const uint8_t *p = data;

	ctx->total += len;
	if (ctx->fill) {
		size_t n = SHA256_BLOCK_LEN - ctx->fill;

		if (n > len)
			n = len;
		memcpy(ctx->block + ctx->fill, p, n);
		ctx->fill += n;
		p += n;
		len -= n;
		if (ctx->fill < SHA256_BLOCK_LEN)
			return;
		compress(ctx->h, ctx->block);
		ctx->fill = 0;
	}
	for (; len >= SHA256_BLOCK_LEN;
	     p += SHA256_BLOCK_LEN, len -= SHA256_BLOCK_LEN)
		compress(ctx->h, p);
	memcpy(ctx->block, p, len);
	ctx->fill = len;
}

/**
 * sha256_final() - pad (FIPS 180-4 5.1.1), write the digest, and wipe the
 * context
 */
void sha256_final(struct sha256_ctx *ctx, uint8_t digest[SHA256_DIGEST_LEN])
{
	uint64_t bits = ctx->total * 8;
	uint8_t pad[SHA256_BLOCK_LEN + 8] = {0x80};
	size_t padlen = (ctx->fill < 56 ? 56 : 120) - ctx->fill;

	for (unsigned int i = 0; i < 8; i++)
		pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
	sha256_update(ctx, pad, padlen + 8);
	for (size_t i = 0; i < 8; i++) {
		digest[4 * i] = (uint8_t)(ctx->h[i] >> 24);
		digest[4 * i + 1] = (uint8_t)(ctx->h[i] >> 16);
		digest[4 * i + 2] = (uint8_t)(ctx->h[i] >> 8);
		digest[4 * i + 3] = (uint8_t)ctx->h[i];
	}
	explicit_bzero(ctx, sizeof(*ctx));
}

/** sha256() - the digest of @len bytes at @data, in one call */
void sha256(const void *data, size_t len, uint8_t digest[SHA256_DIGEST_LEN])
{
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, data, len);
	sha256_final(&ctx, digest);
}

/**
 * hmac_sha256_init() - start an HMAC keyed by @key (RFC 2104 section 2:
 * a key longer than a block is hashed first, a shorter one zero-padded)
 * @ctx:	the HMAC
 * @key:	the key, any length
 * @keylen:	its length
 */
void hmac_sha256_init(struct hmac_sha256_ctx *ctx, const void *key,
		      size_t keylen)
{
	uint8_t k[SHA256_BLOCK_LEN] = {0}, ipad[SHA256_BLOCK_LEN];

	if (keylen > SHA256_BLOCK_LEN)
		sha256(key, keylen, k);
	else if (keylen)
		memcpy(k, key, keylen);
	for (unsigned int i = 0; i < SHA256_BLOCK_LEN; i++) {
		ipad[i] = k[i] ^ 0x36;
		ctx->opad[i] = k[i] ^ 0x5c;
	}
	sha256_init(&ctx->inner);
	sha256_update(&ctx->inner, ipad, sizeof(ipad));
	explicit_bzero(k, sizeof(k));
	explicit_bzero(ipad, sizeof(ipad));
}

/** hmac_sha256_update() - authenticate @len more bytes of @data */
void hmac_sha256_update(struct hmac_sha256_ctx *ctx, const void *data,
			size_t len)
{
	sha256_update(&ctx->inner, data, len);
}

/** hmac_sha256_final() - write the MAC and wipe the context */
void hmac_sha256_final(struct hmac_sha256_ctx *ctx,
		       uint8_t mac[SHA256_DIGEST_LEN])
{
	struct sha256_ctx outer;
	uint8_t ih[SHA256_DIGEST_LEN];

	sha256_final(&ctx->inner, ih);
	sha256_init(&outer);
	sha256_update(&outer, ctx->opad, sizeof(ctx->opad));
	sha256_update(&outer, ih, sizeof(ih));
	sha256_final(&outer, mac);
	explicit_bzero(ih, sizeof(ih));
	explicit_bzero(ctx, sizeof(*ctx));
}

/** hmac_sha256() - the MAC of @len bytes at @data under @key, in one call */
void hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		 uint8_t mac[SHA256_DIGEST_LEN])
{
	struct hmac_sha256_ctx ctx;

	hmac_sha256_init(&ctx, key, keylen);
	hmac_sha256_update(&ctx, data, len);
	hmac_sha256_final(&ctx, mac);
}

/**
 * ct_equal() - are @a and @b equal? in time that depends on @len only
 *
 * Return: true if the @len bytes are the same
 */
bool ct_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	volatile uint8_t diff = 0;

	for (size_t i = 0; i < len; i++)
		diff |= (uint8_t)(a[i] ^ b[i]);
	return diff == 0;
}
