/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * supervisor.c - the parent process.
 *
 * The supervisor binds every socket before it forks, so that a path in use
 * or a port taken fails the whole daemon at start, with the reason, and so
 * that a worker restarted after a crash serves the very socket its guest
 * knows: nothing is unlinked and re-created while the daemon runs.
 *
 * Workers are independent: one guest's fault (a crash, kill -9) is logged
 * and that worker alone is restarted after a short delay, backing off if it
 * keeps dying.
 *
 * Under systemd the supervisor is the service's main process: it takes the
 * sockets a socket unit passed (sd_listen.c) and tells systemd when it is
 * ready, reloading or stopping, and that its loop still runs
 * (sd_notify.c). Workers do neither.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "daemon_shm.h"
#include "door.h"
#include "event_loop.h"
#include "log.h"
#include "sd_listen.h"
#include "sd_notify.h"
#include "sock.h"
#include "status_server.h"
#include "supervisor.h"
#include "worker.h"

#define RESTART_DELAY_MIN_MS 250
#define RESTART_DELAY_MAX_MS 8000
#define STABLE_RUN_MS	     5000 /* a worker up this long resets backoff */
#define STOP_GRACE_MS	     5000 /* then SIGKILL */

struct child {
	struct worker_spec spec;
	char vu_path[108];
	char backend_path[108];
	struct sock_file_id vu_id; /* the socket files we bound there */
	struct sock_file_id backend_id;
	char port_path[MAX_EXTRA_PORTS][108];
	struct sock_file_id port_id[MAX_EXTRA_PORTS];
	pid_t pid; /* 0 when not running */
	uint64_t started_ms;
	uint64_t restart_at_ms; /* 0 when no restart is due */
	bool restarted; /* has run before: start-up failures are transient */
	unsigned int delay_ms;
};

struct supervisor {
	const struct options *opts;
	struct web_token web_token; /* --web-port's, read or made at start */
	struct child *children;
	struct daemon_shm *shm; /* shared with every worker */
	struct status_server status; /* control socket, metrics, STATUS= */
	unsigned int count;
	unsigned int running;
	struct ev_loop loop;
	int sigfd;
	struct ev_watch sig_watch;
	int timerfd;
	struct ev_watch timer_watch;
	struct sd_notify notify; /* systemd's NOTIFY_SOCKET, or inactive */
	struct sd_listen passed; /* systemd's sockets, while they are taken */
	int watchdogfd; /* WATCHDOG_USEC's timer, or -1 */
	struct ev_watch watchdog_watch;
	bool stopping;
	int exit_status;
	pid_t pid; /* the supervisor's own */
	struct termios saved_tty; /* nested: restored after every worker */
	bool have_saved_tty;
	int saved_flags[2]; /* nested: stdin, stdout; workers set O_NONBLOCK */
};

static void arm_timer(struct supervisor *s, uint64_t at_ms)
{
	struct itimerspec its = {0};
	uint64_t now = ev_now_ms();
	uint64_t in_ms = at_ms > now ? at_ms - now : 1;

	its.it_value.tv_sec = (time_t)(in_ms / 1000);
	its.it_value.tv_nsec = (long)(in_ms % 1000) * 1000000;
	timerfd_settime(s->timerfd, 0, &its, NULL);
}

/* Arm the timer for the earliest pending restart, or the stop deadline. */
static void rearm_timer(struct supervisor *s)
{
	uint64_t next = 0;

	for (unsigned int i = 0; i < s->count; i++) {
		uint64_t at = s->children[i].restart_at_ms;

		if (at && (!next || at < next))
			next = at;
	}
	if (next)
		arm_timer(s, next);
}

