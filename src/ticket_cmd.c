/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * ticket_cmd.c - the `ticket` subcommand: ask the running daemon for a
 * one-time web console ticket (web_ticket.h) and print it. A management
 * tool runs it for a user it has authenticated and sends the browser to
 * the console page with "#ticket=" and the ticket.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "options.h"
#include "status_cmd.h"
#include "web_ticket.h"

static const char ticket_usage[] =
	"Usage: " PROGRAM_NAME " ticket --socket-path=PATH --guest=I [--ttl=30s] [--watch]\n"
	"       " PROGRAM_NAME " ticket --control-socket=PATH --guest=I [--ttl=30s] [--watch]\n"
	"Print a one-time ticket for guest I's web console: good for one\n"
	"WebSocket session of that guest only, refused once used or after its\n"
	"time to live. Open the console page with #ticket=TICKET after its URL.\n"
	"\n"
	"  -s, --socket-path=PATH     the daemon's --socket-path: asks PATH.ctl\n"
	"      --control-socket=PATH  the daemon's --control-socket\n"
	"  -g, --guest=I              the guest (socket index)\n"
	"      --ttl=TIME             unused, it expires after TIME: seconds, or\n"
	"                             with s or m (default 30s, at most 10m)\n"
	"      --watch                watch-only: never the console's writer\n"
	"  -h, --help                 show this help and exit\n"
	"\n"
	"Exit status: 0 printed, 1 bad command line, 2 no daemon listens there,\n"
	"3 not allowed, 4 a bad or no answer.\n";

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, PROGRAM_NAME " ticket: %s%s%s; see --help\n",
		arg ? arg : "", arg ? ": " : "", what);
	return STATUS_EXIT_USAGE;
}

/**
 * ticket_cmd_main() - `vhost-device-console ticket ...`
 * @argc, @argv:	from "ticket" on
 *
 * Return: an &enum status_exit
 */
int ticket_cmd_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{"socket-path", required_argument, NULL, 's'},
		{"control-socket", required_argument, NULL, 'C'},
		{"guest", required_argument, NULL, 'g'},
		{"ttl", required_argument, NULL, 't'},
		{"watch", no_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *socket_path = NULL, *control = NULL, *guest = NULL;
	uint32_t ttl_ms = WEB_TICKET_TTL_MS;
	bool watch = false;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	char question[64], *end;
	unsigned long g = 0;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":s:g:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			socket_path = optarg;
			break;
		case 'C':
			control = optarg;
			break;
		case 'g':
			guest = optarg;
			g = strtoul(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end ||
			    g > 65535)
				return usage_error("not a guest index", optarg);
			break;
		case 't':
			if (web_ticket_parse_ttl(optarg, &ttl_ms) < 0)
				return usage_error("a TTL is 1s .. 10m (30, 30s, 2m)", optarg);
			break;
		case 'w':
			watch = true;
			break;
		case 'h':
			fputs(ticket_usage, stdout);
			return STATUS_EXIT_OK;
		case ':':
			return usage_error("needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	if (!socket_path == !control)
		return usage_error("give one of --socket-path and --control-socket", NULL);
	if (!guest)
		return usage_error("--guest=I is needed", NULL);
	if (control)
		snprintf(path, sizeof(path), "%s", control);
	else
		snprintf(path, sizeof(path), "%s.ctl", socket_path);
	snprintf(question, sizeof(question), "ticket guest=%lu ttl=%us%s\n", g,
		 (unsigned int)(ttl_ms / 1000), watch ? " watch" : "");
	return status_cmd_ask("ticket", path, question);
}
