/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * main.c - vdc-bench: the command line, the order of the runs, and the
 * cleanup that runs on every way out.
 *
 * Signals are taken by one thread with sigwait(), so cleanup there may do
 * anything: stop the daemons, remove the temporary directory, exit.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench.h"
#include "dut.h"
#include "report.h"
#include "runs.h"

#define DEFAULT_DAEMON "./vhost-device-console"
#define DEFAULT_PORT   24000

static struct bench_opts opts;

/* --- cleanup -------------------------------------------------------- */

/* Remove the temporary directory and what the daemons left in it. */
static void remove_tmpdir(void)
{
	char path[BENCH_PATH_MAX + 300];
	struct dirent *e;
	DIR *d;

	if (!opts.tmpdir[0] || opts.keep_tmp)
		return;
	d = opendir(opts.tmpdir);
	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", opts.tmpdir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(opts.tmpdir);
}

/* Runs once, whoever calls it first: exit(), or the signal thread. */
static void cleanup(void)
{
	static int done;

	if (__atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL))
		return;
	bench_kill_children();
	remove_tmpdir();
	if (opts.keep_tmp && opts.tmpdir[0])
		fprintf(stderr, "vdc-bench: kept %s\n", opts.tmpdir);
}

/* The signal thread: wait for a stop signal, clean up, exit. */
static void *signal_main(void *arg)
{
	sigset_t *set = arg;
	int sig;

	if (sigwait(set, &sig) == 0) {
		fprintf(stderr, "vdc-bench: %s: stopping\n", strsignal(sig));
		cleanup();
		_exit(128 + sig);
	}
	return NULL;
}

/* Block the stop signals everywhere; one thread waits for them. */
static void handle_signals(void)
{
	static sigset_t set;
	pthread_t t;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_create(&t, NULL, signal_main, &set) != 0)
		bench_die("cannot start the signal thread");
	pthread_detach(t);
}

/* --- the command line ----------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vdc-bench [OPTION]... [-- DAEMON [ARG]...]\n"
		"Benchmark a vhost-user console backend through the test "
		"frontend.\n\n"
		"DAEMON [ARG]... is run with --socket-path, --backend, "
		"--tcp-port or\n--uds-path, --socket-count and "
		"--max-queue-size added, unless an\nargument holds one of "
		"{vu} {backend} {port} {uds} {count} {qsize}:\nthen only "
		"those are filled in. Default: " DEFAULT_DAEMON "\n\n"
		"  --quick            16 MiB transfers, 2000 echoes, 2 s "
		"idle, 16 sockets\n"
		"  --only=LIST        some of g2c,c2g,echo,idle,scale\n"
		"  --backends=LIST    network,uds (default both)\n"
		"  --bytes=MIB        MiB per transfer (default 256)\n"
		"  --window=KIB       a paced guest's lead over the client "
		"(default 512;\n"
		"                     keep it below the daemon's output "
		"buffer)\n"
		"  --sizes=LIST       tx chain sizes in bytes (default "
		"64,1024,4096,65536)\n"
		"  --echoes=N         round trips (default 20000)\n"
		"  --rounds=N         alternate baseline and daemon N times "
		"(default 4)\n"
		"  --idle=SECONDS     idle measurement (default 10)\n"
		"  --scale=N          sockets in the scale run (default 64)\n"
		"  --streams=N        guests streaming at once there "
		"(default 8)\n"
		"  --queue-size=N     virtqueue size (default 256)\n"
		"  --port-base=PORT   first TCP port (default %d)\n"
		"  --no-flood         skip the unpaced guest -> client runs\n"
		"  --perf, --no-perf  count syscalls with perf stat (default: "
		"if found)\n"
		"  --json             JSON lines only, no table or progress\n"
		"  --keep             keep the temporary directory (logs)\n"
		"  -h, --help\n",
		DEFAULT_PORT);
}

/* A number from an option, within [lo, hi], or die. */
static unsigned long number(const char *opt, const char *s, unsigned long lo,
			    unsigned long hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		bench_die("--%s: %s is not a number from %lu to %lu", opt, s,
			  lo, hi);
	return v;
}

