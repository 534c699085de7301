/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * e2e-io.c - the client side of the end-to-end tests: what socat and
 * expect would do, in one small file built at test time.
 *
 *   e2e-io connect [-w SECS] tcp:PORT|unix:PATH
 *	Connect to 127.0.0.1:PORT or the unix socket PATH (retrying for up
 *	to SECS seconds while nobody listens) and copy stdin to the socket
 *	and the socket to stdout. At the end of stdin the socket is
 *	closed and the program ends; it also ends when the peer closes.
 *
 *   e2e-io pty [-e] [-s COLSxROWS] [-r FILE] -- CMD [ARG]...
 *	Run CMD in a new session on a new pseudo-terminal (its stdin and
 *	stdout; also stderr with -e) and copy stdin to the terminal and the
 *	terminal to stdout, like a person at a terminal. The end of stdin
 *	leaves the terminal open. Ends when CMD has ended and the terminal
 *	went quiet; the exit status is CMD's (128 + N if killed by signal N).
 *	The terminal is COLSxROWS (default 80x24). With -r, SIGUSR1 resizes
 *	it to the COLSxROWS written in FILE, as a person resizing the window
 *	would (TIOCSWINSZ on the master: CMD's foreground gets SIGWINCH).
 *
 *   e2e-io escape
 *	Copy stdin to stdout with every Ctrl-a (0x01) doubled: what a
 *	person types to send that data through the nested backend.
 *
 *   e2e-io mconsole SOCKET COMMAND...
 *	Send one command (halt, reboot, version, ...) to a UML management
 *	console and print the reply.
 *
 *   e2e-io hostwait DEV connected|gone [SECS]
 *	In a guest (built static for it): open the virtio port DEV and wait
 *	up to SECS seconds (default 20) until its host side is connected
 *	(poll gives no POLLHUP) or gone (POLLHUP), then print "hostwait: DEV
 *	host connected" or "... host gone"; exit 1 on timeout. Opening the
 *	port is the guest opening it (only one opener at a time); closing it
 *	drops whatever the host sent meanwhile, so use it on a quiet port.
 *
 * Exit status 2 on usage errors, 1 on other failures.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static const char *prog = "e2e-io";

/* pty -r: SIGUSR1 asks for the size in resize_file. */
static volatile sig_atomic_t resize_wanted;
static const char *resize_file;
static int resize_master = -1;

static void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: %s connect [-w SECS] tcp:PORT|unix:PATH\n"
		"       %s pty [-e] [-s COLSxROWS] [-r FILE] -- CMD [ARG]...\n"
		"       %s escape\n"
		"       %s mconsole SOCKET COMMAND...\n"
		"       %s hostwait DEV connected|gone [SECS]\n",
		prog, prog, prog, prog, prog);
	exit(2);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Blocking write of everything; stdout is a file or a pipe. */
static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = {.fd = fd,
						     .events = POLLOUT};

				poll(&pfd, 1, -1);
				continue;
			}
			die("write: %s", strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
}

static void on_usr1(int sig)
{
	(void)sig;
	resize_wanted = 1;
}

static bool parse_winsize(const char *arg, struct winsize *ws)
{
	unsigned int c, r;
	char end;

	if (sscanf(arg, "%ux%u%c", &c, &r, &end) != 2 || !c || !r ||
	    c > 65535 || r > 65535)
		return false;
	ws->ws_col = (unsigned short)c;
	ws->ws_row = (unsigned short)r;
	return true;
}