static void close_listeners(struct supervisor *s, bool unlink_paths)
{
	for (unsigned int i = 0; i < s->count; i++) {
		struct child *c = &s->children[i];

		if (c->spec.vu_listen_fd >= 0 &&
		    c->spec.vu_listen_fd != s->opts->listen_fd)
			close(c->spec.vu_listen_fd);
		if (c->spec.backend_listen_fd >= 0)
			close(c->spec.backend_listen_fd);
		if (unlink_paths && c->vu_path[0] && c->spec.vu_listen_fd >= 0)
			sock_unlink_ours(c->vu_path, &c->vu_id);
		if (unlink_paths && c->backend_path[0] &&
		    c->spec.backend_listen_fd >= 0)
			sock_unlink_ours(c->backend_path, &c->backend_id);
		c->spec.vu_listen_fd = -1;
		c->spec.backend_listen_fd = -1;
		if (c->spec.web_listen_fd >= 0)
			close(c->spec.web_listen_fd);
		c->spec.web_listen_fd = -1;
		for (unsigned int p = 0; p < s->opts->port_count; p++) {
			if (c->spec.port_listen_fd[p] < 0)
				continue;
			close(c->spec.port_listen_fd[p]);
			if (unlink_paths && c->port_path[p][0])
				sock_unlink_ours(c->port_path[p],
						 &c->port_id[p]);
			c->spec.port_listen_fd[p] = -1;
		}
	}
}

/* --web-port: the browser's way in, on the loopback address only. */
static int open_web_listener(struct supervisor *s, struct child *c, char *err,
			     size_t errlen)
{
	const struct options *o = s->opts;

	if (!o->web_port)
		return 0;
	c->spec.web_token = &s->web_token;
	c->spec.web_listen_fd =
		sd_listen_take(&s->passed, SD_LISTEN_WEB, 0, c->spec.index);
	if (c->spec.web_listen_fd >= 0)
		return 0;
	c->spec.web_listen_fd = sock_listen_tcp_loopback(
		(uint16_t)(o->web_port + c->spec.index), err, errlen);
	return c->spec.web_listen_fd < 0 ? -1 : 0;
}

/* --web-port's token: read, or made now (0600); its path is logged,
 * never the token. */
static int load_web_token(struct supervisor *s)
{
	const struct options *o = s->opts;
	char path[4096], err[WEB_TOKEN_ERR_LEN];
	bool created = false;

	if (!o->web_port)
		return 0;
	if (o->web_token_file)
		snprintf(path, sizeof(path), "%s", o->web_token_file);
	else
		snprintf(path, sizeof(path), "%s.web-token", o->socket_path);
	if (web_token_load(path, &s->web_token, &created, err, sizeof(err)) <
	    0) {
		log_error("cannot start: --web-token-file: %s", err);
		return -1;
	}
	log_info("web console token %s %s", created ? "created in" : "read from", path);
	return 0;
}

/*
 * share_with_group() - a unix console or port socket, for --allow-group
 *
 * Private to the user (0600) unless --allow-group was given: then 0660 and
 * the first such group's, so that its members can connect at all (a file
 * has one group; the door checks everybody who connects).
 */
static int share_with_group(const struct options *o, const char *path,
			    const struct sock_file_id *id, char *err,
			    size_t errlen)
{
	if (!o->access.ngroups)
		return 0;
	return sock_share_group(path, id, o->access.groups[0], err, errlen);
}

/* The --port sockets of one index: PATH + i, private to the user. */
static int open_port_listeners(struct supervisor *s, struct child *c, char *err,
			       size_t errlen)
{
	const struct options *o = c->spec.opts;

	for (unsigned int p = 0; p < o->port_count; p++) {
		c->spec.port_listen_fd[p] =
			sd_listen_take(&s->passed, SD_LISTEN_PORT, p,
				       c->spec.index);
		if (c->spec.port_listen_fd[p] >= 0)
			continue;
		snprintf(c->port_path[p], sizeof(c->port_path[p]), "%s%u",
			 o->ports[p].path, c->spec.index);
		c->spec.port_listen_fd[p] = sock_listen_unix(
			c->port_path[p], 0600, &c->port_id[p], err, errlen);
		if (c->spec.port_listen_fd[p] < 0 ||
		    share_with_group(o, c->port_path[p], &c->port_id[p], err,
				     errlen) < 0)
			return -1;
	}
	return 0;
}

