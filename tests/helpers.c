/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * helpers.c - process and socket helpers shared by the tests.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

const char *daemon_path(void)
{
	const char *p = getenv("VDC_DAEMON");

	ck_assert_msg(p != NULL, "VDC_DAEMON is not set; run `make check`");
	return p;
}

const char *srcdir(void)
{
	const char *p = getenv("VDC_SRCDIR");

	return p ? p : ".";
}

long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wait_deadline() - when a wait of @timeout_ms from now gives up (wait.h) */
long wait_deadline(int timeout_ms)
{
	return now_ms() + wait_floor_ms(timeout_ms);
}

void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static char **build_argv(const char *const args[])
{
	size_t n = 0;
	char **argv;

	while (args[n])
		n++;
	argv = calloc(n + 2, sizeof(*argv));
	ck_assert_ptr_nonnull(argv);
	argv[0] = (char *)daemon_path();
	for (size_t i = 0; i < n; i++)
		argv[i + 1] = (char *)args[i];
	return argv;
}

static void drain(int fd, char *buf, size_t *len)
{
	ssize_t n = read(fd, buf + *len, OUTPUT_MAX - 1 - *len);

	if (n > 0)
		*len += (size_t)n;
	buf[*len] = '\0';
}

void run_daemon(const char *const args[], int timeout_ms,
		struct run_result *res)
{
	int out[2], err[2];
	size_t olen = 0, elen = 0;
	long deadline = now_ms() + timeout_ms;
	char **argv = build_argv(args);
	pid_t pid;

	memset(res, 0, sizeof(*res));
	ck_assert_int_eq(pipe(out), 0);
	ck_assert_int_eq(pipe(err), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		dup2(null, 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		execv(argv[0], argv);
		_exit(127);
	}
	free(argv);
	close(out[1]);
	close(err[1]);
	for (;;) {
		struct pollfd p[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
		long left = deadline - now_ms();

		if (left <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(p, 2, (int)left) <= 0)
			continue;
		if (p[0].revents)
			drain(out[0], res->out, &olen);
		if (p[1].revents)
			drain(err[0], res->err, &elen);
		if ((p[0].revents & POLLHUP) && (p[1].revents & POLLHUP) &&
		    !(p[0].revents & POLLIN) && !(p[1].revents & POLLIN))
			break;
	}
	close(out[0]);
	close(err[0]);
	ck_assert_int_eq(waitpid(pid, &res->status, 0), pid);
}

void daemon_start(struct daemon_proc *d, const char *dir,
		  const char *const args[])
{
	static int seq;
	int fd;

	snprintf(d->log_path, sizeof(d->log_path), "%s/daemon-%d.log", dir,
		 seq++);
	fd = open(d->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	daemon_start_stderr(d, fd, args);
	close(fd);
}

/* Start the daemon with its stderr on @err_fd (a pipe, a socket, ...). */
void daemon_start_stderr(struct daemon_proc *d, int err_fd,
			 const char *const args[])
{
	char **argv = build_argv(args);
	int fd;

	d->pid = fork();
	ck_assert_int_ge(d->pid, 0);
	if (d->pid == 0) {
		dup2(err_fd, 2);
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	free(argv);
}

int wait_pid_timeout(pid_t pid, int timeout_ms)
{
	long deadline = wait_deadline(timeout_ms);
	int status;

	while (now_ms() < deadline) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		sleep_ms(10);
	}
	return -1;
}

int daemon_stop(struct daemon_proc *d, int sig, int timeout_ms)
{
	int status;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, sig);
	status = wait_pid_timeout(d->pid, timeout_ms);
	if (status == -1) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
	}
	d->pid = 0;
	return status;
}

/*
 * daemon_log_from() - what the daemon logged from byte @from on (at most
 * OUTPUT_MAX - 1 bytes of it): a long run's log is read past its start
 */
char *daemon_log_from(const struct daemon_proc *d, size_t from)
{
	static char buf[OUTPUT_MAX];
	int fd = open(d->log_path, O_RDONLY);
	ssize_t n = 0;

	buf[0] = '\0';
	if (fd < 0)
		return buf;
	n = pread(fd, buf, sizeof(buf) - 1, (off_t)from);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return buf;
}

char *daemon_log(const struct daemon_proc *d)
{
	return daemon_log_from(d, 0);
}

/* How long the daemon's log is now. */
size_t daemon_log_size(const struct daemon_proc *d)
{
	struct stat st;

	return stat(d->log_path, &st) == 0 ? (size_t)st.st_size : 0;
}

void make_tmpdir(char *buf, size_t len)
{
	snprintf(buf, len, "/tmp/vdc-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(buf));
}

void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

bool path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int connect_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* connect_tcp_loopback() - a blocking client of 127.0.0.1:@port, or -1 */
int connect_tcp_loopback(unsigned int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

bool wait_for_socket(const char *path, int timeout_ms)
{
	long deadline = wait_deadline(timeout_ms);

	while (now_ms() < deadline) {
		int fd = connect_unix(path);

		if (fd >= 0) {
			close(fd);
			return true;
		}
		sleep_ms(10);
	}
	return false;
}

static bool read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

/* find_child() - a child of @parent whose comm is @comm, or 0 */
pid_t find_child(pid_t parent, const char *comm)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	ck_assert_ptr_nonnull(d);
	while (!found && (e = readdir(d)) != NULL) {
		char path[300], buf[512], name[64];
		int pid, ppid;
		char state;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if (!read_small(path, buf, sizeof(buf)))
			continue;
		if (sscanf(buf, "%d (%63[^)]) %c %d", &pid, name, &state,
			   &ppid) != 4)
			continue;
		if (ppid == parent && strcmp(name, comm) == 0 && state != 'Z')
			found = pid;
	}
	closedir(d);
	return found;
}

pid_t wait_for_child(pid_t parent, const char *comm, pid_t not_pid,
		     int timeout_ms)
{
	long deadline = wait_deadline(timeout_ms);

	while (now_ms() < deadline) {
		pid_t p = find_child(parent, comm);

		if (p && p != not_pid)
			return p;
		sleep_ms(10);
	}
	return 0;
}

/* --- generic I/O and process helpers -------------------------------- */

bool read_exact(int fd, void *buf, size_t len, int timeout_ms)
{
	uint8_t *p = buf;
	long deadline = wait_deadline(timeout_ms);

	while (len) {
		struct pollfd pfd = {fd, POLLIN, 0};
		long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return false;
		n = read(fd, p, len);
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

void write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		ck_assert_int_gt(n, 0);
		p += n;
		len -= (size_t)n;
	}
}

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int count_fds(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	return count_dir(path);
}

int count_maps(pid_t pid)
{
	char path[64], line[512];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "fe-guest-ram"))
			n++;
	fclose(f);
	return n;
}

/* cpu_ticks() - user plus system clock ticks @pid has used */
long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	p = strrchr(buf, ')');
	ck_assert_int_eq(sscanf(p + 2,
				"%*c %*d %*d %*d %*d %*d %*u %*u %*u "
				"%*u %*u %lu %lu",
				&ut, &st),
			 2);
	return (long)(ut + st);
}