/* Resize the terminal to what resize_file says (pty -r, on SIGUSR1). */
static void apply_resize(void)
{
	struct winsize ws = {0};
	char buf[64] = "";
	FILE *f;

	resize_wanted = 0;
	f = fopen(resize_file, "r");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		fprintf(stderr, "%s: resize: cannot read %s\n", prog,
			resize_file);
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	if (!parse_winsize(buf, &ws)) {
		fprintf(stderr, "%s: resize: '%s' is not COLSxROWS\n", prog,
			buf);
		return;
	}
	if (ioctl(resize_master, TIOCSWINSZ, &ws) < 0)
		fprintf(stderr, "%s: resize: %s\n", prog, strerror(errno));
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/*
 * The copy loop shared by connect and pty: stdin -> peer (non-blocking,
 * with a pending buffer, so a peer that does not read never stops us from
 * draining what it writes) and peer -> stdout.
 *
 * Return: 0 when the peer ended (EOF, or EIO on a pty master), or when
 * @child ended and the peer stayed quiet for a while afterwards.
 */
static int pump(int peer, bool is_socket, pid_t child, int *child_status)
{
	static char in[65536], out[65536];
	size_t in_len = 0, in_off = 0;
	bool in_eof = false;
	uint64_t quiet_since = 0;

	set_nonblock(peer);
	for (;;) {
		struct pollfd pfd[2];
		int n = 0, stdin_idx = -1, r;

		if (resize_wanted)
			apply_resize();
		if (child > 0 && *child_status < 0) {
			int st;

			if (waitpid(child, &st, WNOHANG) == child) {
				*child_status = st;
				quiet_since = now_ms();
			}
		}
		pfd[n].fd = peer;
		pfd[n].events = POLLIN | (in_len ? POLLOUT : 0);
		n++;
		if (!in_eof && in_len == 0) {
			stdin_idx = n;
			pfd[n].fd = STDIN_FILENO;
			pfd[n].events = POLLIN;
			n++;
		}
		/* A person closing the connection: no half-close. */
		if (is_socket && in_eof && in_len == 0) {
			close(peer);
			return 0;
		}
		r = poll(pfd, (nfds_t)n, child > 0 ? 100 : -1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		if (r == 0) {
			/* The command ended; a grandchild may still hold the
			 * terminal open without writing: don't wait forever. */
			if (child > 0 && *child_status >= 0 &&
			    now_ms() - quiet_since > 300)
				return 0;
			continue;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t k = read(peer, out, sizeof(out));

			if (k > 0) {
				write_all(STDOUT_FILENO, out, (size_t)k);
				quiet_since = now_ms();
			} else if (k == 0 ||
				   (errno != EAGAIN && errno != EINTR)) {
				/* A pty master reads EIO once the last slave fd
				 * is closed. */
				if (k < 0 && !(errno == EIO && !is_socket))
					fprintf(stderr, "%s: read: %s\n", prog,
						strerror(errno));
				return 0;
			}
		}
		if (in_len && (pfd[0].revents & POLLOUT)) {
			ssize_t w = write(peer, in + in_off, in_len);

			if (w > 0) {
				in_off += (size_t)w;
				in_len -= (size_t)w;
			} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				fprintf(stderr, "%s: write: %s\n", prog,
					strerror(errno));
				in_eof = true;
				in_len = 0;
			}
		}
		if (stdin_idx >= 0 &&
		    (pfd[stdin_idx].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t k = read(STDIN_FILENO, in, sizeof(in));

			if (k > 0) {
				in_off = 0;
				in_len = (size_t)k;
			} else if (k == 0 ||
				   (errno != EAGAIN && errno != EINTR)) {
				in_eof = true;
			}
		}
	}
}

static int connect_to(const char *spec)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_un un;
	} a;
	socklen_t len;
	int fd;

	memset(&a, 0, sizeof(a));
	if (strncmp(spec, "tcp:", 4) == 0) {
		char *end;
		long port = strtol(spec + 4, &end, 10);

		if (*end || port <= 0 || port > 65535)
			die("bad port in '%s'", spec);
		a.in.sin_family = AF_INET;
		a.in.sin_port = htons((uint16_t)port);
		a.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(a.in);
	} else if (strncmp(spec, "unix:", 5) == 0) {
		if (strlen(spec + 5) >= sizeof(a.un.sun_path))
			die("socket path too long: %s", spec + 5);
		a.un.sun_family = AF_UNIX;
		strcpy(a.un.sun_path, spec + 5);
		len = sizeof(a.un);
	} else {
		usage();
	}
	fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (connect(fd, &a.sa, len) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int cmd_connect(int argc, char **argv)
{
	double wait_s = 0;
	uint64_t deadline;
	int opt, fd;

	while ((opt = getopt(argc, argv, "+w:")) != -1) {
		if (opt != 'w')
			usage();
		wait_s = atof(optarg);
	}
	if (optind != argc - 1)
		usage();
	deadline = now_ms() + (uint64_t)(wait_s * 1000);
	while ((fd = connect_to(argv[optind])) < 0) {
		if ((errno != ECONNREFUSED && errno != ENOENT) ||
		    now_ms() >= deadline)
			die("connect %s: %s", argv[optind], strerror(errno));
		usleep(50000);
	}
	signal(SIGPIPE, SIG_IGN);
	pump(fd, true, 0, NULL);
	return 0;
}

static int cmd_pty(int argc, char **argv)
{
	struct winsize ws = {.ws_col = 80, .ws_row = 24};
	bool with_stderr = false;
	int opt, master, status = -1;
	char *slave_name;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+es:r:")) != -1) {
		switch (opt) {
		case 'e':
			with_stderr = true;
			break;
		case 's':
			if (!parse_winsize(optarg, &ws))
				usage();
			break;
		case 'r':
			resize_file = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
		die("pseudo-terminal: %s", strerror(errno));
	slave_name = ptsname(master);
	if (!slave_name)
		die("ptsname: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int s;

		setsid();
		s = open(slave_name, O_RDWR);
		if (s < 0)
			die("%s: %s", slave_name, strerror(errno));
		ioctl(s, TIOCSCTTY, 0);
		ioctl(s, TIOCSWINSZ, &ws);
		dup2(s, STDIN_FILENO);
		dup2(s, STDOUT_FILENO);
		if (with_stderr)
			dup2(s, STDERR_FILENO);
		if (s > STDERR_FILENO)
			close(s);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "%s: %s: %s\n", prog, argv[optind],
			strerror(errno));
		_exit(127);
	}
	signal(SIGPIPE, SIG_IGN);
	if (resize_file) {
		struct sigaction sa = {.sa_handler = on_usr1};

		/* No SA_RESTART: poll() returns at once to apply it. */
		resize_master = master;
		sigaction(SIGUSR1, &sa, NULL);
	}
	pump(master, false, pid, &status);
	if (status < 0) {
		/* The terminal closed first: the command ends soon. */
		for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0;
		     i++)
			usleep(50000);
		if (status < 0) {
			fprintf(stderr, "%s: %s still running; killing it\n",
				prog, argv[optind]);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
	}
	close(master);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int cmd_escape(void)
{
	static char in[65536], out[2 * sizeof(in)];
	ssize_t k;

	while ((k = read(STDIN_FILENO, in, sizeof(in))) != 0) {
		size_t n = 0;

		if (k < 0) {
			if (errno == EINTR)
				continue;
			die("read: %s", strerror(errno));
		}
		for (ssize_t i = 0; i < k; i++) {
			out[n++] = in[i];
			if (in[i] == 0x01)
				out[n++] = 0x01;
		}
		write_all(STDOUT_FILENO, out, n);
	}
	return 0;
}

/* The UML management console protocol (arch/um/drivers/mconsole.h). */
#define MCONSOLE_MAGIC	  0xcafebabe
#define MCONSOLE_VERSION  2
#define MCONSOLE_MAX_DATA 512

struct mconsole_request {
	uint32_t magic;
	uint32_t version;
	uint32_t len;
	char data[MCONSOLE_MAX_DATA];
};

struct mconsole_reply {
	uint32_t err;
	uint32_t more;
	uint32_t len;
	char data[MCONSOLE_MAX_DATA];
};

static int cmd_mconsole(int argc, char **argv)
{
	struct mconsole_request req = {.magic = MCONSOLE_MAGIC,
				       .version = MCONSOLE_VERSION};
	struct sockaddr_un to = {.sun_family = AF_UNIX};
	sa_family_t autobind = AF_UNIX;
	struct mconsole_reply rep;
	int fd, err = 0;
	size_t len = 0;

	if (argc < 3)
		usage();
	if (strlen(argv[1]) >= sizeof(to.sun_path))
		die("socket path too long: %s", argv[1]);
	strcpy(to.sun_path, argv[1]);
	for (int i = 2; i < argc; i++) {
		size_t k = strlen(argv[i]);

		if (len + k + 1 >= MCONSOLE_MAX_DATA)
			die("command too long");
		if (i > 2)
			req.data[len++] = ' ';
		memcpy(req.data + len, argv[i], k);
		len += k;
	}
	req.len = (uint32_t)len;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	/* An autobound abstract address, for the reply. */
	if (bind(fd, (struct sockaddr *)&autobind, sizeof(autobind)) < 0)
		die("bind: %s", strerror(errno));
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&to,
		   sizeof(to)) < 0)
		die("%s: %s", argv[1], strerror(errno));
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t k;

		/* "halt" may take the machine down before it answers. */
		if (poll(&pfd, 1, 3000) <= 0)
			die("%s: no reply", argv[1]);
		k = recv(fd, &rep, sizeof(rep), 0);
		if (k < (ssize_t)offsetof(struct mconsole_reply, data))
			die("%s: bad reply", argv[1]);
		if (rep.len > MCONSOLE_MAX_DATA ||
		    k < (ssize_t)(offsetof(struct mconsole_reply, data) +
				  rep.len))
			die("%s: bad reply", argv[1]);
		fwrite(rep.data, 1, strnlen(rep.data, rep.len), stdout);
		err |= rep.err != 0;
		if (!rep.more)
			break;
	}
	fputc('\n', stdout);
	return err;
}