static int open_backend_listener(struct supervisor *s, struct child *c,
				 char *err, size_t errlen)
{
	const struct options *o = c->spec.opts;

	if (o->backend != BACKEND_NESTED) {
		c->spec.backend_listen_fd =
			sd_listen_take(&s->passed, SD_LISTEN_CONSOLE, 0,
				       c->spec.index);
		if (c->spec.backend_listen_fd >= 0)
			return 0;
	}
	switch (o->backend) {
	case BACKEND_NESTED:
		return 0;
	case BACKEND_NETWORK:
		c->spec.backend_listen_fd =
			sock_listen_tcp_loopback((uint16_t)(o->tcp_port +
							    c->spec.index),
						 err, errlen);
		break;
	case BACKEND_UDS:
		snprintf(c->backend_path, sizeof(c->backend_path), "%s%u",
			 o->uds_path, c->spec.index);
		c->spec.backend_listen_fd =
			sock_listen_unix(c->backend_path, 0600, &c->backend_id,
					 err, errlen);
		if (c->spec.backend_listen_fd >= 0 &&
		    share_with_group(o, c->backend_path, &c->backend_id, err,
				     errlen) < 0)
			return -1;
		break;
	}
	return c->spec.backend_listen_fd < 0 ? -1 : 0;
}

/*
 * open_listeners() - every socket of every index, before any fork
 *
 * Return: 0, or -1 after logging the reason and closing what was opened
 */
static int open_listeners(struct supervisor *s)
{
	char err[SOCK_ERR_LEN];

	for (unsigned int i = 0; i < s->count; i++) {
		struct child *c = &s->children[i];

		c->spec.index = i;
		c->spec.opts = s->opts;
		c->spec.vu_listen_fd = -1;
		c->spec.backend_listen_fd = -1;
		c->spec.web_listen_fd = -1;
		for (unsigned int p = 0; p < MAX_EXTRA_PORTS; p++)
			c->spec.port_listen_fd[p] = -1;
	}
	if (sd_listen_open(&s->passed, s->opts, err, sizeof(err)) < 0) {
		sd_listen_close(&s->passed);
		log_error("cannot start: %s", err);
		return -1;
	}
	for (unsigned int i = 0; i < s->count; i++) {
		struct child *c = &s->children[i];
		int fd = sd_listen_take(&s->passed, SD_LISTEN_VHOST_USER, 0, i);

		if (fd >= 0) {
			c->spec.vu_listen_fd = fd;
		} else if (s->opts->listen_fd >= 0) {
			if (sock_check_listening_unix(s->opts->listen_fd, err,
						      sizeof(err)) < 0)
				goto fail;
			c->spec.vu_listen_fd = s->opts->listen_fd;
		} else {
			snprintf(c->vu_path, sizeof(c->vu_path), "%s%u",
				 s->opts->socket_path, i);
			c->spec.vu_listen_fd = sock_listen_unix(
				c->vu_path, s->opts->socket_group_set ? 0600 : 0,
				&c->vu_id, err, sizeof(err));
			if (c->spec.vu_listen_fd < 0)
				goto fail;
			/* --socket-group: the VMM's user reaches it too. */
			if (s->opts->socket_group_set &&
			    sock_share_group(c->vu_path, &c->vu_id,
					     s->opts->socket_group, err,
					     sizeof(err)) < 0)
				goto fail;
		}
		if (open_backend_listener(s, c, err, sizeof(err)) < 0 ||
		    open_port_listeners(s, c, err, sizeof(err)) < 0 ||
		    open_web_listener(s, c, err, sizeof(err)) < 0)
			goto fail;
	}
	sd_listen_close(&s->passed);
	/* Last: a daemon that cannot start leaves no new token file. */
	if (load_web_token(s) < 0) {
		close_listeners(s, true);
		return -1;
	}
	return 0;
fail:
	log_error("cannot start: %s", err);
	sd_listen_close(&s->passed);
	close_listeners(s, true);
	return -1;
}

