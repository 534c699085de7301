# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# libFuzzer targets; the Makefile includes this file.
#
# make fuzz-build   the targets and the seed generator, with clang's libFuzzer,
#                   ASan and UBSan
# make fuzz-seeds   record seed corpora from real test-frontend sessions
# make fuzz         run each target for FUZZ_SECONDS (60); fails on any crash,
#                   leak, timeout, sanitizer report or broken invariant
# make fuzz-ci      the same for FUZZ_CI_SECONDS (20) each
# make fuzz-cov     line coverage of src/ reached by the seeds and the corpus
#
# Everything goes under $(B)/fuzz: objects, seeds, the corpus each run grows
# (kept between runs), logs, and the inputs that failed (artifacts/). Inputs
# in fuzz/corpus/<target>/, if any, are read as extra seeds (regressions).
# Reproduce a failure with: $(B)/fuzz/<target> <artifact>; add VDC_FUZZ_LOG=1
# to see the daemon's log lines.

# Included, this file must not change the Makefile's default goal (it is
# restored at the end); on its own (make -f fuzz/fuzz.mk) it builds.
FUZZ_SAVED_GOAL	:= $(.DEFAULT_GOAL)
FUZZ_ALONE	:= $(filter $(firstword $(MAKEFILE_LIST)), \
			    $(lastword $(MAKEFILE_LIST)))

B		?= build
Q		?= @
FUZZ_MAKE	:= $(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST))
FUZZ_B		:= $(B)/fuzz
FUZZ_CC		?= $(shell command -v clang-14 || command -v clang || \
			   echo clang)