static int cmd_hostwait(int argc, char **argv)
{
	uint64_t deadline;
	bool want_gone;
	int fd;

	if (argc < 3 || argc > 4)
		usage();
	if (strcmp(argv[2], "gone") == 0)
		want_gone = true;
	else if (strcmp(argv[2], "connected") == 0)
		want_gone = false;
	else
		usage();
	deadline = now_ms() + 1000 * (uint64_t)(argc == 4 ? atoi(argv[3]) : 20);
	fd = open(argv[1], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		die("%s: %s", argv[1], strerror(errno));
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int n = poll(&pfd, 1, 100);
		bool hup;

		if (n < 0 && errno != EINTR)
			die("poll %s: %s", argv[1], strerror(errno));
		/* Connected and quiet: poll times out (0), no POLLHUP. */
		hup = n > 0 && (pfd.revents & POLLHUP);
		if (n >= 0 && hup == want_gone) {
			printf("hostwait: %s host %s\n", argv[1],
			       hup ? "gone" : "connected");
			return 0;
		}
		if (now_ms() >= deadline)
			die("%s: the host side is still %s after %s s", argv[1],
			    hup ? "gone" : "connected",
			    argc == 4 ? argv[3] : "20");
		/* Gone: poll returns at once; don't spin. */
		if (hup)
			usleep(50000);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "connect") == 0)
		return cmd_connect(argc - 1, argv + 1);
	if (strcmp(argv[1], "pty") == 0)
		return cmd_pty(argc - 1, argv + 1);
	if (strcmp(argv[1], "escape") == 0 && argc == 2)
		return cmd_escape();
	if (strcmp(argv[1], "mconsole") == 0)
		return cmd_mconsole(argc - 1, argv + 1);
	if (strcmp(argv[1], "hostwait") == 0)
		return cmd_hostwait(argc - 1, argv + 1);
	usage();
}
