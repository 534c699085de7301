# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# bench/bench.mk - included by the Makefile.
#
# make bench              build the daemon (-O2) and vdc-bench, run every
#                         measurement (a few minutes on 2 cores)
# make bench QUICK=1      the same, scaled down: under 30 s
# make bench BENCH_DAEMON="path/to/other-daemon --opt"   measure another one
# make bench BENCH_ARGS="--only=echo --backends=uds"     vdc-bench options
#
# The benchmark is always built with optimisation and without sanitizers,
# into $(B)/bench/.

BENCH_BIN    := $(B)/bench/vdc-bench
BENCH_SRCS   := $(wildcard bench/*.c)
BENCH_OBJS   := $(BENCH_SRCS:bench/%.c=$(B)/bench/%.o) $(B)/bench/frontend.o
BENCH_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Iinclude -Itests/lib -Ibench \
		$(WARNINGS) -O2 -g -pthread
BENCH_DAEMON ?= ./$(PROGRAM)

.PHONY: bench
bench: $(PROGRAM) $(BENCH_BIN)
	$(BENCH_BIN) $(if $(QUICK),--quick) $(BENCH_ARGS) -- $(BENCH_DAEMON)

$(BENCH_BIN): $(BENCH_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(BENCH_CFLAGS) $(LDFLAGS) -o $@ $^ -lm

$(B)/bench/%.o: bench/%.c | $(B)/bench
	@echo "  CC      $@"
	$(Q)$(CC) $(BENCH_CFLAGS) -MMD -MP -c -o $@ $<

# The test frontend, built here with optimisation; it needs no Check.
$(B)/bench/frontend.o: tests/lib/frontend.c | $(B)/bench
	@echo "  CC      $@"
	$(Q)$(CC) $(BENCH_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/bench:
	$(Q)mkdir -p $@

-include $(BENCH_OBJS:.o=.d)

# --- make bench-guest: real guests (UML, QEMU) ----------------------------
#
# make bench-guest        boot UML and QEMU guests against the daemon, the
#                         reference sink and (QEMU) QEMU's own virtconsole,
#                         alternating, and time real consoles; see
#                         bench/guest/README.md. Minutes; not part of CI.
# make bench-guest GB_ARGS="--rounds=5 --frontends=uml"
#
# bench/guest/ is a tool of its own: it shares nothing with vdc-bench.
# vdc-sink links the daemon's -O2 protocol objects (as $(PROGRAM) builds
# them), so the sink and the daemon speak vhost-user with the same code.

GB_DIR     := $(B)/bench/guest
GB_SINK    := $(GB_DIR)/vdc-sink
GB_CLIENT  := $(GB_DIR)/vdc-gb-client
GB_REPORT  := $(GB_DIR)/vdc-gb-report
GB_LIB     := $(GB_DIR)/libvdc.a
GB_CFLAGS  := -std=gnu11 -D_GNU_SOURCE -Iinclude $(WARNINGS) -O2 -g
GB_ARGS    ?=

.PHONY: bench-guest bench-guest-build
bench-guest-build: $(PROGRAM) $(GB_SINK) $(GB_CLIENT) $(GB_REPORT)

bench-guest: bench-guest-build
	bash bench/guest/bench-guest.sh --daemon=./$(PROGRAM) \
		--tools=$(GB_DIR) $(GB_ARGS)

$(GB_LIB): $(LIB_SRCS:src/%.c=$(B)/%.o) | $(GB_DIR)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(GB_SINK): $(GB_DIR)/sink.o $(GB_LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(GB_CFLAGS) $(LDFLAGS) -o $@ $^

$(GB_CLIENT): $(GB_DIR)/gb_client.o
	@echo "  LD      $@"
	$(Q)$(CC) $(GB_CFLAGS) $(LDFLAGS) -o $@ $^

$(GB_REPORT): $(GB_DIR)/gb_report.o
	@echo "  LD      $@"
	$(Q)$(CC) $(GB_CFLAGS) $(LDFLAGS) -o $@ $^ -lm

$(GB_DIR)/%.o: bench/guest/%.c | $(GB_DIR)
	@echo "  CC      $@"
	$(Q)$(CC) $(GB_CFLAGS) -MMD -MP -c -o $@ $<

$(GB_DIR):
	$(Q)mkdir -p $@

-include $(wildcard $(GB_DIR)/*.d)