static void update_status(struct supervisor *s);

/* A worker's frontend or clients changed what the summary says. */
static void on_summary(void *opaque, const char *summary)
{
	(void)summary;
	update_status(opaque);
}

/*
 * open_status() - the control socket, --metrics-port and the workers'
 * wake-up for the summary, before any worker is forked
 *
 * Return: 0, or -1 after logging the reason
 */
static int open_status(struct supervisor *s)
{
	char err[SOCK_ERR_LEN];

	if (status_server_open(&s->status, s->opts, s->shm, err,
			       sizeof(err)) < 0) {
		log_error("cannot start: %s", err);
		return -1;
	}
	if (status_server_start(&s->status, &s->loop, &s->opts->access) < 0) {
		log_error("cannot start: the control socket or metrics: %s",
			  strerror(errno));
		status_server_fini(&s->status);
		return -1;
	}
	for (unsigned int i = 0; i < s->count; i++)
		s->children[i].spec.stats_wake_fd = s->status.wake_fd;
	/* The first summary is READY=1's; changes come as STATUS= later. */
	status_server_refresh(&s->status);
	s->status.summary_changed = on_summary;
	s->status.opaque = s;
	return 0;
}

static void worker_process(struct supervisor *s, struct child *c)
{
	char name[16];
	int status;

	/* The worker reacts to signals itself; it must not see ours. */
	close(s->sigfd);
	close(s->timerfd);
	status_server_close_in_child(&s->status);
	if (s->watchdogfd >= 0)
		close(s->watchdogfd);
	sd_notify_close(&s->notify); /* the supervisor is MAINPID */
	ev_loop_fini(&s->loop);
	for (unsigned int i = 0; i < s->count; i++) {
		struct child *o = &s->children[i];

		if (o == c)
			continue;
		if (o->spec.vu_listen_fd >= 0 &&
		    o->spec.vu_listen_fd != s->opts->listen_fd)
			close(o->spec.vu_listen_fd);
		if (o->spec.backend_listen_fd >= 0)
			close(o->spec.backend_listen_fd);
		if (o->spec.web_listen_fd >= 0)
			close(o->spec.web_listen_fd);
		for (unsigned int p = 0; p < s->opts->port_count; p++)
			if (o->spec.port_listen_fd[p] >= 0)
				close(o->spec.port_listen_fd[p]);
	}
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	/* The supervisor may have died before the line above took effect. */
	if (getppid() != s->pid)
		_exit(WORKER_EXIT_STOPPED);
	snprintf(name, sizeof(name), "vdc-worker-%u", c->spec.index);
	prctl(PR_SET_NAME, name);
	log_set_worker((int)c->spec.index);
	status = worker_main(&c->spec);
	_exit(status);
}

static int start_worker(struct supervisor *s, struct child *c)
{
	pid_t pid;

	/* Its entry is ours until the fork: counted before the worker
	 * writes to it. */
	if (c->started_ms)
		guest_stats_recover(&s->shm->guest[c->spec.index], true);
	c->spec.restarted = c->started_ms != 0;
	pid = fork();

	if (pid < 0) {
		log_error("fork for worker %u: %s", c->spec.index,
			  strerror(errno));
		return -1;
	}
	if (pid == 0)
		worker_process(s, c);
	if (c->started_ms)
		c->restarted = true;
	c->pid = pid;
	c->started_ms = ev_now_ms();
	c->restart_at_ms = 0;
	s->running++;
	log_debug("worker %u started, pid %d", c->spec.index, (int)pid);
	return 0;
}

