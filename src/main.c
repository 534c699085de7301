/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * main.c - vhost-device-console: parse the command line, then supervise;
 * or, with `status`, ask the daemon that runs.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "options.h"
#include "status_cmd.h"
#include "supervisor.h"

int main(int argc, char *argv[])
{
	struct options opts;

	/* A subcommand asks the running daemon; it starts nothing. */
	if (argc > 1 && strcmp(argv[1], "status") == 0)
		return status_cmd_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "ticket") == 0)
		return ticket_cmd_main(argc - 1, argv + 1);
	switch (options_parse(argc, argv, &opts)) {
	case OPTIONS_EXIT_OK:
		return EXIT_SUCCESS;
	case OPTIONS_EXIT_FAIL:
		return EXIT_FAILURE;
	case OPTIONS_RUN:
		break;
	}
	log_set_level(opts.log_level);
	log_open();
	return supervisor_run(&opts);
}
