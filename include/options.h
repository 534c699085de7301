/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * options.h - the command line, parsed and validated once.
 *
 * Everything past options_parse() may trust these values: counts, ports and
 * path lengths have been checked against each other.
 */
#ifndef VDC_OPTIONS_H
#define VDC_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "web_origin.h"

#include "console_log_format.h"
#include "log.h"
#include "peer.h"

#define PROGRAM_NAME "vhost-device-console"
/* The console's name in guest i (PORT_NAME of port 0), taken for --port. */
#define CONSOLE_NAME_FORMAT PROGRAM_NAME ".%u"

#define DEFAULT_SOCKET_COUNT   1u
#define DEFAULT_TCP_PORT       12345u
#define DEFAULT_MAX_QUEUE_SIZE 128u
#define MAX_QUEUE_SIZE_LIMIT   32768u
#define DEFAULT_OUTPUT_BUFFER  (1u << 20)
#define MIN_OUTPUT_BUFFER      4096u
#define MAX_OUTPUT_BUFFER      (1u << 30)
#define DEFAULT_MAX_CLIENTS    8u
#define MAX_CLIENTS_LIMIT      64u

/* Ports besides the console: the device has at most 32 (QEMU's limit). */
#define MAX_EXTRA_PORTS 31u
#define PORT_NAME_MAX	63u

/* --port=NAME:PATH: port n (1..) of every guest's device. */
struct port_option {
	char name[PORT_NAME_MAX + 1];
	const char *path; /* socket of guest i is PATH + i */
};

enum backend_kind {
	BACKEND_NESTED,
	BACKEND_NETWORK,
	BACKEND_UDS,
};

/* The order of the two numbers in a VIRTIO_CONSOLE_RESIZE message. */
enum console_size_order {
	CONSOLE_SIZE_ORDER_SPEC, /* cols, then rows: virtio spec, Linux 6.15+ */
	CONSOLE_SIZE_ORDER_ROWS_FIRST, /* rows, then cols: older Linux guests */
};

struct options {
	const char *socket_path; /* NULL when serving --fd */
	unsigned int socket_count;
	enum backend_kind backend;
	uint16_t tcp_port;
	const char *uds_path;
	uint32_t max_queue_size;
	size_t output_buffer;
	uint16_t console_cols, console_rows; /* --console-size; 0: not given */
	enum console_size_order console_size_order;
	int listen_fd; /* -1 unless --fd */
	enum log_level log_level;
	unsigned int max_clients; /* network, uds: writer plus watchers */
	const char *console_log; /* guest i's output goes to this + i */
	uint16_t web_port; /* 0: no web console; guest i on web_port + i */
	const char *web_token_file;
	struct web_origins web_origins; /* --web-origin */
	struct web_origins web_frame_ancestors; /* --web-frame-ancestors */
	bool console_log_timestamps;
	enum console_log_format console_log_format; /* raw by default */
	struct port_option ports[MAX_EXTRA_PORTS];
	unsigned int port_count;
	/* Status: the control socket (NULL: --socket-path + ".ctl", none
	 * with --fd) and the Prometheus endpoint (0: none). */
	const char *control_socket;
	uint16_t metrics_port;
	/* Who gets in: --allow-user, --allow-group (members read at start).
	 * The first group also owns the unix console and port sockets. */
	struct peer_policy access;
	bool socket_group_set; /* --socket-group: the vhost-user sockets' */
	gid_t socket_group;
};

enum options_result {
	OPTIONS_RUN, /* start the daemon */
	OPTIONS_EXIT_OK, /* --help, --version, --print-capabilities done */
	OPTIONS_EXIT_FAIL, /* bad command line; message already printed */
};

enum options_result options_parse(int argc, char *argv[], struct options *opts);
const char *backend_name(enum backend_kind kind);

#endif