/*
 * status_line() - the one-line summary systemd shows (STATUS=): the
 * guests' counters as the status server last read them ("12 of 16 guests
 * attached, 3 clients"), and the workers when some do not run. Whoever
 * sees it may have changed calls update_status(), which sends a line only
 * when it differs from the last.
 */
static void status_line(const struct supervisor *s, char *line, size_t len)
{
	int n = snprintf(line, len, "%s", s->status.summary);

	if (s->running < s->count && n >= 0 && (size_t)n < len)
		snprintf(line + n, len - (size_t)n, ", %u of %u workers running",
			 s->running, s->count);
}

/* Keep systemd's STATUS= current; called whenever a worker comes or goes. */
static void update_status(struct supervisor *s)
{
	char line[SD_NOTIFY_STATUS_MAX];

	if (!sd_notify_active(&s->notify) || s->stopping)
		return;
	status_line(s, line, sizeof(line));
	sd_notify_status(&s->notify, line);
}

static void stop_all(struct supervisor *s, int status)
{
	if (!s->stopping) {
		sd_notify_stopping(&s->notify);
		s->stopping = true;
		s->exit_status = status;
		arm_timer(s, ev_now_ms() + STOP_GRACE_MS);
	}
	for (unsigned int i = 0; i < s->count; i++) {
		s->children[i].restart_at_ms = 0;
		if (s->children[i].pid > 0)
			kill(s->children[i].pid, SIGTERM);
	}
	if (s->running == 0)
		ev_stop(&s->loop);
}

/* A worker that died in raw mode must not leave the terminal so. */
static void restore_tty(struct supervisor *s)
{
	if (s->have_saved_tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &s->saved_tty);
	for (int fd = 0; fd < 2; fd++)
		if (s->saved_flags[fd] >= 0)
			fcntl(fd, F_SETFL, s->saved_flags[fd]);
}

static void schedule_restart(struct supervisor *s, struct child *c)
{
	uint64_t now = ev_now_ms();

	if (now - c->started_ms >= STABLE_RUN_MS)
		c->delay_ms = RESTART_DELAY_MIN_MS;
	else if (c->delay_ms < RESTART_DELAY_MAX_MS)
		c->delay_ms =
			c->delay_ms ? c->delay_ms * 2 : RESTART_DELAY_MIN_MS;
	c->restart_at_ms = now + c->delay_ms;
	log_warn("worker %u: restarting in %u ms", c->spec.index, c->delay_ms);
	rearm_timer(s);
}

static void reaped(struct supervisor *s, struct child *c, int status)
{
	unsigned int idx = c->spec.index;
	int pid = (int)c->pid;

	c->pid = 0;
	s->running--;
	restore_tty(s);
	guest_stats_recover(&s->shm->guest[idx], false);
	status_server_refresh(&s->status);
	update_status(s);
	if (s->stopping) {
		if (s->running == 0)
			ev_stop(&s->loop);
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_QUIT) {
		log_info("worker %u: quit requested; stopping", idx);
		stop_all(s, EXIT_SUCCESS);
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_STARTUP &&
	    !c->restarted) {
		log_error("worker %u could not start; stopping", idx);
		stop_all(s, EXIT_FAILURE);
		return;
	}
	/* Only our own signals stop the daemon; a worker that somebody else
	 * signalled is one guest's console gone, and it comes back. */
	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_STOPPED)
		log_error("worker %u (pid %d) was stopped by a signal the supervisor did not send", idx, pid);
	else if (WIFSIGNALED(status))
		log_error("worker %u (pid %d) killed by signal %d (%s)", idx,
			  pid, WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		log_error("worker %u (pid %d) exited with status %d", idx, pid,
			  WEXITSTATUS(status));
	schedule_restart(s, c);
}

static void reap_children(struct supervisor *s)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (unsigned int i = 0; i < s->count; i++) {
			if (s->children[i].pid == pid) {
				reaped(s, &s->children[i], status);
				break;
			}
		}
	}
}

