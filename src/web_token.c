/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * web_token.c - load or create the web console's token file. The token is
 * the key of both sides' proofs (web_conn.h); it is never compared with
 * anything a client sends, and never sent.
 *
 * The file is opened without following symbolic links and checked through
 * the open fd (fstat), so what is checked is what is read. A missing file
 * is created with O_EXCL: if somebody creates one first, theirs is loaded
 * and checked like any other, never overwritten. Nothing here logs: the
 * caller logs the path (and whether the file was created), and no function
 * ever puts the token in an error message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "web_token.h"

/* token_char() - may @c appear in a token? hex and base64url text only */
static bool token_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	       (c >= 'a' && c <= 'z') || c == '-' || c == '_';
}

/**
 * web_token_generate() - a new random token, 256 bits as base64url
 * @tok:	filled in
 * @err:	why not, one line, on failure
 * @errlen:	its size
 *
 * Return: 0, or -1 if the kernel gave no random bytes
 */
int web_token_generate(struct web_token *tok, char *err, size_t errlen)
{
	uint8_t raw[WEB_TOKEN_RANDOM_BYTES];
	size_t got = 0;

	memset(tok, 0, sizeof(*tok));
	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "getrandom: %s", strerror(errno));
			return -1;
		}
		got += (size_t)n;
	}
	tok->len = base64_encode(BASE64_URL, raw, sizeof(raw), tok->text,
				 sizeof(tok->text));
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

/* check_file() - is the open token file one we may trust? */
static int check_file(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "web token file %s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen,
			 "web token file %s: is not a regular file", path);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen,
			 "web token file %s: is owned by uid %u, not by the daemon's user (uid %u)",
			 path, (unsigned int)st.st_uid,
			 (unsigned int)geteuid());
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen,
			 "web token file %s: group or others may access it (mode %04o); it must be 0600 or stricter",
			 path, (unsigned int)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* read_token() - read and validate the token text of an open file */
static int read_token(int fd, const char *path, struct web_token *tok,
		      char *err, size_t errlen)
{
	char buf[WEB_TOKEN_MAX_LEN + 3]; /* the token, "\r\n", one more */
	size_t len = 0;

	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "web token file %s: %s", path,
				 strerror(errno));
			return -1;
		}
		if (n == 0 || (len += (size_t)n) == sizeof(buf))
			break;
	}
	/* One line; the newline an editor adds is not part of the token. */
	if (len && buf[len - 1] == '\n')
		len--;
	if (len && buf[len - 1] == '\r')
		len--;
	if (len > WEB_TOKEN_MAX_LEN) {
		snprintf(err, errlen,
			 "web token file %s: the token is longer than %d characters",
			 path, WEB_TOKEN_MAX_LEN);
		goto fail;
	}
	for (size_t i = 0; i < len; i++) {
		if (!token_char(buf[i])) {
			snprintf(err, errlen,
				 "web token file %s: the token may only hold the characters 0-9 A-Z a-z - _ on one line",
				 path);
			goto fail;
		}
	}
	if (len < WEB_TOKEN_MIN_LEN) {
		snprintf(err, errlen,
			 "web token file %s: the token has %zu characters; it needs at least %d",
			 path, len, WEB_TOKEN_MIN_LEN);
		goto fail;
	}
	memcpy(tok->text, buf, len);
	tok->text[len] = '\0';
	tok->len = len;
	explicit_bzero(buf, sizeof(buf));
	return 0;
fail:
	explicit_bzero(buf, sizeof(buf));
	return -1;
}

/* create_file() - write a new token to a new file; -1 with errno EEXIST
 * if somebody else's file appeared first */
static int create_file(const char *path, struct web_token *tok, char *err,
		       size_t errlen)
{
	char line[WEB_TOKEN_MAX_LEN + 2];
	size_t len;
	int fd;

	if (web_token_generate(tok, err, errlen) < 0)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		int e = errno;

		if (e != EEXIST)
			snprintf(err, errlen,
				 "web token file %s: cannot create it: %s",
				 path, strerror(e));
		web_token_wipe(tok);
		errno = e;
		return -1;
	}
	len = (size_t)snprintf(line, sizeof(line), "%s\n", tok->text);
	/* The umask may have taken bits away; it must not leave the
	 * owner unable to read the file next time. */
	if (fchmod(fd, 0600) < 0 || write(fd, line, len) != (ssize_t)len ||
	    fsync(fd) < 0) {
		snprintf(err, errlen, "web token file %s: cannot write it: %s",
			 path, strerror(errno));
		explicit_bzero(line, sizeof(line));
		close(fd);
		unlink(path);
		web_token_wipe(tok);
		errno = EIO;
		return -1;
	}
	explicit_bzero(line, sizeof(line));
	close(fd);
	return 0;
}

/**
 * web_token_load() - the token in @path, created there if missing
 * @path:	the token file
 * @tok:	the token, on success
 * @created:	set to whether this call created the file
 * @err:	why not, one line naming the file, on failure
 * @errlen:	its size
 *
 * Return: 0, or -1 with @err filled
 */
int web_token_load(const char *path, struct web_token *tok, bool *created,
		   char *err, size_t errlen)
{
	int fd, ret;

	*created = false;
	memset(tok, 0, sizeof(*tok));
	/* Two rounds at most: a file that appears between our open and
	 * our create is somebody else's, and is checked like any other. */
	for (int round = 0; round < 2; round++) {
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0)
			break;
		if (errno == ELOOP) {
			snprintf(err, errlen,
				 "web token file %s: is a symbolic link; give the file itself",
				 path);
			return -1;
		}
		if (errno != ENOENT) {
			snprintf(err, errlen, "web token file %s: %s", path,
				 strerror(errno));
			return -1;
		}
		if (create_file(path, tok, err, errlen) == 0) {
			*created = true;
			return 0;
		}
		if (errno != EEXIST)
			return -1;
	}
	if (fd < 0) {
		snprintf(err, errlen,
			 "web token file %s: appears and disappears", path);
		return -1;
	}
	ret = check_file(fd, path, err, errlen);
	if (ret == 0)
		ret = read_token(fd, path, tok, err, errlen);
	close(fd);
	return ret;
}

/** web_token_wipe() - forget the token */
void web_token_wipe(struct web_token *tok)
{
	explicit_bzero(tok, sizeof(*tok));
}
