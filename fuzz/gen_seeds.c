/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * gen_seeds.c - seed corpora for the fuzz targets, written into
 * <dir>/fuzz_vhost_user/ and <dir>/fuzz_virtqueue/.
 *
 * fuzz_vhost_user gets real sessions, recorded. A child process runs the
 * daemon's own worker_main() on a unix socket with the uds backend; the
 * test frontend (tests/lib/frontend.c) negotiates with it as QEMU or UML
 * does, brings the console up, sends output, and types on a console
 * client. Every sendmsg() and write() this process makes passes through
 * the linker's --wrap: a message becomes a message record, its fds
 * described by kind (a memfd with its contents); a kick becomes a kick
 * record, after poke records carrying whatever changed in guest memory
 * since the last look; the client's typing becomes an input record. Each
 * session is written once for the console device and once for the stub.
 *
 * fuzz_virtqueue gets rings laid out by hand: output chains, input
 * buffers, mixed and indirect chains, a wrapping avail index, a ring of
 * one, two regions.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frontend.h"
#include "fuzz.h"
#include "log.h"
#include "options.h"
#include "sock.h"
#include "worker.h"

#define MAX_FD	   1024
#define MAX_CHUNKS 255
#define CHUNK_MAX  1024 /* bytes per chunk */
#define CHUNK_GAP  8 /* equal bytes a chunk may span */
#define MAX_KEPT   64 /* the harness's slots */

struct chunk {
	size_t off, len;
};

/* What is being recorded: one session of one frontend. */
struct recorder {
	bool on;
	struct fe *fe;
	int client; /* the console client's fd, -1 */
	uint8_t *buf; /* the seed so far */
	size_t len, cap;
	uint8_t *snap; /* guest memory as the seed last described it */
	int mem_slot; /* the harness slot of the memfd, -1 */
	int slot_of[MAX_FD]; /* harness slot of each frontend fd, -1 */
	unsigned int n_slots;
};

static struct recorder rec;
static const char *out_dir;
static unsigned int seeds_written;

ssize_t __wrap_sendmsg(int fd, const struct msghdr *mh, int flags);
ssize_t __wrap_write(int fd, const void *p, size_t n);
ssize_t __real_sendmsg(int fd, const struct msghdr *mh, int flags);
ssize_t __real_write(int fd, const void *p, size_t n);

/* --- the seed buffer ----------------------------------------------------- */

/* put() - append @n bytes to the seed */
static void put(const void *p, size_t n)
{
	if (rec.len + n > rec.cap) {
		rec.cap = 2 * (rec.len + n);
		rec.buf = realloc(rec.buf, rec.cap);
		if (!rec.buf) {
			perror("gen_seeds");
			exit(1);
		}
	}
	memcpy(rec.buf + rec.len, p, n);
	rec.len += n;
}

/* put_u8(), put_u16(), put_u32() - a little-endian field of the seed */
static void put_u8(unsigned int v)
{
	uint8_t b = (uint8_t)v;

	put(&b, 1);
}

static void put_u16(size_t v)
{
	uint16_t x = (uint16_t)v;

	put(&x, 2);
}

static void put_u32(size_t v)
{
	uint32_t x = (uint32_t)v;

	put(&x, 4);
}

/* write_seed() - write @len bytes as <out_dir>/<target>/<name> */
static void write_seed(const char *target, const char *name, const void *p,
		       size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out_dir, target);
	mkdir(out_dir, 0755);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "gen_seeds: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	seeds_written++;
}

/* --- guest memory -------------------------------------------------------- */

/*
 * find_chunks() - the ranges where @now differs from @was
 * @limit:	most chunks to return
 *
 * Return: how many were found (they stop at @limit)
 */
static unsigned int find_chunks(const uint8_t *now, const uint8_t *was,
				size_t len, struct chunk *c, unsigned int limit)
{
	unsigned int n = 0;
	size_t i = 0;

	while (i < len && n < limit) {
		size_t end, last;

		/* Whole pages alike are common: skip them fast. */
		if (i % FZ_PAGE == 0 && len - i >= FZ_PAGE &&
		    memcmp(now + i, was + i, FZ_PAGE) == 0) {
			i += FZ_PAGE;
			continue;
		}
		if (now[i] == was[i]) {
			i++;
			continue;
		}
		last = i;
		for (end = i + 1; end < len && end - i < CHUNK_MAX; end++) {
			if (now[end] != was[end])
				last = end;
			else if (end - last > CHUNK_GAP)
				break;
		}
		c[n].off = i;
		c[n].len = last + 1 - i;
		n++;
		i = last + 1;
	}
	return n;
}