/*
 * reopen_logs() - SIGUSR1, from a log rotator or `systemctl reload`: every
 * worker reopens its console log; systemd sees a reload begin and end
 */
static void reopen_logs(struct supervisor *s)
{
	char line[SD_NOTIFY_STATUS_MAX];

	if (s->stopping)
		return;
	log_info("SIGUSR1: reopening the console logs");
	sd_notify_reloading(&s->notify);
	for (unsigned int i = 0; i < s->count; i++)
		if (s->children[i].pid > 0)
			kill(s->children[i].pid, SIGUSR1);
	status_line(s, line, sizeof(line));
	sd_notify_ready(&s->notify, line);
}

static void on_signal(void *arg, uint32_t events)
{
	struct supervisor *s = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(s->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			reap_children(s);
			continue;
		}
		if (si.ssi_signo == SIGUSR1) {
			reopen_logs(s);
			continue;
		}
		if (!s->stopping)
			log_info("%s: stopping", strsignal((int)si.ssi_signo));
		stop_all(s, EXIT_SUCCESS);
	}
}

static void on_timer(void *arg, uint32_t events)
{
	struct supervisor *s = arg;
	uint64_t expirations, now = ev_now_ms();

	(void)events;
	if (read(s->timerfd, &expirations, sizeof(expirations)) < 0)
		return;
	if (s->stopping) {
		log_warn("workers did not stop within %d ms; killing them",
			 STOP_GRACE_MS);
		for (unsigned int i = 0; i < s->count; i++)
			if (s->children[i].pid > 0)
				kill(s->children[i].pid, SIGKILL);
		return;
	}
	for (unsigned int i = 0; i < s->count; i++) {
		struct child *c = &s->children[i];

		if (c->restart_at_ms && c->restart_at_ms <= now)
			if (start_worker(s, c) < 0)
				schedule_restart(s, c);
	}
	rearm_timer(s);
	update_status(s);
}

/* WATCHDOG=1 from the loop itself: a loop that hangs stops the pings. */
static void on_watchdog(void *arg, uint32_t events)
{
	struct supervisor *s = arg;
	uint64_t expirations;

	(void)events;
	if (read(s->watchdogfd, &expirations, sizeof(expirations)) < 0)
		return;
	sd_notify_watchdog(&s->notify);
}

/*
 * setup_watchdog() - with WATCHDOG_USEC, a timer at half the interval (as
 * sd_watchdog_enabled(3) advises); without it, no timer at all
 */
static int setup_watchdog(struct supervisor *s)
{
	uint64_t half = sd_notify_watchdog_usec(&s->notify) / 2;
	struct itimerspec its = {0};

	if (!half)
		return 0;
	s->watchdogfd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->watchdogfd < 0)
		return -1;
	its.it_interval.tv_sec = (time_t)(half / 1000000);
	its.it_interval.tv_nsec = (long)(half % 1000000) * 1000;
	its.it_value = its.it_interval;
	ev_watch_init(&s->watchdog_watch);
	if (timerfd_settime(s->watchdogfd, 0, &its, NULL) < 0 ||
	    ev_add(&s->loop, &s->watchdog_watch, s->watchdogfd, EPOLLIN,
		   on_watchdog, s) < 0)
		return -1;
	log_debug("systemd watchdog: WATCHDOG=1 every %llu us",
		  (unsigned long long)half);
	return 0;
}

static int setup_loop(struct supervisor *s)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGUSR1);
	signal(SIGPIPE, SIG_IGN);
	s->sigfd = ev_signalfd_open(&mask);
	s->timerfd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->sigfd < 0 || s->timerfd < 0 || ev_loop_init(&s->loop) < 0)
		return -1;
	ev_watch_init(&s->sig_watch);
	ev_watch_init(&s->timer_watch);
	if (ev_add(&s->loop, &s->sig_watch, s->sigfd, EPOLLIN, on_signal, s) <
		    0 ||
	    ev_add(&s->loop, &s->timer_watch, s->timerfd, EPOLLIN, on_timer,
		   s) < 0)
		return -1;
	return setup_watchdog(s);
}

