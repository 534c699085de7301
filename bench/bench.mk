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