/* --sizes: a comma-separated list of chain sizes. */
static void parse_sizes(const char *s)
{
	opts.nsizes = 0;
	while (*s) {
		char buf[16];
		size_t k = strcspn(s, ",");

		if (opts.nsizes == BENCH_MAX_SIZES || k >= sizeof(buf))
			bench_die("--sizes: too many or too long");
		memcpy(buf, s, k);
		buf[k] = '\0';
		opts.sizes[opts.nsizes++] =
			(uint32_t)number("sizes", buf, 1, 65536);
		s += k + (s[k] == ',');
	}
}

/* --backends: network, uds or both. */
static void parse_backends(const char *s)
{
	opts.backends[BENCH_NETWORK] = strstr(s, "network") != NULL;
	opts.backends[BENCH_UDS] = strstr(s, "uds") != NULL;
	if (!opts.backends[0] && !opts.backends[1])
		bench_die("--backends: network, uds or both");
}

/* The full run's settings. */
static void set_defaults(void)
{
	static const uint32_t sizes[] = {64, 1024, 4096, 65536};

	memcpy(opts.sizes, sizes, sizeof(sizes));
	opts.nsizes = 4;
	opts.backends[BENCH_NETWORK] = opts.backends[BENCH_UDS] = true;
	opts.xfer_bytes = 256 * BENCH_MIB;
	opts.window = 512 << 10;
	opts.echoes = 20000;
	opts.rounds = 4;
	opts.flood = true;
	opts.idle_s = 10;
	opts.scale_sockets = 64;
	opts.scale_streams = 8;
	opts.port_base = DEFAULT_PORT;
	opts.queue_size = 256;
	opts.use_perf = -1;
}

/* --quick scales down what was not set explicitly. */
static void apply_quick(const bool *set)
{
	if (!opts.quick)
		return;
	if (!set['b'])
		opts.xfer_bytes = 16 * BENCH_MIB;
	if (!set['e'])
		opts.echoes = 2000;
	if (!set['i'])
		opts.idle_s = 2;
	if (!set['S'])
		opts.scale_sockets = 16;
}

/* Set what option @c says; false for an unknown one. */
static bool apply_option(int c)
{
	switch (c) {
	case 'Q':
		opts.quick = true;
		break;
	case 'o':
		opts.only = optarg;
		break;
	case 'B':
		parse_backends(optarg);
		break;
	case 'b':
		opts.xfer_bytes = number("bytes", optarg, 1, 65536) * BENCH_MIB;
		break;
	case 'w':
		opts.window = number("window", optarg, 128, 1 << 20) << 10;
		break;
	case 'z':
		parse_sizes(optarg);
		break;
	case 'e':
		opts.echoes =
			(unsigned int)number("echoes", optarg, 1, 10000000);
		break;
	case 'r':
		opts.rounds = (unsigned int)number("rounds", optarg, 1, 100);
		break;
	case 'i':
		opts.idle_s = (unsigned int)number("idle", optarg, 1, 3600);
		break;
	case 'S':
		opts.scale_sockets = (unsigned int)number("scale", optarg, 1,
							  DUT_MAX_WORKERS);
		break;
	case 's':
		opts.scale_streams =
			(unsigned int)number("streams", optarg, 0, 64);
		break;
	case 'q':
		opts.queue_size =
			(uint16_t)number("queue-size", optarg, 2, 1024);
		break;
	case 'p':
		opts.port_base =
			(unsigned int)number("port-base", optarg, 1024, 65000);
		break;
	case 'F':
		opts.flood = false;
		break;
	case 'P':
		opts.use_perf = 1;
		break;
	case 'N':
		opts.use_perf = 0;
		break;
	case 'j':
		opts.json_only = true;
		break;
	case 'k':
		opts.keep_tmp = true;
		break;
	case 'h':
		usage(stdout);
		exit(0);
	default:
		return false;
	}
	return true;
}