/*
 * put_chunks() - a chunk list of what differs from @was, which then holds
 * what the list describes
 */
static void put_chunks(const uint8_t *now, uint8_t *was, size_t len)
{
	static struct chunk c[MAX_CHUNKS];
	unsigned int n = find_chunks(now, was, len, c, MAX_CHUNKS);

	put_u8(n);
	for (unsigned int i = 0; i < n; i++) {
		put_u32(c[i].off);
		put_u16(c[i].len);
		put(now + c[i].off, c[i].len);
		memcpy(was + c[i].off, now + c[i].off, c[i].len);
	}
}

/* sync_memory() - poke records until the seed's memory is the guest's */
static void sync_memory(void)
{
	static struct chunk probe[1];

	if (rec.mem_slot < 0)
		return;
	while (find_chunks(rec.fe->map, rec.snap, rec.fe->map_len, probe, 1)) {
		put_u8(FZ_REC_POKE << 5);
		put_u8((unsigned int)rec.mem_slot);
		put_chunks(rec.fe->map, rec.snap, rec.fe->map_len);
	}
}

/* --- fds ----------------------------------------------------------------- */

/* kind_of() - what the harness should make for frontend fd @fd */
static enum fz_fd_kind kind_of(int fd)
{
	char link[64], target[128];
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return FZ_FD_DEVNULL;
	if (S_ISREG(st.st_mode))
		return FZ_FD_MEMFD;
	if (S_ISFIFO(st.st_mode)) {
		struct pollfd p = {fd, POLLIN, 0};

		if ((fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY)
			return FZ_FD_PIPE_WRITE;
		if (poll(&p, 1, 0) == 1 && (p.revents & POLLHUP))
			return FZ_FD_PIPE_EOF;
		return FZ_FD_PIPE_READ;
	}
	if (S_ISSOCK(st.st_mode))
		return FZ_FD_SOCKET;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = '\0';
		if (strstr(target, "eventfd"))
			return FZ_FD_EVENTFD;
	}
	return FZ_FD_DEVNULL;
}

/* put_file() - describe a memfd other than guest RAM: size, contents */
static void put_file(int fd)
{
	struct stat st;
	uint8_t *map = NULL, *zeros = NULL;
	size_t len = 0;

	if (fstat(fd, &st) == 0 && st.st_size > 0 &&
	    (uint64_t)st.st_size <= (uint64_t)FZ_MEMFD_MAX_PAGES * FZ_PAGE) {
		len = (size_t)st.st_size;
		map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
		zeros = calloc(1, len);
	}
	if (map == MAP_FAILED || !zeros) {
		put_u16(0);
		put_u8(0);
	} else {
		put_u16(len / FZ_PAGE);
		put_chunks(map, zeros, len);
	}
	if (map && map != MAP_FAILED)
		munmap(map, len);
	free(zeros);
}

/* put_fd() - describe one passed fd; it takes a harness slot if kept */
static void put_fd(int fd)
{
	enum fz_fd_kind kind = kind_of(fd);
	int slot = -1;

	if (fz_fd_keeps(kind) && rec.n_slots < MAX_KEPT)
		slot = (int)rec.n_slots++;
	if (fd >= 0 && fd < MAX_FD)
		rec.slot_of[fd] = slot;
	put_u8(kind);
	switch (kind) {
	case FZ_FD_MEMFD:
		if (fd == rec.fe->memfd) {
			put_u16(rec.fe->map_len / FZ_PAGE);
			/* Against zeros: what the list misses, pokes send. */
			memset(rec.snap, 0, rec.fe->map_len);
			put_chunks(rec.fe->map, rec.snap, rec.fe->map_len);
			rec.mem_slot = slot;
		} else {
			put_file(fd);
		}
		break;
	case FZ_FD_EVENTFD:
	case FZ_FD_PIPE_READ:
	case FZ_FD_SOCKET:
		put_u8(0); /* counter, bytes waiting */
		break;
	default:
		break;
	}
}

/* --- the wrapped calls --------------------------------------------------- */

/**
 * __wrap_sendmsg() - sendmsg(); a frontend message is recorded first
 * @fd:		socket
 * @mh:		message
 * @flags:	flags
 *
 * Return: as sendmsg()
 */
