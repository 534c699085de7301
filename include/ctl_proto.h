/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * ctl_proto.h - the control socket's protocol, without I/O: request lines
 * in, framed answers out, and the client's reading of an answer.
 *
 * A request is one line of words ("status json\n"); an answer is one
 * header line, "vdc-control/1 STATUS LENGTH\n", then LENGTH bytes of
 * body. A client may ask several questions on one connection; they are
 * answered in order. The grammar is in docs/control-socket.md.
 */
#ifndef VDC_CTL_PROTO_H
#define VDC_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "status_report.h"

#define CTL_PROTO_NAME	"vdc-control/1"
#define CTL_LINE_MAX	1024u /* a request line, with its newline */
#define CTL_HEADER_MAX	64u /* an answer's header line */
#define CTL_MAX_WORDS	8u

enum ctl_command {
	CTL_CMD_STATUS, /* "status": one line per guest */
	CTL_CMD_STATUS_JSON, /* "status json" */
	CTL_CMD_VERSION, /* "version" */
	CTL_CMD_HELP, /* "help": the commands */
	CTL_CMD_TICKET, /* "ticket guest=I [ttl=T] [watch]" */
};

/* Why a request was refused; each has a status word in the answer. */
enum ctl_error {
	CTL_ERR_NONE,
	CTL_ERR_UNKNOWN, /* "unknown-command" */
	CTL_ERR_BAD, /* "bad-request": arguments, characters */
	CTL_ERR_TOO_LONG, /* "line-too-long" (the connection then closes) */
	CTL_ERR_BUSY, /* "busy": no consistent answer could be made now */
};

struct ctl_request {
	enum ctl_command cmd;
	/* ticket: */
	unsigned int guest;
	uint32_t ttl_ms;
	bool watch_only;
};

ssize_t ctl_line_end(const char *buf, size_t len);
enum ctl_error ctl_parse(const char *line, size_t len, struct ctl_request *rq,
			 char *why, size_t whylen);
void ctl_answer(struct report_buf *out, enum ctl_error err, const char *body,
		size_t len);
const char *ctl_error_word(enum ctl_error err);
extern const char ctl_help_text[];

int ctl_parse_header(const char *line, size_t len, char *status,
		     size_t status_len, size_t *body_len);

#endif
