/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * status_cmd.h - `vhost-device-console status`: ask the running daemon
 * over its control socket and print the answer.
 */
#ifndef VDC_STATUS_CMD_H
#define VDC_STATUS_CMD_H

/* Exit codes of `status`, as the man page lists them. */
enum status_exit {
	STATUS_EXIT_OK = 0,
	STATUS_EXIT_USAGE = 1, /* bad command line */
	STATUS_EXIT_NO_DAEMON = 2, /* nothing listens on the control socket */
	STATUS_EXIT_DENIED = 3, /* the daemon (or the file's mode) refused */
	STATUS_EXIT_BAD_ANSWER = 4, /* no answer in time, or not one we read */
};

int status_cmd_main(int argc, char *argv[]);
int status_cmd_ask(const char *name, const char *path, char *question);
int ticket_cmd_main(int argc, char *argv[]);

#endif