ssize_t __wrap_sendmsg(int fd, const struct msghdr *mh, int flags)
{
	struct vhost_user_header hdr = {0, 0, UINT32_MAX};
	struct cmsghdr *c;
	unsigned int nfds = 0;
	size_t total = 0;
	int fds[16];
	bool raw;

	if (!rec.on || fd != rec.fe->sock)
		return __real_sendmsg(fd, mh, flags);
	sync_memory();
	for (c = CMSG_FIRSTHDR(mh); c;
	     c = CMSG_NXTHDR((struct msghdr *)mh, c)) {
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < n && nfds < 10; i++)
			memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int),
			       sizeof(int));
	}
	for (size_t i = 0; i < mh->msg_iovlen; i++)
		total += mh->msg_iov[i].iov_len;
	if (mh->msg_iovlen && mh->msg_iov[0].iov_len >= sizeof(hdr))
		memcpy(&hdr, mh->msg_iov[0].iov_base, sizeof(hdr));
	/* Bytes that are not exactly one message go as they are. */
	raw = total != sizeof(hdr) + hdr.size;
	put_u8(nfds | (raw ? FZ_MSG_RAW : 0));
	for (unsigned int i = 0; i < nfds; i++)
		put_fd(fds[i]);
	if (raw)
		put_u16(total);
	for (size_t i = 0; i < mh->msg_iovlen; i++)
		put(mh->msg_iov[i].iov_base, mh->msg_iov[i].iov_len);
	return __real_sendmsg(fd, mh, flags);
}

/**
 * __wrap_write() - write(); a kick or the client's typing is recorded first
 * @fd:		file
 * @p:		bytes
 * @n:		how many
 *
 * Return: as write()
 */
ssize_t __wrap_write(int fd, const void *p, size_t n)
{
	if (!rec.on)
		return __real_write(fd, p, n);
	for (unsigned int q = 0; q < rec.fe->nq; q++) {
		if (fd != rec.fe->rings[q].kick_fd || fd < 0 || fd >= MAX_FD ||
		    rec.slot_of[fd] < 0)
			continue;
		sync_memory();
		put_u8(FZ_REC_KICK << 5);
		put_u8((unsigned int)rec.slot_of[fd]);
	}
	if (fd == rec.client && n <= UINT16_MAX) {
		sync_memory();
		put_u8(FZ_REC_INPUT << 5);
		put_u16(n);
		put(p, n);
	}
	return __real_write(fd, p, n);
}

/* --- sessions ------------------------------------------------------------ */

struct scenario {
	const char *name;
	struct fe_config cfg;
	int (*play)(struct fe *fe, const char *con_path);
};

/* start_worker() - the daemon's worker for socket 0, in a child */
static pid_t start_worker(const char *vu_path, const char *con_path)
{
	static struct options opts;
	struct worker_spec spec = {.opts = &opts};
	struct sock_file_id vu_id, con_id;
	char err[SOCK_ERR_LEN];
	pid_t pid;

	opts = (struct options){
		.socket_count = 1,
		.backend = BACKEND_UDS,
		.max_queue_size = 256,
		.output_buffer = DEFAULT_OUTPUT_BUFFER,
		.listen_fd = -1,
		.log_level = LOG_LEVEL_WARN,
		/* F_SIZE offered: RESIZE and config changes get recorded. */
		.console_cols = 80,
		.console_rows = 24,
	};
	spec.vu_listen_fd =
		sock_listen_unix(vu_path, 0, &vu_id, err, sizeof(err));
	spec.backend_listen_fd =
		sock_listen_unix(con_path, 0, &con_id, err, sizeof(err));
	if (spec.vu_listen_fd < 0 || spec.backend_listen_fd < 0) {
		fprintf(stderr, "gen_seeds: %s\n", err);
		exit(1);
	}
	pid = fork();
	if (pid < 0) {
		perror("gen_seeds: fork");
		exit(1);
	}
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		/* The tour's failures are on purpose: keep them quiet. */
		if (!getenv("VDC_SEEDS_LOG") && null >= 0)
			dup2(null, STDERR_FILENO);
		_exit(worker_main(&spec));
	}
	close(spec.vu_listen_fd);
	close(spec.backend_listen_fd);
	return pid;
}

