/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * dut.c - start, probe, inspect and stop the daemon under test.
 *
 * Every process started here runs in its own process group and is kept
 * in a registry, so that whatever way the benchmark ends (a result, an
 * error, Ctrl-C) bench_kill_children() leaves nothing running.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dut.h"
#include "procstat.h"
#include "vhost_user_spec.h"

#define MAX_ARGS      64
#define ARG_MAX_LEN   256
#define REGISTRY_SIZE 32
#define STOP_WAIT_MS  5000
#define WORKER_COMM   "vdc-worker-"

/* --- the registry of processes to kill on exit ---------------------- */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t registry[REGISTRY_SIZE];

/* Remember @pid (a process group leader) until it is reaped. */
static void registry_set(pid_t old, pid_t new)
{
	pthread_mutex_lock(&registry_lock);
	for (unsigned int i = 0; i < REGISTRY_SIZE; i++)
		if (registry[i] == old) {
			registry[i] = new;
			break;
		}
	pthread_mutex_unlock(&registry_lock);
}

/* Wait up to @ms for @pid to exit; true once it is reaped. */
static bool reap_within(pid_t pid, unsigned int ms)
{
	for (unsigned int waited = 0;; waited += 10) {
		pid_t r = waitpid(pid, NULL, WNOHANG);

		if (r == pid || (r < 0 && errno == ECHILD))
			return true;
		if (waited >= ms)
			return false;
		bench_sleep_ms(10);
	}
}

/* SIGTERM @pid, then SIGKILL its whole group if it lingers. */
static void stop_process(pid_t pid, int sig)
{
	kill(pid, sig);
	if (!reap_within(pid, STOP_WAIT_MS))
		kill(-pid, SIGKILL);
	reap_within(pid, STOP_WAIT_MS);
	/* Workers left behind by a killed parent go with the group. */
	kill(-pid, SIGKILL);
}

/** bench_kill_children() - stop every process this benchmark started */
void bench_kill_children(void)
{
	pthread_mutex_lock(&registry_lock);
	for (unsigned int i = 0; i < REGISTRY_SIZE; i++)
		if (registry[i] > 0) {
			stop_process(registry[i], SIGTERM);
			registry[i] = 0;
		}
	pthread_mutex_unlock(&registry_lock);
}

/* --- starting ------------------------------------------------------- */

static const char *backend_arg(enum bench_backend b)
{
	return b == BENCH_NETWORK ? "network" : "uds";
}

/* Copy @in to @out with each {placeholder} replaced by its value. */
static void substitute(const struct dut *d, const char *in, char *out,
		       size_t cap)
{
	static const char *const keys[] = {"{vu}",  "{backend}", "{port}",
					   "{uds}", "{count}",	 "{qsize}"};
	const unsigned int nkeys = sizeof(keys) / sizeof(keys[0]);
	char vals[sizeof(keys) / sizeof(keys[0])][BENCH_PATH_MAX];
	size_t o = 0;

	snprintf(vals[0], sizeof(vals[0]), "%s", d->vu_prefix);
	snprintf(vals[1], sizeof(vals[1]), "%s", backend_arg(d->backend));
	snprintf(vals[2], sizeof(vals[2]), "%u", d->port);
	snprintf(vals[3], sizeof(vals[3]), "%s", d->uds_prefix);
	snprintf(vals[4], sizeof(vals[4]), "%u", d->count);
	snprintf(vals[5], sizeof(vals[5]), "%u", bench_opts->queue_size);
	while (*in && o + 1 < cap) {
		unsigned int k = 0;

		while (k < nkeys && strncmp(in, keys[k], strlen(keys[k])) != 0)
			k++;
		if (k == nkeys) {
			out[o++] = *in++;
			continue;
		}
		o += (size_t)snprintf(out + o, cap - o, "%s", vals[k]);
		if (o >= cap)
			o = cap - 1;
		in += strlen(keys[k]);
	}
	out[o] = '\0';
}

/* Does the user's command fill in the options itself? */
static bool is_template(void)
{
	for (int i = 0; i < bench_opts->daemon_argc; i++)
		if (strchr(bench_opts->daemon_argv[i], '{'))
			return true;
	return false;
}