FUZZ_SECONDS	?= 60
FUZZ_CI_SECONDS	?= 20
FUZZ_TIMEOUT	?= 10
FUZZ_RSS_MB	?= 2048
FUZZ_MAX_LEN	?= 16384
FUZZ_PROFDATA	?= $(shell command -v llvm-profdata-14 || echo llvm-profdata)
FUZZ_LLVM_COV	?= $(shell command -v llvm-cov-14 || echo llvm-cov)
FUZZ_TARGETS	:= fuzz_vhost_user fuzz_virtqueue fuzz_web fuzz_status
# The console log's asciicast lines from any guest bytes.
FUZZ_TARGETS	+= fuzz_asciicast
# As the Makefile has them, for make -f fuzz/fuzz.mk.
ASM_SRCS	?= $(wildcard src/*.S)
WEB_FILES	?= $(filter-out %.md,$(wildcard web/*.* web/vendor/*))

FUZZ_SAN	:= -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
FUZZ_WARN	:= -Wall -Wextra -Wshadow -Wformat=2 -Wconversion \
		   -Wno-sign-conversion -Wstrict-prototypes \
		   -Wmissing-prototypes \
		   -Wpointer-arith -Wundef -Wvla -Wcast-align -Wwrite-strings \
		   -Wnull-dereference -Werror
FUZZ_CFLAGS	:= -std=gnu11 -D_GNU_SOURCE -Iinclude -g -O1 $(FUZZ_WARN) \
		   $(FUZZ_SAN) -fsanitize=fuzzer-no-link

# The daemon minus main(); src/log.c only for the seed generator (the
# targets log through fuzz/fuzz_log.c).
FUZZ_LIB_SRCS	:= $(filter-out src/main.c src/log.c,$(wildcard src/*.c))
FUZZ_LIB_OBJS	:= $(FUZZ_LIB_SRCS:src/%.c=$(FUZZ_B)/obj/%.o) \
		   $(ASM_SRCS:src/%.S=$(FUZZ_B)/obj/%.o)
FUZZ_LIB	:= $(FUZZ_B)/libvdc.a
FUZZ_COMMON	:= $(FUZZ_B)/obj/fuzz_common.o $(FUZZ_B)/obj/fuzz_log.o
FUZZ_GEN_OBJS	:= $(FUZZ_B)/obj/gen_seeds.o $(FUZZ_B)/obj/frontend.o \
		   $(FUZZ_B)/obj/log.o
FUZZ_DEPS	:= $(FUZZ_LIB_OBJS:.o=.d) $(FUZZ_COMMON:.o=.d) \
		   $(FUZZ_GEN_OBJS:.o=.d) \
		   $(FUZZ_TARGETS:%=$(FUZZ_B)/obj/%.d)

.PHONY: fuzz fuzz-ci fuzz-build fuzz-seeds fuzz-deps fuzz-cov
.SECONDARY: $(FUZZ_COMMON) $(FUZZ_TARGETS:%=$(FUZZ_B)/obj/%.o)

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_B)/%) $(FUZZ_B)/gen_seeds

fuzz-deps:
	@sh fuzz/ensure-clang.sh $(FUZZ_CC)

$(FUZZ_B)/obj:
	@mkdir -p $@

$(FUZZ_B)/obj/%.o: src/%.c | $(FUZZ_B)/obj
	@echo "  CC      $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

# The web console's files (see the Makefile's ASM_SRCS).
$(FUZZ_B)/obj/%.o: src/%.S $(WEB_FILES) | $(FUZZ_B)/obj
	@echo "  AS      $@"
	$(Q)$(FUZZ_CC) -c -o $@ $<

$(FUZZ_B)/obj/%.o: fuzz/%.c | $(FUZZ_B)/obj
	@echo "  CC      $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Ifuzz -Itests/lib -MMD -MP -c -o $@ $<

$(FUZZ_B)/obj/frontend.o: tests/lib/frontend.c | $(FUZZ_B)/obj
	@echo "  CC      $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Itests/lib -MMD -MP -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

# Guest mappings go through fuzz_common.c's guard-page wrappers.
$(FUZZ_B)/fuzz_%: $(FUZZ_B)/obj/fuzz_%.o $(FUZZ_COMMON) $(FUZZ_LIB)
	@echo "  LD      $@"
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer \
		-Wl,--wrap=mmap,--wrap=munmap -o $@ $^

# The generator watches what the test frontend sends and writes.
$(FUZZ_B)/gen_seeds: $(FUZZ_GEN_OBJS) $(FUZZ_LIB)
	@echo "  LD      $@"
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -Wl,--wrap=sendmsg,--wrap=write -o $@ $^

$(FUZZ_B)/seeds/.stamp: $(FUZZ_B)/gen_seeds
	@echo "  SEEDS   $(FUZZ_B)/seeds"
	$(Q)rm -rf $(FUZZ_B)/seeds
	$(Q)$(FUZZ_B)/gen_seeds $(FUZZ_B)/seeds
	$(Q)mkdir -p $(FUZZ_B)/seeds/fuzz_web # its seeds: fuzz/corpus/fuzz_web
	$(Q)mkdir -p $(FUZZ_B)/seeds/fuzz_status # and fuzz/corpus/fuzz_status
	$(Q)mkdir -p $(FUZZ_B)/seeds/fuzz_asciicast # fuzz/corpus/fuzz_asciicast
	$(Q)touch $@

fuzz-seeds: $(FUZZ_B)/seeds/.stamp

fuzz: fuzz-deps
	@$(FUZZ_MAKE) fuzz-build fuzz-seeds
	@sh fuzz/run.sh $(FUZZ_B) $(FUZZ_SECONDS) $(FUZZ_TIMEOUT) \
		$(FUZZ_RSS_MB) $(FUZZ_MAX_LEN) $(FUZZ_TARGETS)

fuzz-ci:
	@$(FUZZ_MAKE) fuzz FUZZ_SECONDS=$(FUZZ_CI_SECONDS)

# Coverage: the same targets built with clang's source-based coverage (no
# sanitizers), run once over every input kept so far.
FUZZ_COV_CFLAGS	:= -std=gnu11 -D_GNU_SOURCE -Iinclude -g -O1 \
		   -fprofile-instr-generate -fcoverage-mapping \
		   -fsanitize=fuzzer-no-link
FUZZ_COV_LIB	:= $(FUZZ_B)/cov/libvdc.a
FUZZ_COV_COMMON	:= $(FUZZ_B)/cov/obj/fuzz_common.o $(FUZZ_B)/cov/obj/fuzz_log.o
.SECONDARY: $(FUZZ_COV_COMMON) $(FUZZ_TARGETS:%=$(FUZZ_B)/cov/obj/%.o)

$(FUZZ_B)/cov/obj:
	@mkdir -p $@

$(FUZZ_B)/cov/obj/%.o: src/%.c | $(FUZZ_B)/cov/obj
	@echo "  CC      $@"
	$(Q)$(FUZZ_CC) $(FUZZ_COV_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_B)/cov/obj/%.o: fuzz/%.c | $(FUZZ_B)/cov/obj
	@echo "  CC      $@"
	$(Q)$(FUZZ_CC) $(FUZZ_COV_CFLAGS) -Ifuzz -MMD -MP -c -o $@ $<

$(FUZZ_B)/cov/obj/%.o: src/%.S $(WEB_FILES) | $(FUZZ_B)/cov/obj
	@echo "  AS      $@"
	$(Q)$(FUZZ_CC) -c -o $@ $<

$(FUZZ_COV_LIB): $(FUZZ_LIB_SRCS:src/%.c=$(FUZZ_B)/cov/obj/%.o) \
		 $(ASM_SRCS:src/%.S=$(FUZZ_B)/cov/obj/%.o)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_B)/cov/fuzz_%: $(FUZZ_B)/cov/obj/fuzz_%.o $(FUZZ_COV_COMMON) \
		      $(FUZZ_COV_LIB)
	@echo "  LD      $@"
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer -fprofile-instr-generate \
		-Wl,--wrap=mmap,--wrap=munmap -o $@ $^

fuzz-cov: $(FUZZ_TARGETS:%=$(FUZZ_B)/cov/%) fuzz-seeds
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_B)/corpus/$$t; \
		LLVM_PROFILE_FILE=$(FUZZ_B)/cov/$$t.profraw \
			$(FUZZ_B)/cov/$$t -runs=0 $(FUZZ_B)/corpus/$$t \
			$(FUZZ_B)/seeds/$$t >/dev/null 2>&1 || exit 1; \
		$(FUZZ_PROFDATA) merge -o $(FUZZ_B)/cov/$$t.profdata \
			$(FUZZ_B)/cov/$$t.profraw || exit 1; \
		echo "== $$t"; \
		$(FUZZ_LLVM_COV) report $(FUZZ_B)/cov/$$t \
			-instr-profile=$(FUZZ_B)/cov/$$t.profdata \
			$(FUZZ_LIB_SRCS) || exit 1; \
	done

-include $(FUZZ_DEPS) $(wildcard $(FUZZ_B)/cov/obj/*.d)

.DEFAULT_GOAL	:= $(if $(FUZZ_ALONE),fuzz-build,$(FUZZ_SAVED_GOAL))
