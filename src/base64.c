/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * base64.c - RFC 4648 encoding and a strict decoder.
 *
 * The decoder takes only the canonical form: no whitespace, padding
 * exactly where the standard alphabet needs it and nowhere in the URL-safe
 * one, and zero bits in the unused tail of the last character. Two
 * spellings of one value would only make the handshake's "is this a
 * 16-byte key" check leakier.
 */
#include <string.h>

#include "base64.h"

static const char std_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * base64_encode() - encode @len bytes and NUL-terminate
 * @alpha:	BASE64_STD (padded) or BASE64_URL (unpadded)
 * @in:		the bytes
 * @len:	how many
 * @out:	where the text goes
 * @outcap:	its size, at least BASE64_*_LEN(@len) + 1
 *
 * Return: the length written without the NUL, or 0 if @outcap is too
 * small (then @out is untouched)
 */
size_t base64_encode(enum base64_alphabet alpha, const uint8_t *in, size_t len,
		     char *out, size_t outcap)
{
	const char *chars = alpha == BASE64_URL ? url_chars : std_chars;
	size_t need =
		alpha == BASE64_URL ? BASE64_URL_LEN(len) : BASE64_STD_LEN(len);
	size_t o = 0;

	if (outcap < need + 1)
		return 0;
	for (size_t i = 0; i < len; i += 3) {
		size_t left = len - i;
		uint32_t v = (uint32_t)in[i] << 16;

		if (left > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		out[o++] = chars[(v >> 18) & 63];
		out[o++] = chars[(v >> 12) & 63];
		if (left > 1)
			out[o++] = chars[(v >> 6) & 63];
		else if (alpha == BASE64_STD)
			out[o++] = '=';
		if (left > 2)
			out[o++] = chars[v & 63];
		else if (alpha == BASE64_STD)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

/* value() - a character's 6 bits, or -1 if it is not in the alphabet */
static int value(enum base64_alphabet alpha, char c)
{
	const char *chars = alpha == BASE64_URL ? url_chars : std_chars;
	const char *p;

	if (c == '\0')
		return -1;
	p = memchr(chars, c, 64);
	return p ? (int)(p - chars) : -1;
}

/**
 * base64_decode() - decode canonical base64 text
 * @alpha:	BASE64_STD (padding required) or BASE64_URL (none allowed)
 * @in:		the text, not necessarily NUL-terminated
 * @len:	its length
 * @out:	where the bytes go
 * @outcap:	its size
 *
 * Return: the number of bytes decoded, or -1 if @in is not canonical
 * base64 of that alphabet or does not fit in @outcap
 */
ssize_t base64_decode(enum base64_alphabet alpha, const char *in, size_t len,
		      uint8_t *out, size_t outcap)
{
	size_t pad = 0, o = 0, full;
	uint32_t acc = 0;
	unsigned int nchars = 0;

	if (alpha == BASE64_STD) {
		if (len % 4)
			return -1;
		while (pad < 2 && pad < len && in[len - 1 - pad] == '=')
			pad++;
	} else if (len % 4 == 1) {
		return -1;
	}
	full = len - pad;
	for (size_t i = 0; i < full; i++) {
		int v = value(alpha, in[i]);

		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		if (++nchars == 4) {
			if (o + 3 > outcap)
				return -1;
			out[o++] = (uint8_t)(acc >> 16);
			out[o++] = (uint8_t)(acc >> 8);
			out[o++] = (uint8_t)acc;
			acc = 0;
			nchars = 0;
		}
	}
	/* A tail of 2 or 3 characters carries 1 or 2 bytes; the bits left
	 * over must be zero in the canonical form. */
	if (nchars == 2) {
		if ((acc & 0xf) || o + 1 > outcap)
			return -1;
		out[o++] = (uint8_t)(acc >> 4);
	} else if (nchars == 3) {
		if ((acc & 0x3) || o + 2 > outcap)
			return -1;
		out[o++] = (uint8_t)(acc >> 10);
		out[o++] = (uint8_t)(acc >> 2);
	} else if (nchars == 1) {
		return -1;
	}
	/* Padding must be exactly what the tail needs. */
	if (alpha == BASE64_STD && pad != (nchars ? 4 - nchars : 0))
		return -1;
	return (ssize_t)o;
}
