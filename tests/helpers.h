/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * helpers.h - running the daemon from tests: spawn it, capture what it
 * says, wait for its sockets, find its workers; and the generic helpers
 * every test uses (waits with a deadline, whole reads and writes, a
 * process's fds, mappings and CPU time).
 */
#ifndef VDC_TEST_HELPERS_H
#define VDC_TEST_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/wait.h"

#define OUTPUT_MAX 65536

struct run_result {
	int status; /* raw wait status */
	char out[OUTPUT_MAX]; /* stdout */
	char err[OUTPUT_MAX]; /* stderr */
};

struct daemon_proc {
	pid_t pid;
	char log_path[256]; /* its stderr */
};

const char *daemon_path(void);
const char *srcdir(void);

/* Run the daemon with a NULL-terminated argv (without argv[0]) to its end;
 * gives up after @timeout_ms with a SIGKILL. */
void run_daemon(const char *const args[], int timeout_ms,
		struct run_result *res);

/* Start the daemon in the background, stderr to a file in @dir. */
void daemon_start(struct daemon_proc *d, const char *dir,
		  const char *const args[]);
void daemon_start_stderr(struct daemon_proc *d, int err_fd,
			 const char *const args[]);
/* SIGTERM, then wait; returns the raw wait status (or -1 on timeout). */
int daemon_stop(struct daemon_proc *d, int sig, int timeout_ms);
int wait_pid_timeout(pid_t pid, int timeout_ms);
char *daemon_log(const struct daemon_proc *d);
char *daemon_log_from(const struct daemon_proc *d, size_t from);
size_t daemon_log_size(const struct daemon_proc *d);

void make_tmpdir(char *buf, size_t len);
void remove_tree(const char *dir);
bool wait_for_socket(const char *path, int timeout_ms);
bool path_exists(const char *path);
pid_t find_child(pid_t parent, const char *comm);
pid_t wait_for_child(pid_t parent, const char *comm, pid_t not_pid,
		     int timeout_ms);
int connect_unix(const char *path);
int connect_tcp_loopback(unsigned int port);
void sleep_ms(int ms);
long wait_deadline(int timeout_ms);

/* Generic I/O on any fd, and what /proc says of a process. */
bool read_exact(int fd, void *buf, size_t len, int timeout_ms);
void write_all(int fd, const void *buf, size_t len);
int count_fds(pid_t pid);
int count_maps(pid_t pid);
long cpu_ticks(pid_t pid);
long now_ms(void);

#endif
