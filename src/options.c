/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * options.c - parse and validate the command line.
 *
 * Every rejection is one line on stderr that names the option and the
 * reason; the caller turns OPTIONS_EXIT_FAIL into exit status 1.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "options.h"
#include "sd_listen.h"
#include "version.h"

enum {
	OPT_UDS_PATH = 256,
	OPT_PRINT_CAPABILITIES,
	OPT_FD,
	OPT_LOG_LEVEL,
	OPT_OUTPUT_BUFFER,
	OPT_PORT,
	OPT_MAX_CLIENTS,
	OPT_CONSOLE_LOG,
	OPT_WEB_PORT,
	OPT_WEB_TOKEN_FILE,
	OPT_WEB_ORIGIN,
	OPT_WEB_FRAME_ANCESTORS,
	OPT_CONSOLE_LOG_TIMESTAMPS,
	OPT_CONSOLE_SIZE,
	OPT_CONSOLE_SIZE_ORDER,
	OPT_CONTROL_SOCKET,
	OPT_METRICS_PORT,
	OPT_CONSOLE_LOG_FORMAT,
	OPT_ALLOW_USER,
	OPT_ALLOW_GROUP,
	OPT_SOCKET_GROUP,
};

static const struct option long_options[] = {
	{"socket-path", required_argument, NULL, 's'},
	{"socket-count", required_argument, NULL, 'c'},
	{"backend", required_argument, NULL, 'b'},
	{"tcp-port", required_argument, NULL, 'p'},
	{"uds-path", required_argument, NULL, OPT_UDS_PATH},
	{"max-queue-size", required_argument, NULL, 'q'},
	{"output-buffer", required_argument, NULL, OPT_OUTPUT_BUFFER},
	{"console-size", required_argument, NULL, OPT_CONSOLE_SIZE},
	{"console-size-order", required_argument, NULL, OPT_CONSOLE_SIZE_ORDER},
	{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	{"print-capabilities", no_argument, NULL, OPT_PRINT_CAPABILITIES},
	{"fd", required_argument, NULL, OPT_FD},
	{"port", required_argument, NULL, OPT_PORT},
	{"max-clients", required_argument, NULL, OPT_MAX_CLIENTS},
	{"console-log", required_argument, NULL, OPT_CONSOLE_LOG},
	{"web-port", required_argument, NULL, OPT_WEB_PORT},
	{"web-token-file", required_argument, NULL, OPT_WEB_TOKEN_FILE},
	{"web-origin", required_argument, NULL, OPT_WEB_ORIGIN},
	{"web-frame-ancestors", required_argument, NULL, OPT_WEB_FRAME_ANCESTORS},
	{"console-log-timestamps", no_argument, NULL,
	 OPT_CONSOLE_LOG_TIMESTAMPS},
	{"control-socket", required_argument, NULL, OPT_CONTROL_SOCKET},
	{"metrics-port", required_argument, NULL, OPT_METRICS_PORT},
	{"console-log-format", required_argument, NULL, OPT_CONSOLE_LOG_FORMAT},
	{"allow-user", required_argument, NULL, OPT_ALLOW_USER},
	{"allow-group", required_argument, NULL, OPT_ALLOW_GROUP},
	{"socket-group", required_argument, NULL, OPT_SOCKET_GROUP},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

static const char usage_text[] =
	"Usage: " PROGRAM_NAME " --socket-path=PATH [OPTION]...\n"
	"       " PROGRAM_NAME " status --socket-path=PATH [--json]\n"
	"       " PROGRAM_NAME " ticket --socket-path=PATH --guest=I [--ttl=30s] [--watch]\n"
	"vhost-user backend that emulates a VirtIO console device (virtio id 3)\n"
	"and hands each guest's console to the host: this terminal, a TCP port\n"
	"or a unix socket.\n"
	"\n"
	"  -s, --socket-path=PATH    vhost-user socket; with --socket-count=N the\n"
	"                            daemon listens on PATH0 .. PATH<N-1>\n"
	"  -c, --socket-count=N      number of guests served, one worker each\n"
	"                            (default 1)\n"
	"  -b, --backend=KIND        nested (this terminal; socket count 1),\n"
	"                            network (TCP on 127.0.0.1) or uds (unix\n"
	"                            socket); default nested\n"
	"  -p, --tcp-port=PORT       network: guest i is on port PORT+i\n"
	"                            (default 12345)\n"
	"      --uds-path=PATH       uds, required: guest i is on socket PATH+i\n"
	"  -q, --max-queue-size=N    largest virtqueue a frontend may set up; a\n"
	"                            power of two from 1 to 32768 (default 128;\n"
	"                            User Mode Linux needs 256)\n"
	"      --output-buffer=SIZE  guest output kept while the client is slow\n"
	"                            or absent, in bytes or with a K or M suffix;\n"
	"                            4K to 1024M (default 1M)\n"
	"      --console-size=COLSxROWS\n"
	"                            network and uds: the console size the guest\n"
	"                            is told (each 1 to 65535, e.g. 132x43);\n"
	"                            without it the guest is told no size\n"
	"      --console-size-order=ORDER\n"
	"                            spec (default) or rows-first: the order of\n"
	"                            the two numbers in the resize message;\n"
	"                            rows-first for Linux guests older than 6.15\n"
	"                            without the stable fix (cols and rows swap)\n"
	"      --log-level=LEVEL     error, warn, info, debug or trace\n"
	"                            (default info); logs go to stderr\n"
	"      --console-log=PATH    append guest i's console output to the file\n"
	"                            PATH+i (mode 0600); SIGUSR1 reopens it\n"
	"      --console-log-timestamps\n"
	"                            start each line of the console log with the\n"
	"                            time (UTC) its first byte came\n"
	"      --console-log-format=FORMAT\n"
	"                            raw (default: the bytes as they came) or\n"
	"                            asciicast (a v2 recording asciinema plays:\n"
	"                            the console's size, the time of each batch\n"
	"                            of output, resizes; bytes that are not UTF-8\n"
	"                            as U+FFFD); not with --console-log-timestamps\n"
	"      --web-port=PORT       the console in a browser: guest i at\n"
	"                            http://127.0.0.1:PORT+i/ (loopback only),\n"
	"                            behind the token of --web-token-file\n"
	"      --web-token-file=PATH the web console's secret token (mode 0600;\n"
	"                            created at start if missing); default\n"
	"                            --socket-path with .web-token appended\n"
	"      --web-origin=URL      a public origin (a reverse proxy's,\n"
	"                            https://vmm.example.com) whose Host and\n"
	"                            Origin the web console accepts besides its\n"
	"                            loopback address; repeatable (8)\n"
	"      --web-frame-ancestors=URL  an origin whose pages may frame the\n"
	"                            console (CSP frame-ancestors); repeatable\n"
	"                            (8); without it, framing is refused\n"
	"      --max-clients=N       network and uds: clients of a console at once,\n"
	"                            the writer and its watchers; 1 to 64\n"
	"                            (default 8)\n"
	"      --port=NAME:PATH      one more port of the device, named NAME in the\n"
	"                            guest (/dev/virtio-ports/NAME), served on the\n"
	"                            unix socket PATH+i; repeatable, up to 31;\n"
	"                            unique, and not vhost-device-console.i\n"
	"                            (the console's name)\n"
	"      --allow-user=USER     a user (name or uid) who may use the consoles\n"
	"                            and ports besides root and the daemon's own\n"
	"                            user; repeatable\n"
	"      --allow-group=GROUP   the same for the members of a group (name or\n"
	"                            gid; read at start); repeatable; the unix\n"
	"                            console and port sockets are then mode 0660\n"
	"                            and belong to the first such group\n"
	"      --socket-group=GROUP  the vhost-user sockets are mode 0660 and\n"
	"                            belong to GROUP, for a VMM run as another\n"
	"                            user (default: mode from the umask)\n"
	"      --fd=FD               serve the listening unix socket FD instead\n"
	"                            of --socket-path (one guest)\n"
	"      --control-socket=PATH where `status` asks (mode 0600, 0660 with\n"
	"                            --allow-group); default --socket-path with\n"
	"                            .ctl appended; with --fd none unless given\n"
	"      --metrics-port=PORT   Prometheus metrics of every guest at\n"
	"                            http://127.0.0.1:PORT/metrics (loopback only)\n"
	"      --print-capabilities  print the backend's capabilities as JSON\n"
	"                            and exit\n"
	"  -h, --help                show this help and exit\n"
	"  -V, --version             show the version and exit\n"
	"\n"
	"Nested backend: the terminal is in raw mode and every key goes to the\n"
	"guest. The escape key is Ctrl-a: Ctrl-a x quits, Ctrl-a Ctrl-a sends a\n"
	"literal Ctrl-a to the guest. The guest is told this terminal's size,\n"
	"and every change of it at once.\n"
	"Network and uds backends: the first client types (the writer), the\n"
	"others watch; when the writer leaves, the longest-connected watcher\n"
	"types. Guest output waits in the output buffer while no client is\n"
	"connected and goes to the next one.\n"
	"\n"
	"Under systemd (Type=notify; sockets passed by a socket unit, named\n"
	"vhost-user.I, console.I, web.I or port.NAME.I), --socket-path is not\n"
	"needed; see SYSTEMD in vhost-device-console(1).\n"
	"\n"
	"Exit status: 0 on a signal or a requested quit, 1 on a bad command line\n"
	"or a failure to start.\n"
	"\n"
	"status asks the running daemon, over its control socket, and prints one\n"
	"line per guest (--json: one JSON object): frontend attached and since\n"
	"when, console open, the writer and watchers with their peer uid and\n"
	"address, bytes out, in and dropped, the console log and its errors,\n"
	"worker restarts, version. -s/--socket-path=PATH asks PATH.ctl;\n"
	"--control-socket=PATH asks PATH. Exit status: 0 answered, 1 bad command\n"
	"line, 2 no daemon listens there, 3 not allowed, 4 a bad or no answer.\n"
	"\n"
	"ticket asks the running daemon the same way for a one-time web console\n"
	"ticket and prints it: good for one WebSocket session of guest I only,\n"
	"expiring after --ttl if unused (seconds, or with s or m; default 30s, at\n"
	"most 10m); --watch: watch-only, never the writer. A management tool\n"
	"opens the console page with #ticket=TICKET after its URL. Same exit\n"
	"status as status.\n"
	"See vhost-device-console(1) for more.\n";

static const char capabilities_json[] = "{\n  \"type\": \"console\"\n}\n";

const char *backend_name(enum backend_kind kind)
{
	switch (kind) {
	case BACKEND_NESTED:
		return "nested";
	case BACKEND_NETWORK:
		return "network";
	case BACKEND_UDS:
		return "uds";
	}
	return "?";
}

static void __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	fputs(PROGRAM_NAME ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
}

/*
 * parse_number() - a decimal number from @min to @max, nothing else
 *
 * strtoull() alone accepts leading blanks, signs ("-1" wraps) and trailing
 * junk; a console daemon given "--socket-count=3x" should say so.
 */
static bool parse_number(const char *opt, const char *arg, uint64_t min,
			 uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (arg[0] < '0' || arg[0] > '9') {
		fail("%s: '%s' is not a number", opt, arg);
		return false;
	}
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (*end != '\0') {
		fail("%s: '%s' is not a number", opt, arg);
		return false;
	}
	if (errno == ERANGE || v < min || v > max) {
		fail("%s: %s is out of range (%" PRIu64 " to %" PRIu64 ")", opt,
		     arg, min, max);
		return false;
	}
	*out = v;
	return true;
}

/* parse_size() - like parse_number(), with an optional K or M suffix */
static bool parse_size(const char *opt, const char *arg, uint64_t min,
		       uint64_t max, uint64_t *out)
{
	char digits[32];
	size_t len = strlen(arg);
	unsigned int shift = 0;
	uint64_t v;

	if (len > 0 && (arg[len - 1] == 'K' || arg[len - 1] == 'k'))
		shift = 10;
	else if (len > 0 && (arg[len - 1] == 'M' || arg[len - 1] == 'm'))
		shift = 20;
	if (shift) {
		if (len >= sizeof(digits)) {
			fail("%s: '%s' is not a size", opt, arg);
			return false;
		}
		memcpy(digits, arg, len - 1);
		digits[len - 1] = '\0';
		arg = digits;
	}
	if (!parse_number(opt, arg, 0, max >> shift, &v))
		return false;
	v <<= shift;
	if (v < min) {
		fail("%s: %" PRIu64 " bytes is too small (at least %" PRIu64
		     ")",
		     opt, v, min);
		return false;
	}
	*out = v;
	return true;
}

static unsigned int decimal_digits(unsigned int v)
{
	unsigned int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/*
 * check_suffixed_path() - PATH plus the largest index must fit sun_path
 *
 * A unix socket address holds 107 bytes and a NUL; a longer name would be
 * cut silently by bind(2) in some libcs, so refuse it up front.
 */
static bool check_suffixed_path(const char *opt, const char *path,
				unsigned int count)
{
	size_t len = strlen(path);
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;

	if (len == 0) {
		fail("%s: the path is empty", opt);
		return false;
	}
	if (path[len - 1] == '/') {
		fail("%s: '%s' ends in '/'; it names a socket file, and the "
		     "index is appended to it",
		     opt, path);
		return false;
	}
	if (len + decimal_digits(count - 1) > max) {
		fail("%s: '%s' with its index suffix is longer than a unix "
		     "socket address can hold (%zu bytes)",
		     opt, path, max);
		return false;
	}
	return true;
}

/*
 * size_part() - the decimal number at @p, which must end at @stop; *@next
 * is where it ended; a number too big for 64 bits reads UINT64_MAX
 */
static bool size_part(const char *p, char stop, const char **next, uint64_t *v)
{
	char *end;

	if (*p < '0' || *p > '9')
		return false;
	errno = 0;
	*v = strtoull(p, &end, 10);
	if (*end != stop)
		return false;
	if (errno == ERANGE)
		*v = UINT64_MAX;
	*next = end;
	return true;
}

/*
 * parse_console_size() - "COLSxROWS", each a decimal number from 1 to 65535
 * (what a terminal's and the virtio console's 16-bit fields can hold)
 */
static bool parse_console_size(const char *arg, uint16_t *cols, uint16_t *rows)
{
	const char *next = arg;
	uint64_t c = 0, r = 0;

	if (!size_part(arg, 'x', &next, &c) ||
	    !size_part(next + 1, '\0', &next, &r)) {
		fail("--console-size: '%s' is not COLSxROWS (for example 80x24)",
		     arg);
		return false;
	}
	if (c < 1 || c > UINT16_MAX || r < 1 || r > UINT16_MAX) {
		fail("--console-size: %s: columns and rows must each be 1 to 65535",
		     arg);
		return false;
	}
	*cols = (uint16_t)c;
	*rows = (uint16_t)r;
	return true;
}

/* parse_size_order() - --console-size-order: spec or rows-first */
static bool parse_size_order(const char *arg, enum console_size_order *order)
{
	if (strcmp(arg, "spec") == 0)
		*order = CONSOLE_SIZE_ORDER_SPEC;
	else if (strcmp(arg, "rows-first") == 0)
		*order = CONSOLE_SIZE_ORDER_ROWS_FIRST;
	else {
		fail("--console-size-order: unknown order '%s' (spec or rows-first)",
		     arg);
		return false;
	}
	return true;
}

/* parse_log_format() - --console-log-format: raw or asciicast */
static bool parse_log_format(const char *arg, enum console_log_format *format)
{
	if (strcmp(arg, "raw") == 0)
		*format = CONSOLE_LOG_RAW;
	else if (strcmp(arg, "asciicast") == 0)
		*format = CONSOLE_LOG_ASCIICAST;
	else {
		fail("--console-log-format: unknown format '%s' (raw or asciicast)",
		     arg);
		return false;
	}
	return true;
}

static bool parse_backend(const char *arg, enum backend_kind *kind)
{
	if (strcmp(arg, "nested") == 0)
		*kind = BACKEND_NESTED;
	else if (strcmp(arg, "network") == 0)
		*kind = BACKEND_NETWORK;
	else if (strcmp(arg, "uds") == 0)
		*kind = BACKEND_UDS;
	else {
		fail("--backend: unknown backend '%s' (nested, network or uds)",
		     arg);
		return false;
	}
	return true;
}

/*
 * parse_port() - --port=NAME:PATH, NAME as the guest will see it
 *
 * The guest's udev makes /dev/virtio-ports/NAME of it, so a name must be a
 * usable file name: printable, no '/', and unique; ':' ends it.
 */
static bool parse_port(const char *arg, struct options *o)
{
	const char *colon = strchr(arg, ':');
	struct port_option *p;
	size_t len;

	if (o->port_count == MAX_EXTRA_PORTS) {
		fail("--port: at most %u ports besides the console", MAX_EXTRA_PORTS);
		return false;
	}
	if (!colon || colon == arg || colon[1] == '\0') {
		fail("--port: '%s' is not NAME:PATH", arg);
		return false;
	}
	len = (size_t)(colon - arg);
	if (len > PORT_NAME_MAX) {
		fail("--port: the name '%.*s' is longer than %u bytes", (int)len, arg, PORT_NAME_MAX);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (arg[i] <= ' ' || arg[i] > '~' || arg[i] == '/') {
			fail("--port: the name '%.*s' may hold only printable characters other than blank and '/'", (int)len, arg);
			return false;
		}
	}
	p = &o->ports[o->port_count];
	memcpy(p->name, arg, len);
	p->name[len] = '\0';
	for (unsigned int i = 0; i < o->port_count; i++) {
		if (strcmp(o->ports[i].name, p->name) == 0) {
			fail("--port: the name '%s' is given twice", p->name);
			return false;
		}
	}
	p->path = colon + 1;
	o->port_count++;
	return true;
}

/*
 * is_console_name() - is @name the console's name in one of @count guests
 * (CONSOLE_NAME_FORMAT)? Then that guest's index is in @guest.
 */
static bool is_console_name(const char *name, unsigned int count,
			    unsigned int *guest)
{
	char console[PORT_NAME_MAX + 1];
	unsigned long i;
	char *end;

	if (strncmp(name, PROGRAM_NAME ".", strlen(PROGRAM_NAME ".")) != 0)
		return false;
	i = strtoul(name + strlen(PROGRAM_NAME "."), &end, 10);
	if (*end || i >= count)
		return false;
	/* Not an other spelling of the number ("+1", "01"). */
	snprintf(console, sizeof(console), CONSOLE_NAME_FORMAT, (unsigned int)i);
	*guest = (unsigned int)i;
	return strcmp(console, name) == 0;
}

/* --allow-user, --allow-group, --socket-group: a name must exist now. */
static bool parse_access(int opt, const char *arg, struct options *o)
{
	char err[160];
	int r;

	if (opt == OPT_ALLOW_USER)
		r = peer_policy_add_user(&o->access, arg, err, sizeof(err));
	else if (opt == OPT_ALLOW_GROUP)
		r = peer_policy_add_group(&o->access, arg, err, sizeof(err));
	else
		r = peer_parse_group(arg, &o->socket_group, err, sizeof(err));
	if (r < 0) {
		fail("--%s: %s",
		     opt == OPT_ALLOW_USER    ? "allow-user"
		     : opt == OPT_ALLOW_GROUP ? "allow-group"
					      : "socket-group",
		     err);
		return false;
	}
	o->socket_group_set |= opt == OPT_SOCKET_GROUP;
	return true;
}

/* What was given explicitly, so that cross-option rules can be checked. */
struct given {
	bool count, tcp_port, fd, max_clients, log_format;
};

/* --console-log-format: with a log; an asciicast times every event
 * itself, so a time at each line start would only break its JSON. */
static bool check_log_format(const struct options *o, const struct given *g)
{
	if (g->log_format && !o->console_log) {
		fail("--console-log-format: needs --console-log");
		return false;
	}
	if (o->console_log_format == CONSOLE_LOG_ASCIICAST &&
	    o->console_log_timestamps) {
		fail("--console-log-timestamps: only with --console-log-format=raw (an asciicast recording times each event itself)");
		return false;
	}
	return true;
}

static bool validate(const struct options *o, const struct given *g)
{
	if (g->fd && o->socket_path) {
		fail("--fd: cannot be combined with --socket-path");
		return false;
	}
	if (g->fd && o->socket_count != 1) {
		fail("--fd: serves one socket; --socket-count must be 1");
		return false;
	}
	/* Socket activation: systemd passes the vhost-user sockets. */
	if (!g->fd && !o->socket_path && !sd_listen_passed()) {
		fail("--socket-path: is required (or --fd, or sockets from systemd)");
		return false;
	}
	if (o->socket_path &&
	    !check_suffixed_path("--socket-path", o->socket_path,
				 o->socket_count))
		return false;
	if (o->backend == BACKEND_NESTED && o->socket_count > 1) {
		fail("--backend: nested uses this terminal, so it serves one "
		     "socket; use network or uds with --socket-count=%u",
		     o->socket_count);
		return false;
	}
	if (g->tcp_port && o->backend != BACKEND_NETWORK) {
		fail("--tcp-port: only the network backend uses it (backend "
		     "is %s)",
		     backend_name(o->backend));
		return false;
	}
	if (o->backend == BACKEND_NETWORK &&
	    (uint32_t)o->tcp_port + o->socket_count - 1 > 65535) {
		fail("--tcp-port: ports %u to %u run past 65535",
		     (unsigned int)o->tcp_port,
		     (unsigned int)o->tcp_port + o->socket_count - 1);
		return false;
	}
	if (g->max_clients && o->backend == BACKEND_NESTED && !o->web_port) {
		fail("--max-clients: the nested backend has one client, this terminal (browsers with --web-port may watch beside it)");
		return false;
	}
	if (o->web_port &&
	    (uint32_t)o->web_port + o->socket_count - 1 > 65535) {
		fail("--web-port: ports %u to %u run past 65535",
		     (unsigned int)o->web_port,
		     (unsigned int)o->web_port + o->socket_count - 1);
		return false;
	}
	if ((o->web_origins.n || o->web_frame_ancestors.n) && !o->web_port) {
		fail("--web-origin, --web-frame-ancestors: only the web console uses them (--web-port)");
		return false;
	}
	if (o->web_token_file && !o->web_port) {
		fail("--web-token-file: only the web console uses it (--web-port)");
		return false;
	}
	if (o->web_port && !o->web_token_file && !o->socket_path) {
		fail("--web-token-file: is required with --web-port and no --socket-path");
		return false;
	}
	if (o->uds_path && o->backend != BACKEND_UDS) {
		fail("--uds-path: only the uds backend uses it (backend is %s)",
		     backend_name(o->backend));
		return false;
	}
	if (o->backend == BACKEND_UDS && !o->uds_path) {
		fail("--uds-path: is required with --backend=uds");
		return false;
	}
	if (o->uds_path &&
	    !check_suffixed_path("--uds-path", o->uds_path, o->socket_count))
		return false;
	if (o->console_log_timestamps && !o->console_log) {
		fail("--console-log-timestamps: needs --console-log");
		return false;
	}
	if (!check_log_format(o, g))
		return false;
	if (o->console_log &&
	    (o->console_log[0] == '\0' ||
	     o->console_log[strlen(o->console_log) - 1] == '/')) {
		fail("--console-log: '%s' does not name a file; the index is appended to it", o->console_log);
		return false;
	}
	for (unsigned int i = 0; i < o->port_count; i++) {
		const char *path = o->ports[i].path;
		unsigned int guest;

		if (is_console_name(o->ports[i].name, o->socket_count, &guest)) {
			fail("--port: the name '%s' is the console's (guest %u)", o->ports[i].name, guest);
			return false;
		}

		if (!check_suffixed_path("--port", path, o->socket_count))
			return false;
		if ((o->uds_path && strcmp(path, o->uds_path) == 0) ||
		    (o->socket_path && strcmp(path, o->socket_path) == 0)) {
			fail("--port: '%s' is already the path of another socket", path);
			return false;
		}
		for (unsigned int j = 0; j < i; j++) {
			if (strcmp(path, o->ports[j].path) == 0) {
				fail("--port: '%s' is the path of two ports", path);
				return false;
			}
		}
	}
	if (o->control_socket && !check_suffixed_path("--control-socket",
						      o->control_socket, 1))
		return false;
	if (o->metrics_port && o->web_port &&
	    o->metrics_port >= o->web_port &&
	    o->metrics_port < (uint32_t)o->web_port + o->socket_count) {
		fail("--metrics-port: %u is one of --web-port's ports",
		     (unsigned int)o->metrics_port);
		return false;
	}
	if (o->metrics_port && o->backend == BACKEND_NETWORK &&
	    o->metrics_port >= o->tcp_port &&
	    o->metrics_port < (uint32_t)o->tcp_port + o->socket_count) {
		fail("--metrics-port: %u is one of --tcp-port's ports",
		     (unsigned int)o->metrics_port);
		return false;
	}
	if (o->socket_group_set && !o->socket_path) {
		fail("--socket-group: the socket of --fd is made by whoever passes it; set its group there");
		return false;
	}
	if (o->console_cols && o->backend == BACKEND_NESTED) {
		fail("--console-size: the nested backend tells the guest this terminal's size; use it with network or uds");
		return false;
	}
	return true;
}

/* The groups' members, read once here: no door looks them up later. */
static bool resolve_access(struct options *o)
{
	char err[160];

	if (peer_policy_resolve(&o->access, err, sizeof(err)) < 0) {
		fail("%s", err);
		return false;
	}
	return true;
}

static void set_defaults(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->socket_count = DEFAULT_SOCKET_COUNT;
	o->backend = BACKEND_NESTED;
	o->tcp_port = DEFAULT_TCP_PORT;
	o->max_queue_size = DEFAULT_MAX_QUEUE_SIZE;
	o->output_buffer = DEFAULT_OUTPUT_BUFFER;
	o->listen_fd = -1;
	o->log_level = LOG_LEVEL_INFO;
	o->max_clients = DEFAULT_MAX_CLIENTS;
}

/**
 * options_parse() - fill @opts from the command line
 * @argc, @argv:	as given to main()
 * @opts:		the result
 *
 * Return: what the caller should do next; on OPTIONS_EXIT_FAIL one line
 * naming the option and the reason has been written to stderr.
 */
enum options_result options_parse(int argc, char *argv[], struct options *opts)
{
	struct given given = {0};
	bool print_capabilities = false;
	uint64_t v;
	int c;

	set_defaults(opts);
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":s:c:b:p:q:hV", long_options,
				NULL)) != -1) {
		switch (c) {
		case 's':
			opts->socket_path = optarg;
			break;
		case 'c':
			if (!parse_number("--socket-count", optarg, 1,
					  UINT32_MAX, &v))
				return OPTIONS_EXIT_FAIL;
			opts->socket_count = (unsigned int)v;
			given.count = true;
			break;
		case 'b':
			if (!parse_backend(optarg, &opts->backend))
				return OPTIONS_EXIT_FAIL;
			break;
		case 'p':
			if (!parse_number("--tcp-port", optarg, 1, 65535, &v))
				return OPTIONS_EXIT_FAIL;
			opts->tcp_port = (uint16_t)v;
			given.tcp_port = true;
			break;
		case OPT_UDS_PATH:
			opts->uds_path = optarg;
			break;
		case 'q':
			if (!parse_number("--max-queue-size", optarg, 1,
					  MAX_QUEUE_SIZE_LIMIT, &v))
				return OPTIONS_EXIT_FAIL;
			if (v & (v - 1)) {
				fail("--max-queue-size: %s is not a power of "
				     "two",
				     optarg);
				return OPTIONS_EXIT_FAIL;
			}
			opts->max_queue_size = (uint32_t)v;
			break;
		case OPT_OUTPUT_BUFFER:
			if (!parse_size("--output-buffer", optarg,
					MIN_OUTPUT_BUFFER, MAX_OUTPUT_BUFFER,
					&v))
				return OPTIONS_EXIT_FAIL;
			opts->output_buffer = (size_t)v;
			break;
		case OPT_CONSOLE_SIZE:
			if (!parse_console_size(optarg, &opts->console_cols,
						&opts->console_rows))
				return OPTIONS_EXIT_FAIL;
			break;
		case OPT_CONSOLE_SIZE_ORDER:
			if (!parse_size_order(optarg,
					      &opts->console_size_order))
				return OPTIONS_EXIT_FAIL;
			break;
		case OPT_LOG_LEVEL:
			if (!log_level_parse(optarg, &opts->log_level)) {
				fail("--log-level: unknown level '%s' (error, "
				     "warn, info, debug or trace)",
				     optarg);
				return OPTIONS_EXIT_FAIL;
			}
			break;
		case OPT_FD:
			if (!parse_number("--fd", optarg, 0, INT32_MAX, &v))
				return OPTIONS_EXIT_FAIL;
			opts->listen_fd = (int)v;
			given.fd = true;
			break;
		case OPT_CONSOLE_LOG:
			opts->console_log = optarg;
			break;
		case OPT_CONSOLE_LOG_TIMESTAMPS:
			opts->console_log_timestamps = true;
			break;
		case OPT_CONSOLE_LOG_FORMAT:
			if (!parse_log_format(optarg, &opts->console_log_format))
				return OPTIONS_EXIT_FAIL;
			given.log_format = true;
			break;
		case OPT_WEB_PORT:
			if (!parse_number("--web-port", optarg, 1, 65535, &v))
				return OPTIONS_EXIT_FAIL;
			opts->web_port = (uint16_t)v;
			break;
		case OPT_WEB_TOKEN_FILE:
			opts->web_token_file = optarg;
			break;
		case OPT_WEB_ORIGIN:
		case OPT_WEB_FRAME_ANCESTORS: {
			char why[200];

			if (web_origin_add(c == OPT_WEB_ORIGIN
						   ? &opts->web_origins
						   : &opts->web_frame_ancestors,
					   optarg, why, sizeof(why)) < 0) {
				fail("--%s: %s", c == OPT_WEB_ORIGIN
						 ? "web-origin"
						 : "web-frame-ancestors", why);
				return OPTIONS_EXIT_FAIL;
			}
			break;
		}
		case OPT_MAX_CLIENTS:
			if (!parse_number("--max-clients", optarg, 1,
					  MAX_CLIENTS_LIMIT, &v))
				return OPTIONS_EXIT_FAIL;
			opts->max_clients = (unsigned int)v;
			given.max_clients = true;
			break;
		case OPT_CONTROL_SOCKET:
			opts->control_socket = optarg;
			break;
		case OPT_METRICS_PORT:
			if (!parse_number("--metrics-port", optarg, 1, 65535,
					  &v))
				return OPTIONS_EXIT_FAIL;
			opts->metrics_port = (uint16_t)v;
			break;
		case OPT_PORT:
			if (!parse_port(optarg, opts))
				return OPTIONS_EXIT_FAIL;
			break;
		case OPT_ALLOW_USER:
		case OPT_ALLOW_GROUP:
		case OPT_SOCKET_GROUP:
			if (!parse_access(c, optarg, opts))
				return OPTIONS_EXIT_FAIL;
			break;
		case OPT_PRINT_CAPABILITIES:
			print_capabilities = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return OPTIONS_EXIT_OK;
		case 'V':
			printf("%s %s\n", PROGRAM_NAME, program_version);
			return OPTIONS_EXIT_OK;
		case ':':
			fail("%s: needs a value", argv[optind - 1]);
			return OPTIONS_EXIT_FAIL;
		default:
			fail("%s: unknown option; see --help",
			     argv[optind - 1]);
			return OPTIONS_EXIT_FAIL;
		}
	}
	if (optind < argc) {
		fail("unexpected argument '%s'; see --help", argv[optind]);
		return OPTIONS_EXIT_FAIL;
	}
	if (print_capabilities) {
		fputs(capabilities_json, stdout);
		return OPTIONS_EXIT_OK;
	}
	if (!validate(opts, &given))
		return OPTIONS_EXIT_FAIL;
	return resolve_access(opts) ? OPTIONS_RUN : OPTIONS_EXIT_FAIL;
}
