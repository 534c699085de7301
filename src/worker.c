/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * worker.c - one worker: the epoll loop that ties one guest's vhost-user
 * connection and its console device, with every port's host side,
 * together.
 *
 * The ports' host sides start before any frontend connects, so a client
 * can attach early and sees the guest from its first line of output; they
 * outlive the frontend, so the next VM on the same socket gets the same
 * console.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "console.h"
#include "console_log.h"
#include "web_server.h"
#include "event_loop.h"
#include "log.h"
#include "sock.h"
#include "term_size.h"
#include "vhost_user.h"
#include "version.h"
#include "worker.h"

struct worker {
	const struct worker_spec *spec;
	struct ev_loop loop;
	int sigfd;
	struct ev_watch sig_watch;
	struct ev_watch listen_watch;
	struct vu_device dev;
	struct vu_dev vu;
	struct console console;
	struct port_owner owner;
	struct console_log *log; /* --console-log, or NULL */
	struct web_server web; /* --web-port */
	bool web_on;
	struct ev_watch log_watch;
	struct guest_stats_writer stats; /* this guest's entry in shm */
	bool quit; /* the user asked to quit, not a signal */
};

static void on_listen(void *arg, uint32_t events);

static void watch_listener(struct worker *w)
{
	if (ev_add(&w->loop, &w->listen_watch, w->spec->vu_listen_fd, EPOLLIN,
		   on_listen, w) < 0)
		log_error("cannot watch the vhost-user socket: %s",
			  strerror(errno));
}

/*
 * A second frontend on a served socket is refused at once: left in the
 * backlog it would wait for replies that never come (QEMU hangs at start).
 * A frontend that has just hung up does not count as served.
 */
static void on_listen(void *arg, uint32_t events)
{
	struct worker *w = arg;
	int fd;

	(void)events;
	fd = accept4(w->spec->vu_listen_fd, NULL, NULL,
		     SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("accept: %s", strerror(errno));
		return;
	}
	if (vu_connected(&w->vu) && !vu_peer_gone(&w->vu)) {
		log_warn("frontend refused: this socket already serves a frontend");
		close(fd);
		return;
	}
	vu_detach(&w->vu);
	log_info("frontend connected");
	if (vu_attach(&w->vu, fd) == 0)
		guest_stats_attached(&w->stats, true);
}

/* The console log records the console's size (an asciicast's "r"). */
static void log_size(struct worker *w)
{
	if (w->log)
		console_log_resize(w->log, w->console.cols, w->console.rows);
}

/* Nested backend: the guest's console is this terminal, so is its size. */
static void take_terminal_size(struct worker *w, const char *when)
{
	uint16_t cols, rows;

	if (term_size_get(&cols, &rows) < 0) {
		log_debug("%s: the terminal has no size; none is sent", when);
		return;
	}
	log_debug("%s: the terminal is %ux%u", when, cols, rows);
	console_set_size(&w->console, cols, rows);
	log_size(w);
}

static void on_signal(void *arg, uint32_t events)
{
	struct worker *w = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(w->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGWINCH) {
			take_terminal_size(w, "SIGWINCH");
			continue;
		}
		if (si.ssi_signo == SIGUSR1) {
			if (w->log)
				console_log_reopen(w->log);
			continue;
		}
		if (si.ssi_pid == (uint32_t)getppid())
			log_debug("%s from the supervisor: stopping",
				  strsignal((int)si.ssi_signo));
		else
			log_info("%s from pid %u: stopping this worker",
				 strsignal((int)si.ssi_signo), si.ssi_pid);
		ev_stop(&w->loop);
	}
}

/*
 * The worker is the glue: the protocol layer and the backend report to it,
 * and it passes each event to the console or acts on it itself.
 */
static void on_quit(void *opaque)
{
	struct worker *w = opaque;

	w->quit = true;
	ev_stop(&w->loop);
}

static void on_queue_kick(void *opaque, struct virtqueue *vq)
{
	console_queue_kick(&((struct worker *)opaque)->console, vq);
}

static void on_release_held(void *opaque)
{
	console_release_held(&((struct worker *)opaque)->console);
}