/* Build the daemon's argv into @store; returns argv. */
static char **build_argv(const struct dut *d, char store[MAX_ARGS][ARG_MAX_LEN],
			 char **argv)
{
	int n = 0;

	for (int i = 0; i < bench_opts->daemon_argc && n < MAX_ARGS - 6; i++)
		substitute(d, bench_opts->daemon_argv[i], store[n++],
			   ARG_MAX_LEN);
	if (!is_template()) {
		snprintf(store[n++], ARG_MAX_LEN, "--socket-path=%s",
			 d->vu_prefix);
		snprintf(store[n++], ARG_MAX_LEN, "--backend=%s",
			 backend_arg(d->backend));
		if (d->backend == BENCH_NETWORK)
			snprintf(store[n++], ARG_MAX_LEN, "--tcp-port=%u",
				 d->port);
		else
			snprintf(store[n++], ARG_MAX_LEN, "--uds-path=%s",
				 d->uds_prefix);
		snprintf(store[n++], ARG_MAX_LEN, "--socket-count=%u",
			 d->count);
		snprintf(store[n++], ARG_MAX_LEN, "--max-queue-size=%u",
			 bench_opts->queue_size);
	}
	for (int i = 0; i < n; i++)
		argv[i] = store[i];
	argv[n] = NULL;
	return argv;
}

/*
 * In the child: own process group, dies with us, our blocked signals
 * unblocked again, stdin from /dev/null and output to @log. Only
 * async-signal-safe calls between fork and exec.
 */
static void exec_child(char **argv, const char *log, pid_t parent)
{
	sigset_t none;
	int fd;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0)
		dup2(fd, 0);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	execvp(argv[0], argv);
	if (write(2, "vdc-bench: cannot execute ", 26) > 0 &&
	    write(2, argv[0], strlen(argv[0])) > 0)
		(void)!write(2, "\n", 1);
	_exit(127);
}

/* Fork and exec @argv as a registered process group leader. */
static pid_t spawn(char **argv, const char *log)
{
	pid_t parent = getpid(), pid;

	pthread_mutex_lock(&registry_lock);
	pid = fork();
	if (pid == 0)
		exec_child(argv, log, parent);
	if (pid > 0) {
		/* Also here, so a kill(-pid) right away finds the group. */
		setpgid(pid, pid);
		for (unsigned int i = 0; i < REGISTRY_SIZE; i++)
			if (registry[i] == 0) {
				registry[i] = pid;
				break;
			}
	}
	pthread_mutex_unlock(&registry_lock);
	if (pid < 0)
		bench_die("fork: %s", strerror(errno));
	return pid;
}