/* connect_client() - a console client on the uds backend */
static int connect_client(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * play_console() - what a session does once the frontend is connected:
 * set-up, the console handshake, output, typed input
 *
 * Return: 0, or -1 with the reason in fe->err
 */
static int play_console(struct fe *fe, const char *con_path)
{
	static const char out[] = "Debian GNU/Linux 12 hvc0\r\nlogin: ";
	static const char typed[] = "root\r";
	char buf[256];

	if (fe_negotiate(fe) < 0 || fe_console_handshake(fe, NULL, 0) < 0)
		return -1;
	/* Boot messages nobody reads yet: more than a small buffer keeps. */
	if (fe->cfg.buf_size >= 4096 && fe->cfg.queue_size >= 8) {
		static uint8_t boot[2 * 4096];

		memset(boot, '.', sizeof(boot));
		if (fe_submit_tx(fe, CONSOLE_QUEUE_TX, boot, sizeof(boot), 4096,
				 false) < 0)
			return -1;
		fe_publish(fe, CONSOLE_QUEUE_TX);
	}
	if (fe_submit_tx(fe, CONSOLE_QUEUE_TX, out, sizeof(out) - 1, 16,
			 false) < 0)
		return -1;
	fe_publish(fe, CONSOLE_QUEUE_TX);
	if (fe->indirect) {
		if (fe_submit_tx(fe, CONSOLE_QUEUE_TX, out, sizeof(out) - 1, 8,
				 true) < 0)
			return -1;
		fe_publish(fe, CONSOLE_QUEUE_TX);
	}
	rec.client = connect_client(con_path);
	if (rec.client < 0)
		return -1;
	if (write(rec.client, typed, sizeof(typed) - 1) < 0 ||
	    fe_read_rx(fe, buf, sizeof(buf), 5000) < 0)
		return -1;
	return 0;
}

/*
 * play_legacy() - a driver without MULTIPORT: the config change it is
 * told of on the back-end channel, an emergency write, output, input
 *
 * Return: 0, or -1 with the reason in fe->err
 */
static int play_legacy(struct fe *fe, const char *con_path)
{
	static const uint8_t emerg[4] = {'!', 0, 0, 0};
	static const char out[] = "legacy console\r\n";
	struct vhost_user_header h;
	char buf[64];

	if (fe_negotiate(fe) < 0)
		return -1;
	if (fe->chan_fd >= 0 && fe_backend_recv(fe, &h, 2000) == 0)
		fe_backend_reply(fe, &h, 0);
	if (fe_set_config(fe, 8, sizeof(emerg), emerg) < 0 ||
	    fe_post_rx(fe, CONSOLE_QUEUE_RX, 4, fe->cfg.buf_size) < 0 ||
	    fe_submit_tx(fe, CONSOLE_QUEUE_TX, out, sizeof(out) - 1, 8, false) <
		    0)
		return -1;
	fe_publish(fe, CONSOLE_QUEUE_RX);
	fe_publish(fe, CONSOLE_QUEUE_TX);
	rec.client = connect_client(con_path);
	if (rec.client < 0 || write(rec.client, "ls\r", 3) < 0 ||
	    fe_read_rx(fe, buf, sizeof(buf), 5000) < 0)
		return -1;
	return 0;
}

/*
 * add_region() - ADD_MEM_REG of a fresh one-page memfd at @gpa / @uva
 * @m:		the region as sent, for a later REM_MEM_REG
 */
static void add_region(struct fe *fe, uint64_t gpa, uint64_t uva,
		       struct vhost_user_mem_single *m)
{
	static const char text[] = "more guest memory";
	int fd = memfd_create("fe-extra-ram", MFD_CLOEXEC);

	*m = (struct vhost_user_mem_single){
		.region = {gpa, FZ_PAGE, uva, 0},
	};
	if (fd < 0 || ftruncate(fd, FZ_PAGE) < 0 ||
	    pwrite(fd, text, sizeof(text), 0) < 0) {
		perror("gen_seeds: memfd");
		exit(1);
	}
	fe_request(fe, VHOST_USER_ADD_MEM_REG, m, sizeof(*m), &fd, 1, NULL, 0);
	close(fd);
}

/* vring_fd() - SET_VRING_KICK/CALL/ERR with @fd, or none when -1 */
static void vring_fd(struct fe *fe, uint32_t req, unsigned int q, int fd)
{
	uint64_t v = q | (fd < 0 ? VHOST_USER_VRING_NOFD_MASK : 0);

	fe_request(fe, req, &v, sizeof(v), &fd, fd < 0 ? 0 : 1, NULL, 0);
}

/*
 * play_tour() - the requests a VMM rarely sends, and the failures it may
 * cause: status, memory slots, config out of range, odd kick fds, a
 * stopped queue, a reset; whether each succeeds does not matter
 *
 * Return: 0, or -1 with the reason in fe->err
 */
static int play_tour(struct fe *fe, const char *con_path)
{
	struct vhost_user_config cfg = {.offset = 0, .size = 4};
	struct vhost_user_vring_state base = {1, 0};
	struct vhost_user_mem_single m;
	uint8_t buf[16];
	uint64_t v;
	int fd, p[2];

	if (play_console(fe, con_path) < 0)
		return -1;
	fe_set_u64(fe, VHOST_USER_SET_STATUS, 0xf);
	fe_get_u64(fe, VHOST_USER_GET_STATUS, &v);
	fe_get_u64(fe, VHOST_USER_GET_MAX_MEM_SLOTS, &v);
	fe_get_u64(fe, VHOST_USER_GET_QUEUE_NUM, &v);
	fe_request(fe, VHOST_USER_SET_CONFIG, &cfg,
		   VHOST_USER_CONFIG_HDR_SIZE + cfg.size, NULL, 0, NULL, 0);
	fe_get_config(fe, 8, 8, buf);
	add_region(fe, 0x10000000, 0x7f1300000000, &m);
	fe_request(fe, VHOST_USER_REM_MEM_REG, &m, sizeof(m), NULL, 0, NULL, 0);
	/* One more than there are slots. */
	for (unsigned int i = 0; i < GUEST_MEM_MAX_SLOTS; i++)
		add_region(fe, 0x20000000 + i * 0x10000ull,
			   0x7f1400000000 + i * 0x10000ull, &m);
	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	vring_fd(fe, VHOST_USER_SET_VRING_ERR, 0, fd);
	close(fd);
	vring_fd(fe, VHOST_USER_SET_VRING_ERR, 0, -1);
	vring_fd(fe, VHOST_USER_SET_VRING_KICK, 3, -1);
	fe_request(fe, VHOST_USER_GET_VRING_BASE, &base, sizeof(base), NULL, 0,
		   &base, sizeof(base));
	/* A kick fd whose writer is gone, then one that cannot be polled. */
	if (pipe2(p, O_CLOEXEC) == 0) {
		close(p[1]);
		vring_fd(fe, VHOST_USER_SET_VRING_KICK, 1, p[0]);
		close(p[0]);
	}
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	vring_fd(fe, VHOST_USER_SET_VRING_KICK, 2, fd);
	close(fd);
	fe_kick(fe, CONSOLE_QUEUE_CTRL_TX);
	fe_request(fe, VHOST_USER_RESET_OWNER, NULL, 0, NULL, 0, NULL, 0);
	return fe_request(fe, VHOST_USER_SET_OWNER, NULL, 0, NULL, 0, NULL, 0);
}

/*
 * play_tour_overflow() - the tour, then a message with more fds than any
 * may carry: the daemon closes the connection
 *
 * Return: 0, or -1 with the reason in fe->err
 */
static int play_tour_overflow(struct fe *fe, const char *con_path)
{
	int fds[VHOST_USER_MAX_FDS + 1];
	uint64_t v = 0;
	int r;

	if (play_tour(fe, con_path) < 0)
		return -1;
	for (unsigned int i = 0; i < VHOST_USER_MAX_FDS + 1; i++)
		fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	r = fe_send(fe, VHOST_USER_SET_VRING_CALL, VHOST_USER_VERSION, &v,
		    sizeof(v), fds, VHOST_USER_MAX_FDS + 1);
	for (unsigned int i = 0; i < VHOST_USER_MAX_FDS + 1; i++)
		close(fds[i]);
	return r;
}

/*
 * play_tour_truncated() - the tour, then half a message and a hang-up
 *
 * Return: 0, or -1 with the reason in fe->err
 */
static int play_tour_truncated(struct fe *fe, const char *con_path)
{
	struct vhost_user_header hdr = {VHOST_USER_SET_FEATURES,
					VHOST_USER_VERSION, 8};
	struct iovec iov = {&hdr, sizeof(hdr)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (play_tour(fe, con_path) < 0)
		return -1;
	if (sendmsg(fe->sock, &mh, MSG_NOSIGNAL) < 0)
		return -1;
	/* The frontend closes its end, which the recorder cannot see. */
	put_u8(FZ_REC_HANGUP << 5);
	put_u8(0);
	return 0;
}

/*
 * record_session() - run one scenario against a fresh worker and write its
 * seeds
 *
 * Return: 0, or -1 (the reason printed; what was recorded is kept)
 */
static int record_session(const struct scenario *s)
{
	static const uint8_t modes[] = {FZ_MODE_CONSOLE, 0,
					FZ_MODE_SMALL_IOV | FZ_MODE_UNPOP};
	char dir[] = "/tmp/vdc-seeds.XXXXXX", vu_path[64], con_path[64];
	struct fe_config cfg = s->cfg;
	static struct fe fe;
	int status, r = 0;
	pid_t pid;

	if (!mkdtemp(dir)) {
		perror("gen_seeds: mkdtemp");
		exit(1);
	}
	snprintf(vu_path, sizeof(vu_path), "%s/vu0", dir);
	snprintf(con_path, sizeof(con_path), "%s/con0", dir);
	pid = start_worker(vu_path, con_path);
	cfg.socket_path = vu_path;
	if (fe_open(&fe, &cfg) < 0) {
		fprintf(stderr, "gen_seeds: %s: %s\n", s->name, fe.err);
		r = -1;
		goto out;
	}
	memset(&rec, 0, sizeof(rec));
	rec.fe = &fe;
	rec.client = -1;
	rec.mem_slot = -1;
	memset(rec.slot_of, 0xff, sizeof(rec.slot_of));
	rec.snap = calloc(1, fe.map_len);
	if (!rec.snap) {
		perror("gen_seeds");
		exit(1);
	}
	put_u8(0); /* the mode byte, set per seed below */
	rec.on = true;
	if (s->play(&fe, con_path) < 0) {
		fprintf(stderr, "gen_seeds: %s: %s\n", s->name, fe.err);
		r = -1;
	}
	rec.on = false;
	for (size_t i = 0; i < sizeof(modes); i++) {
		char name[96];

		rec.buf[0] = modes[i];
		snprintf(name, sizeof(name), "%s-mode%02x", s->name, modes[i]);
		write_seed("fuzz_vhost_user", name, rec.buf, rec.len);
	}
	if (rec.client >= 0)
		close(rec.client);
	free(rec.buf);
	free(rec.snap);
	fe_close(&fe);
out:
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	unlink(vu_path);
	unlink(con_path);
	rmdir(dir);
	return r;
}

/* --- rings by hand ------------------------------------------------------- */

#define VQ_MEM (1u << 16)
#define VQ_GPA FE_GPA_BASE
#define VQ_UVA FE_UVA_BASE

struct vq_seed {
	struct fz_vq_header h;
	uint8_t mem[2 * VQ_MEM];
	size_t mem_len; /* bytes of mem the seed carries */
	unsigned int num;
	uint16_t avail_idx;
	size_t data; /* next free data byte */
};

static struct vq_seed vs;

/* vq_begin() - an empty ring of @num in a 64 KiB region */
static void vq_begin(unsigned int qlog, uint8_t flags, uint16_t base,
		     const uint8_t actions[FZ_VQ_ACTIONS])
{
	unsigned int num = 1u << qlog;

	memset(&vs, 0, sizeof(vs));
	vs.num = num;
	vs.h.flags = flags;
	vs.h.qlog = (uint8_t)qlog;
	vs.h.last_avail_idx = base;
	vs.h.region_size = VQ_MEM - 1;
	vs.h.gpa = VQ_GPA;
	vs.h.uva = VQ_UVA;
	vs.h.desc_off = 0;
	vs.h.avail_off = 16 * num;
	vs.h.used_off = (uint32_t)((vs.h.avail_off + 6 + 2 * num + 3) & ~3u);
	vs.data = (vs.h.used_off + 6 + 8 * num + 15) & ~(size_t)15;
	vs.avail_idx = base;
	memcpy(vs.h.actions, actions, FZ_VQ_ACTIONS);
	vs.mem_len = vs.data;
	memcpy(vs.mem + vs.h.used_off + 2, &base, 2); /* used->idx */
}

/* vq_buf() - @len bytes of data space (filled with @fill) */
static uint64_t vq_buf(size_t len, int fill)
{
	size_t at = vs.data;

	memset(vs.mem + at, fill, len);
	vs.data += (len + 15) & ~(size_t)15;
	if (vs.data > vs.mem_len)
		vs.mem_len = vs.data;
	return VQ_GPA + at;
}

/* vq_desc() - write descriptor @i of the table at @table (an offset) */
static void vq_desc(size_t table, unsigned int i, uint64_t addr, uint32_t len,
		    uint16_t flags, uint16_t next)
{
	struct vring_desc d = {addr, len, flags, next};

	memcpy(vs.mem + table + 16 * i, &d, sizeof(d));
}

/* vq_avail() - publish chain @head */
static void vq_avail(uint16_t head)
{
	memcpy(vs.mem + vs.h.avail_off + 4 + 2 * (vs.avail_idx % vs.num), &head,
	       2);
	vs.avail_idx++;
	memcpy(vs.mem + vs.h.avail_off + 2, &vs.avail_idx, 2);
}

/* vq_write() - the seed: header, then the memory it uses */
static void vq_write(const char *name)
{
	static uint8_t out[sizeof(vs.h) + sizeof(vs.mem)];

	memcpy(out, &vs.h, sizeof(vs.h));
	memcpy(out + sizeof(vs.h), vs.mem, vs.mem_len);
	write_seed("fuzz_virtqueue", name, out, sizeof(vs.h) + vs.mem_len);
}

/* Pop and complete, keep and give back, keep and complete, publish. */
static const uint8_t act_mixed[FZ_VQ_ACTIONS] = {
	0x48, 0x4b, 0x4b, 0x0c, 0x4b, 0x05, 0x4f, 0x00,
	0x49, 0x4b, 0x14, 0x0d, 0x4a, 0x4f, 0x06, 0x4f,
};
/* Pop and complete, with room for one iovec or for many. */
static const uint8_t act_drain[FZ_VQ_ACTIONS] = {
	0x48, 0x49, 0x00, 0x4a, 0x4f, 0x48, 0x49, 0x4a,
	0x48, 0x49, 0x4a, 0x4f, 0x48, 0x49, 0x4a, 0x4f,
};

/* vq_seeds() - the hand-made rings */
static void vq_seeds(void)
{
	static const char hello[] = "hello, world\n";
	size_t table;

	/* Output: one buffer, a chain of three, an indirect table of four. */
	vq_begin(4, FZ_VQ_EVENT_IDX | FZ_VQ_INDIRECT, 0, act_mixed);
	vq_desc(0, 0, vq_buf(sizeof(hello), 'h'), sizeof(hello), 0, 0);
	vq_avail(0);
	for (uint16_t i = 1; i <= 3; i++)
		vq_desc(0, i, vq_buf(5, 'c'), 5, i < 3 ? VRING_DESC_F_NEXT : 0,
			(uint16_t)(i + 1));
	vq_avail(1);
	table = vs.data;
	vq_buf(4 * 16, 0);
	for (uint16_t i = 0; i < 4; i++)
		vq_desc(table, i, vq_buf(8, 'i'), 8,
			i < 3 ? VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	vq_desc(0, 4, VQ_GPA + table, 4 * 16, VRING_DESC_F_INDIRECT, 0);
	vq_avail(4);
	vq_write("tx-direct-chain-indirect");

	/* Input: 32 writable buffers, as the console driver posts them. */
	vq_begin(6, FZ_VQ_EVENT_IDX, 0, act_mixed);
	for (uint16_t i = 0; i < 32; i++) {
		vq_desc(0, i, vq_buf(64, 0), 64, VRING_DESC_F_WRITE, 0);
		vq_avail(i);
	}
	vq_write("rx-buffers");

	/* Readable then writable, an empty descriptor, no features. */
	vq_begin(3, FZ_VQ_NOTIFY_ON_EMPTY, 0, act_drain);
	vq_desc(0, 0, vq_buf(12, 'o'), 12, VRING_DESC_F_NEXT, 1);
	vq_desc(0, 1, vq_buf(0, 0), 0, VRING_DESC_F_NEXT, 2);
	vq_desc(0, 2, vq_buf(4, 'o'), 4, VRING_DESC_F_NEXT, 3);
	vq_desc(0, 3, vq_buf(32, 0), 32, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
		4);
	vq_desc(0, 4, vq_buf(32, 0), 32, VRING_DESC_F_WRITE, 0);
	vq_avail(0);
	vq_write("mixed-chain");

	/* Indirect table with readable and writable entries. */
	vq_begin(2, FZ_VQ_INDIRECT | FZ_VQ_EVENT_IDX, 0, act_drain);
	table = vs.data;
	vq_buf(3 * 16, 0);
	vq_desc(table, 0, vq_buf(16, 'r'), 16, VRING_DESC_F_NEXT, 1);
	vq_desc(table, 1, vq_buf(16, 0), 16,
		VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	vq_desc(table, 2, vq_buf(16, 0), 16, VRING_DESC_F_WRITE, 0);
	vq_desc(0, 1, VQ_GPA + table, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	vq_avail(1);
	vq_write("indirect-mixed");

	/* A full ring of 256 whose avail index wraps past 65535. */
	vq_begin(8, FZ_VQ_EVENT_IDX, 65500, act_drain);
	for (uint16_t i = 0; i < 256; i++) {
		vq_desc(0, i, vq_buf(4, 'w'), 4, 0, 0);
		vq_avail((uint16_t)(255 - i));
	}
	vq_write("full-ring-wrapping");

	/* The smallest ring. */
	vq_begin(0, 0, 7, act_drain);
	vq_desc(0, 0, vq_buf(1, '!'), 1, 0, 0);
	vq_avail(0);
	vq_write("ring-of-one");

	/* Control messages both ways, as the console's queues 2 and 3. */
	vq_begin(5, FZ_VQ_EVENT_IDX, 0, act_mixed);
	for (uint16_t i = 0; i < 8; i++) {
		struct virtio_console_control m = {0, 3 + i % 4, 1};
		uint64_t at = vq_buf(sizeof(m), 0);

		memcpy(vs.mem + (at - VQ_GPA), &m, sizeof(m));
		vq_desc(0, i, at, sizeof(m), i % 2 ? VRING_DESC_F_WRITE : 0, 0);
		vq_avail(i);
	}
	vq_write("control-messages");

	/* Buffers in a second region, which goes away half-way. */
	vq_begin(4, FZ_VQ_TWO_REGIONS | FZ_VQ_DROP_REGION, 0, act_drain);
	vs.h.region_size = FZ_PAGE - 1;
	for (uint16_t i = 0; i < 8; i++) {
		vq_desc(0, i, VQ_GPA + FZ_PAGE + 256u * i, 256, 0, 0);
		memset(vs.mem + FZ_PAGE + 256u * i, 's', 256);
		vq_avail(i);
	}
	vs.mem_len = FZ_PAGE + 8 * 256;
	vq_write("second-region");
}

/**
 * main() - write every seed into the directory given
 * @argc:	2
 * @argv:	the program, the output directory
 *
 * Return: 0, or 1 if a session could not be recorded at all
 */
int main(int argc, char *argv[])
{
	static const struct scenario sessions[] = {
		{"qemu", {.style = FE_STYLE_QEMU}, play_console},
		{"uml", {.style = FE_STYLE_UML}, play_console},
		{"qemu-no-protocol-features",
		 {.style = FE_STYLE_QEMU, .no_protocol_features = true},
		 play_console},
		{"qemu-small-plain",
		 {.style = FE_STYLE_QEMU,
		  .queue_size = 8,
		  .buf_size = 256,
		  .features = (1ULL << VIRTIO_F_VERSION_1) |
			      (1ULL << VIRTIO_CONSOLE_F_MULTIPORT)},
		 play_console},
		{"uml-128",
		 {.style = FE_STYLE_UML, .queue_size = 128},
		 play_console},
		{"qemu-legacy",
		 {.style = FE_STYLE_QEMU,
		  .features = ~(1ULL << VIRTIO_CONSOLE_F_MULTIPORT)},
		 play_legacy},
		{"qemu-tour-overflow",
		 {.style = FE_STYLE_QEMU, .queue_size = 8},
		 play_tour_overflow},
		{"uml-tour-truncated",
		 {.style = FE_STYLE_UML, .queue_size = 8},
		 play_tour_truncated},
	};
	int failed = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 1;
	}
	out_dir = argv[1];
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sizeof(sessions) / sizeof(sessions[0]); i++)
		if (record_session(&sessions[i]) < 0)
			failed++;
	vq_seeds();
	printf("gen_seeds: %u seeds in %s", seeds_written, out_dir);
	if (failed)
		printf(" (%d sessions incomplete)", failed);
	printf("\n");
	return failed == (int)(sizeof(sessions) / sizeof(sessions[0]));
}
