/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * term_size.c - the size of the terminal the daemon runs in.
 *
 * The nested backend's guest console is this terminal, so the guest is
 * told its size: at start-up and, through SIGWINCH, after every change.
 */
#include <sys/ioctl.h>
#include <unistd.h>

#include "term_size.h"

/**
 * term_size_get() - the size of the terminal on stdin (or else stdout)
 *
 * Return: 0 with @cols and @rows set, -1 when neither is a terminal or
 * the terminal has no size (a pseudo-terminal nobody sized reads 0x0)
 */
int term_size_get(uint16_t *cols, uint16_t *rows)
{
	static const int fds[] = {STDIN_FILENO, STDOUT_FILENO};

	for (unsigned int i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		struct winsize ws;

		if (!isatty(fds[i]) || ioctl(fds[i], TIOCGWINSZ, &ws) < 0 ||
		    ws.ws_col == 0 || ws.ws_row == 0)
			continue;
		*cols = ws.ws_col;
		*rows = ws.ws_row;
		return 0;
	}
	return -1;
}