static void on_device_reset(void *opaque)
{
	console_reset(&((struct worker *)opaque)->console);
}

static void on_get_config(void *opaque, uint32_t offset, uint8_t *buf,
			  uint32_t len)
{
	console_get_config(&((struct worker *)opaque)->console, offset, buf,
			   len);
}

static int on_set_config(void *opaque, uint32_t offset, const uint8_t *buf,
			 uint32_t len)
{
	return console_set_config(&((struct worker *)opaque)->console, offset,
				  buf, len);
}

static void on_frontend_gone(void *opaque)
{
	guest_stats_attached(&((struct worker *)opaque)->stats, false);
}

static void on_features_set(void *opaque)
{
	console_features_set(&((struct worker *)opaque)->console);
}

static void wire_up(struct worker *w)
{
	w->dev = (struct vu_device){
		.features = console_device_features,
		.config_size = sizeof(struct virtio_console_config),
		.opaque = w,
		.queue_kick = on_queue_kick,
		.reset = on_device_reset,
		.get_config = on_get_config,
		.set_config = on_set_config,
		.features_set = on_features_set,
		.disconnected = on_frontend_gone,
		.release_held = on_release_held,
	};
	w->owner = (struct port_owner){
		.opaque = w,
		.quit = on_quit,
	};
}

/* The log's writer thread has news (drops, errors, a reopen) to log. */
static void on_log_event(void *arg, uint32_t events)
{
	struct worker *w = arg;
	struct console_log_stats st;

	(void)events;
	console_log_poll(w->log);
	console_log_stats(w->log, &st);
	guest_stats_log(&w->stats, st.dropped_queue + st.dropped_write,
			st.write_errors + st.reopen_errors);
}

/*
 * --console-log: this guest's file, written by a thread of its own, with
 * the console's size as it is now. A worker the supervisor restarted does
 * not stop for a log it cannot open: the console goes on and the log is
 * retried; at the first start a bad path is the command line's error.
 */
static int open_console_log(struct worker *w)
{
	const struct options *o = w->spec->opts;
	struct console_log_config cfg = {
		.format = o->console_log_format,
		.timestamps = o->console_log_timestamps,
		.retry = w->spec->restarted,
		.cols = w->console.cols,
		.rows = w->console.rows,
	};
	const char *how = o->console_log_timestamps ? " (with timestamps)" : "";
	char path[4096], err[256];

	if (o->console_log_format == CONSOLE_LOG_ASCIICAST)
		how = " (asciicast)";
	if (console_log_path(path, sizeof(path), o->console_log,
			     w->spec->index) < 0) {
		log_error("--console-log: the path is too long");
		return -1;
	}
	cfg.path = path;
	w->log = console_log_open(&cfg, err, sizeof(err));
	if (!w->log) {
		log_error("--console-log: %s", err);
		return -1;
	}
	if (ev_add(&w->loop, &w->log_watch, console_log_event_fd(w->log),
		   EPOLLIN, on_log_event, w) < 0)
		log_warn("cannot watch the console log: %s", strerror(errno));
	w->console.ports[0].log = w->log;
	guest_stats_log_opened(&w->stats, path);
	log_info("console log: %s%s", path, how);
	return 0;
}

/* A browser that types (the writer) says the size of the console. */
static void on_web_resize(void *opaque, unsigned int cols, unsigned int rows)
{
	struct worker *w = opaque;

	console_set_size(&w->console, (uint16_t)cols, (uint16_t)rows);
	log_size(w);
}

/* --web-port: the console in a browser, one more client of port 0. */
static int start_web(struct worker *w)
{
	const struct options *o = w->spec->opts;
	char door_name[32];

	snprintf(door_name, sizeof(door_name), "web console %u",
		 w->spec->index);
	if (web_server_init(&w->web, &(struct web_server_config){
			.loop = &w->loop,
			.listen_fd = w->spec->web_listen_fd,
			.port = (uint16_t)(o->web_port + w->spec->index),
			.token = w->spec->web_token,
			.policy = &o->access,
			.door_name = door_name,
			.guesses = &w->spec->shm->guesses,
			.tickets = &w->spec->shm->tickets,
			.guest = w->spec->index,
			.origins = &o->web_origins,
			.frame_ancestors = &o->web_frame_ancestors,
			.console = &w->console.ports[0].host,
			.resize = on_web_resize,
			.opaque = w,
		}) < 0)
		return -1;
	w->web_on = true;
	log_info("web console on http://127.0.0.1:%u/",
		 (unsigned int)(o->web_port + w->spec->index));
	return 0;
}