/**
 * supervisor_run() - run the daemon until it is told to stop
 * @opts:	validated options
 *
 * Return: the process exit status
 */
int supervisor_run(const struct options *opts)
{
	struct supervisor s = {.opts = opts,
			       .count = opts->socket_count,
			       .sigfd = -1,
			       .timerfd = -1,
			       .watchdogfd = -1,
			       .pid = getpid()};
	char err[SOCK_ERR_LEN];
	char line[SD_NOTIFY_STATUS_MAX];

	s.children = calloc(s.count, sizeof(*s.children));
	if (!s.children) {
		log_error("out of memory for %u workers", s.count);
		return EXIT_FAILURE;
	}
	sd_notify_open(&s.notify);
	if (setup_loop(&s) < 0) {
		log_error("cannot set up the supervisor: %s", strerror(errno));
		free(s.children);
		return EXIT_FAILURE;
	}
	s.shm = daemon_shm_create(s.count, err, sizeof(err));
	if (!s.shm) {
		log_error("cannot start: %s", err);
		free(s.children);
		return EXIT_FAILURE;
	}
	for (unsigned int i = 0; i < s.count; i++)
		s.children[i].spec.shm = s.shm;
	door_check_kernel(opts);
	if (open_listeners(&s) < 0 || open_status(&s) < 0) {
		close_listeners(&s, true);
		daemon_shm_destroy(s.shm, s.count);
		free(s.children);
		return EXIT_FAILURE;
	}
	s.saved_flags[0] = s.saved_flags[1] = -1;
	if (opts->backend == BACKEND_NESTED) {
		if (isatty(STDIN_FILENO))
			s.have_saved_tty =
				tcgetattr(STDIN_FILENO, &s.saved_tty) == 0;
		s.saved_flags[0] = fcntl(STDIN_FILENO, F_GETFL);
		s.saved_flags[1] = fcntl(STDOUT_FILENO, F_GETFL);
	}

	for (unsigned int i = 0; i < s.count; i++) {
		if (start_worker(&s, &s.children[i]) < 0) {
			stop_all(&s, EXIT_FAILURE);
			break;
		}
	}
	if (!s.stopping) {
		status_line(&s, line, sizeof(line));
		sd_notify_ready(&s.notify, line);
	}
	if (!s.children[0].vu_path[0] && opts->listen_fd < 0)
		log_info("listening on %u socket%s passed by systemd (%s backend)",
			 s.count, s.count == 1 ? "" : "s",
			 backend_name(opts->backend));
	else if (s.count == 1 && s.children[0].vu_path[0])
		log_info("listening on %s (%s backend)", s.children[0].vu_path,
			 backend_name(opts->backend));
	else if (s.count == 1)
		log_info("listening on fd %d (%s backend)", opts->listen_fd,
			 backend_name(opts->backend));
	else
		log_info("listening on %s0 .. %s%u (%s backend)",
			 opts->socket_path, opts->socket_path, s.count - 1,
			 backend_name(opts->backend));

	if (s.running > 0 && ev_run(&s.loop) < 0)
		s.exit_status = EXIT_FAILURE;
	restore_tty(&s);
	close_listeners(&s, true);
	status_server_fini(&s.status);
	ev_loop_fini(&s.loop);
	close(s.sigfd);
	close(s.timerfd);
	if (s.watchdogfd >= 0)
		close(s.watchdogfd);
	sd_notify_close(&s.notify);
	free(s.children);
	daemon_shm_destroy(s.shm, s.count);
	web_token_wipe(&s.web_token);
	return s.exit_status;
}