/* Options up to "--"; what follows is the daemon's command. */
static void parse_args(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{"quick", no_argument, NULL, 'Q'},
		{"only", required_argument, NULL, 'o'},
		{"backends", required_argument, NULL, 'B'},
		{"bytes", required_argument, NULL, 'b'},
		{"window", required_argument, NULL, 'w'},
		{"sizes", required_argument, NULL, 'z'},
		{"echoes", required_argument, NULL, 'e'},
		{"rounds", required_argument, NULL, 'r'},
		{"idle", required_argument, NULL, 'i'},
		{"scale", required_argument, NULL, 'S'},
		{"streams", required_argument, NULL, 's'},
		{"queue-size", required_argument, NULL, 'q'},
		{"port-base", required_argument, NULL, 'p'},
		{"no-flood", no_argument, NULL, 'F'},
		{"perf", no_argument, NULL, 'P'},
		{"no-perf", no_argument, NULL, 'N'},
		{"json", no_argument, NULL, 'j'},
		{"keep", no_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool set[128] = {false};
	int c;

	set_defaults();
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		set[c & 127] = true;
		if (!apply_option(c)) {
			usage(stderr);
			exit(1);
		}
	}
	apply_quick(set);
	if (optind < argc) {
		opts.daemon_argv = argv + optind;
		opts.daemon_argc = argc - optind;
	}
}

/* --- the run -------------------------------------------------------- */

/* The 1-minute load average: other work on the machine skews figures. */
static double load_average(void)
{
	double load = -1;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (fscanf(f, "%lf", &load) != 1)
			load = -1;
		fclose(f);
	}
	return load;
}

/* What was measured, where, and how busy the machine was. */
static void print_header(double load_start, double load_end)
{
	struct utsname u;

	if (opts.json_only)
		return;
	uname(&u);
	printf("vdc-bench: daemon:");
	for (int i = 0; i < opts.daemon_argc; i++)
		printf(" %s", opts.daemon_argv[i]);
	printf("\n  %ld CPUs, Linux %s; load average %.2f at the start, "
	       "%.2f at the end\n",
	       sysconf(_SC_NPROCESSORS_ONLN), u.release, load_start, load_end);
	printf("  %llu MiB per transfer in %u rounds alternating with the "
	       "baseline; queue size %u;\n  %u echoes, %u s idle, %u sockets; "
	       "syscalls counted %s\n",
	       (unsigned long long)(opts.xfer_bytes / BENCH_MIB), opts.rounds,
	       opts.queue_size, opts.echoes, opts.idle_s, opts.scale_sockets,
	       opts.use_perf == 1 ? "by perf" : "from /proc (reads, writes)");
	printf("  MB/s = 10^6 bytes/s; ratio = value / baseline\n\n");
}

/* The daemon command, perf, the temporary directory, signals, cleanup. */
static void setup(void)
{
	static char daemon[] = DEFAULT_DAEMON;
	static char *default_argv[] = {daemon, NULL};

	if (!opts.daemon_argv) {
		opts.daemon_argv = default_argv;
		opts.daemon_argc = 1;
	}
	if (opts.use_perf == -1)
		opts.use_perf = perf_available();
	if (opts.use_perf && !perf_available())
		bench_die("--perf: no perf in PATH");
	snprintf(opts.tmpdir, sizeof(opts.tmpdir), "/tmp/vdc-bench.XXXXXX");
	if (!mkdtemp(opts.tmpdir)) {
		opts.tmpdir[0] = '\0';
		bench_die("mkdtemp: %s", strerror(errno));
	}
	handle_signals();
	atexit(cleanup);
}

/* Run the selected measurements, then print them. */
int main(int argc, char *argv[])
{
	double t0 = bench_now(), load;

	bench_opts = &opts; /* before anything reads the settings */
	parse_args(argc, argv);
	setup();
	load = load_average();
	for (int b = BENCH_NETWORK; b <= BENCH_UDS; b++)
		if (opts.backends[b] &&
		    (bench_group("g2c") || bench_group("c2g") ||
		     bench_group("echo")))
			run_backend((enum bench_backend)b);
	if (bench_group("idle"))
		run_idle();
	if (bench_group("scale"))
		run_scale();
	print_header(load, load_average());
	report_print(opts.json_only);
	bench_note("done in %.1f s", bench_now() - t0);
	return 0;
}