static int setup(struct worker *w)
{
	const struct options *o = w->spec->opts;
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	if (o->backend == BACKEND_NESTED)
		sigaddset(&mask, SIGWINCH);
	w->sigfd = ev_signalfd_open(&mask);
	if (w->sigfd < 0 || ev_loop_init(&w->loop) < 0 ||
	    sock_set_nonblock(w->spec->vu_listen_fd) < 0 ||
	    ev_add(&w->loop, &w->sig_watch, w->sigfd, EPOLLIN, on_signal, w) <
		    0) {
		log_error("cannot set up the worker: %s", strerror(errno));
		return -1;
	}
	wire_up(w);
	w->stats.gs = w->spec->shm ? &w->spec->shm->guest[w->spec->index]
				   : NULL;
	w->stats.wake_fd = w->spec->stats_wake_fd;
	guest_stats_worker_start(&w->stats, program_version);
	vu_init(&w->vu, &w->loop, &w->dev, o->max_queue_size);
	/* Whatever a callback did to guest memory is checked once a batch. */
	ev_set_after_batch(&w->loop, vu_check_memory, &w->vu);
	if (console_init(&w->console, &(struct console_config){
			.index = w->spec->index,
			.opts = o,
			.backend_listen_fd = w->spec->backend_listen_fd,
			.port_listen_fd = w->spec->port_listen_fd,
			.loop = &w->loop,
			.vu = &w->vu,
			.owner = &w->owner,
			.stats = &w->stats,
		}) < 0)
		return -1;
	w->dev.num_queues = console_num_queues(&w->console);
	if (o->web_port && start_web(w) < 0)
		return -1;
	/* The size is known before any frontend comes: F_SIZE is offered
	 * exactly when there is a size to tell. */
	console_set_size_order(&w->console, o->console_size_order);
	if (o->console_cols)
		console_set_size(&w->console, o->console_cols, o->console_rows);
	else if (o->backend == BACKEND_NESTED)
		take_terminal_size(w, "start-up");
	/* A browser will say its size: offer F_SIZE from the start. */
	if (o->web_port && !w->console.size_known)
		console_set_size(&w->console, 80, 24);
	/* After the size is known, before any output: the header has it. */
	if (o->console_log && open_console_log(w) < 0)
		return -1;
	w->dev.features = console_features(&w->console);
	watch_listener(w);
	return 0;
}

/**
 * worker_main() - serve one socket index until told to stop
 * @spec:	the fds to serve, owned by this process from now on
 *
 * Return: a &enum worker_exit status for the supervisor
 */
int worker_main(const struct worker_spec *spec)
{
	static struct worker w;
	int status = WORKER_EXIT_STOPPED;

	memset(&w, 0, sizeof(w));
	w.spec = spec;
	w.sigfd = -1;
	ev_watch_init(&w.sig_watch);
	ev_watch_init(&w.listen_watch);
	ev_watch_init(&w.log_watch);
	if (setup(&w) < 0)
		status = WORKER_EXIT_STARTUP;
	else if (ev_run(&w.loop) < 0)
		status = WORKER_EXIT_FAILED;
	else if (w.quit)
		status = WORKER_EXIT_QUIT;
	vu_detach(&w.vu);
	if (w.web_on)
		web_server_fini(&w.web);
	console_fini(&w.console);
	if (w.log) {
		ev_del(&w.loop, &w.log_watch);
		console_log_close(w.log);
	}
	ev_loop_fini(&w.loop);
	if (w.sigfd >= 0)
		close(w.sigfd);
	return status;
}