/* Can 127.0.0.1:@port be bound right now? */
static bool port_free(unsigned int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* The first of @count free ports from @from on, so runs do not collide. */
static unsigned int free_ports(unsigned int from, unsigned int count)
{
	for (unsigned int p = from; p + count < 65536; p++) {
		unsigned int i = 0;

		while (i < count && port_free(p + i))
			i++;
		if (i == count)
			return p;
		p += i;
	}
	bench_die("no %u free TCP ports from %u on", count, from);
}

/**
 * dut_spawn() - start the daemon with @count sockets of @backend, without
 * waiting for it (dut_up() in run_common.c waits)
 * @tag:	names its socket files and log in the temporary directory
 */
void dut_spawn(struct dut *d, enum bench_backend backend, unsigned int count,
	       const char *tag)
{
	static unsigned int port_next;
	char store[MAX_ARGS][ARG_MAX_LEN];
	char *argv[MAX_ARGS + 1];

	memset(d, 0, sizeof(*d));
	d->backend = backend;
	d->count = count;
	if (backend == BENCH_NETWORK) {
		d->port = free_ports(bench_opts->port_base + port_next, count);
		port_next = d->port + count - bench_opts->port_base;
	}
	snprintf(d->vu_prefix, sizeof(d->vu_prefix), "%s/%s-vu",
		 bench_opts->tmpdir, tag);
	snprintf(d->uds_prefix, sizeof(d->uds_prefix), "%s/%s-con",
		 bench_opts->tmpdir, tag);
	snprintf(d->log_path, sizeof(d->log_path), "%s/%s.log",
		 bench_opts->tmpdir, tag);
	build_argv(d, store, argv);
	d->started = bench_now();
	d->pid = spawn(argv, d->log_path);
}

/** dut_stop() - SIGTERM, as a VMM's manager would; SIGKILL if stuck */
void dut_stop(struct dut *d)
{
	if (d->pid <= 0)
		return;
	stop_process(d->pid, SIGTERM);
	registry_set(d->pid, 0);
	d->pid = 0;
}

/* Where guest @i's vhost-user socket is. */
void dut_vu_path(const struct dut *d, unsigned int i, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%u", d->vu_prefix, i);
}

/** dut_show_log() - the end of the daemon's log, when something failed */
void dut_show_log(const struct dut *d)
{
	char buf[2048];
	ssize_t n;
	off_t size;
	int fd = open(d->log_path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	lseek(fd,
	      size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0,
	      SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		fprintf(stderr, "--- end of %s ---\n%s\n", d->log_path, buf);
	}
}

/* --- readiness ------------------------------------------------------ */

struct probe {
	int fd;
	unsigned int got; /* reply bytes read */
	bool done;
};

#define PROBE_REPLY (sizeof(struct vhost_user_header) + sizeof(uint64_t))

/* Connect to @path and ask GET_FEATURES; the fd, or -1 to retry later. */
static int probe_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct vhost_user_header h = {VHOST_USER_GET_FEATURES,
				      VHOST_USER_VERSION, 0};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		bench_die("socket: %s", strerror(errno));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(fd, &h, sizeof(h), MSG_NOSIGNAL) != (ssize_t)sizeof(h)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Connect every probe not yet connected; true if all are. */
static bool probes_connect(struct dut *d, struct probe *p)
{
	bool all = true;

	for (unsigned int i = 0; i < d->count; i++) {
		char path[BENCH_SOCK_PATH];

		if (p[i].fd >= 0 || p[i].done)
			continue;
		dut_vu_path(d, i, path, sizeof(path));
		p[i].fd = probe_connect(path);
		all &= p[i].fd >= 0;
	}
	return all;
}

/* Read what replies are there; true when all have answered. */
static bool probes_read(struct dut *d, struct probe *p, int timeout_ms)
{
	struct pollfd pfd[DUT_MAX_WORKERS];
	bool all = true;

	for (unsigned int i = 0; i < d->count; i++)
		pfd[i] = (struct pollfd){p[i].done ? -1 : p[i].fd, POLLIN, 0};
	poll(pfd, d->count, timeout_ms);
	for (unsigned int i = 0; i < d->count; i++) {
		uint8_t buf[PROBE_REPLY];
		ssize_t n;

		if (pfd[i].fd >= 0 && pfd[i].revents) {
			n = recv(p[i].fd, buf, PROBE_REPLY - p[i].got, 0);
			if (n > 0)
				p[i].got += (unsigned int)n;
			if (n <= 0 || p[i].got == PROBE_REPLY) {
				close(p[i].fd);
				p[i].fd = -1;
				p[i].done = n > 0;
			}
		}
		all &= p[i].done;
	}
	return all;
}

/**
 * dut_wait_ready() - until every socket's worker answers GET_FEATURES
 * @t_bound:	seconds from start until every socket accepted a connection
 * @t_ready:	seconds from start until every socket was served
 *
 * Return: 0, or -1 after @timeout_s
 */
int dut_wait_ready(struct dut *d, double timeout_s, double *t_bound,
		   double *t_ready)
{
	struct probe p[DUT_MAX_WORKERS];
	bool bound = false;

	for (unsigned int i = 0; i < d->count; i++)
		p[i] = (struct probe){.fd = -1};
	*t_bound = *t_ready = -1;
	while (bench_now() - d->started < timeout_s) {
		if (!bound && probes_connect(d, p)) {
			bound = true;
			*t_bound = bench_now() - d->started;
		}
		if (probes_read(d, p, bound ? 50 : 1) && bound) {
			*t_ready = bench_now() - d->started;
			return 0;
		}
		if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
			registry_set(d->pid, 0);
			d->pid = 0;
			break;
		}
	}
	for (unsigned int i = 0; i < d->count; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	return -1;
}

/* --- workers -------------------------------------------------------- */

/* Record /proc entry @name if it is one of @d's workers. */
static void consider_worker(struct dut *d, const char *name)
{
	char comm[64];
	pid_t pid = (pid_t)atoi(name);
	unsigned int index;

	if (pid <= 0 || proc_parent(pid, comm, sizeof(comm)) != d->pid)
		return;
	if (sscanf(comm, WORKER_COMM "%u", &index) == 1 && index < d->count &&
	    index < DUT_MAX_WORKERS)
		d->workers[index] = pid;
}

/* Scan /proc once; how many workers are known. */
static unsigned int scan_workers(struct dut *d)
{
	DIR *dir = opendir("/proc");
	struct dirent *e;
	unsigned int n = 0;

	if (!dir)
		return 0;
	while ((e = readdir(dir)) != NULL)
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
			consider_worker(d, e->d_name);
	closedir(dir);
	for (unsigned int i = 0; i < d->count; i++)
		n += d->workers[i] > 0;
	return n;
}

/**
 * dut_find_workers() - the children named vdc-worker-<i>
 *
 * A daemon that serves its guests from threads has none: it is then
 * measured as its own worker.
 *
 * Return: the number of worker processes found
 */
int dut_find_workers(struct dut *d)
{
	unsigned int n = 0;

	for (unsigned int tries = 0; tries < 50; tries++) {
		n = scan_workers(d);
		if (n == d->count)
			break;
		bench_sleep_ms(10);
	}
	d->threaded = n == 0;
	if (n && n != d->count)
		bench_note("found %u of %u workers", n, d->count);
	return (int)n;
}

/* The process serving guest @i: its worker, or the daemon itself. */
pid_t dut_worker(const struct dut *d, unsigned int i)
{
	if (d->threaded || i >= DUT_MAX_WORKERS || d->workers[i] <= 0)
		return d->pid;
	return d->workers[i];
}

/* --- perf ----------------------------------------------------------- */

/** perf_available() - is there a perf in $PATH? */
bool perf_available(void)
{
	const char *path = getenv("PATH");
	char dir[256];

	while (path && *path) {
		size_t n = strcspn(path, ":");

		if (n && n < 200) {
			snprintf(dir, sizeof(dir), "%.*s/perf", (int)n, path);
			if (access(dir, X_OK) == 0)
				return true;
		}
		path += n + (path[n] == ':');
	}
	return false;
}

/* Has process @pid opened a perf event yet? */
static bool has_perf_event(pid_t pid)
{
	char dir[64], link[64];
	struct dirent *e;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	while (d && !found && (e = readdir(d)) != NULL) {
		ssize_t n;

		n = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			found = strstr(link, "perf_event") != NULL;
		}
	}
	if (d)
		closedir(d);
	return found;
}

/**
 * perf_start() - count @target's system calls until perf_stop()
 *
 * Return: perf's pid once its counter is open, or -1
 */
pid_t perf_start(pid_t target, const char *out_path)
{
	char pidarg[16];
	const char *args[] =
		{"perf", "stat", "-x,", "-e",	 "raw_syscalls:sys_enter",
		 "-p",	 pidarg, "-o",	out_path};
	char *argv[10];
	pid_t pid;

	snprintf(pidarg, sizeof(pidarg), "%d", (int)target);
	for (unsigned int i = 0; i < 9; i++)
		argv[i] = (char *)args[i];
	argv[9] = NULL;
	unlink(out_path);
	pid = spawn(argv, "/dev/null");
	for (unsigned int i = 0; i < 500; i++) {
		if (has_perf_event(pid)) {
			/* Opened; give it a moment to enable the counter. */
			bench_sleep_ms(20);
			return pid;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid)
			break;
		bench_sleep_ms(2);
	}
	stop_process(pid, SIGKILL);
	registry_set(pid, 0);
	return -1;
}

/**
 * perf_stop() - stop counting
 *
 * Return: the number of system calls, or -1 if perf could not count
 */
long long perf_stop(pid_t perf, const char *out_path)
{
	char buf[4096], *line;
	long long count = -1;
	ssize_t n;
	int fd;

	if (perf <= 0)
		return -1;
	stop_process(perf, SIGINT);
	registry_set(perf, 0);
	fd = open(out_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		if (strstr(line, "raw_syscalls:sys_enter") && line[0] >= '0' &&
		    line[0] <= '9')
			count = strtoll(line, NULL, 10);
	unlink(out_path);
	return count;
}
