# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# make            build ./vhost-device-console (gcc or CC=clang, warnings are errors)
# make check      build with ASan+UBSan and run every test: the one full
#                 command (README, CI); real guests and chromium, as root
# make check-unit the unit suites alone: no guest, no browser, no root,
#                 no sanitizers, two suites at a time; installs only Check
# make check-tsan the console log's tests under ThreadSanitizer
# make install    PREFIX=/usr/local DESTDIR= : binary, man page, QEMU's
#                 vhost-user backend descriptor and the systemd units
#                 (SYSTEMDUNITDIR=; uninstall removes them)
# make fuzz       libFuzzer targets (clang; fuzz-ci: 20 s each; see fuzz/README.md)
# make bench      benchmarks, see bench/README.md (QUICK=1: under 30 s)
# make bench-guest  real UML and QEMU guests: daemon, reference sink, QEMU virtconsole
# make demo       a guest shell in this terminal (User Mode Linux)
# make format / lint / clean

PROGRAM  := vhost-device-console
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DATADIR  ?= $(PREFIX)/share
# Where QEMU's vhost-user backend descriptors live (docs/interop/vhost-user.json).
VHOSTUSERDIR ?= $(DATADIR)/qemu/vhost-user
DESCRIPTOR   := 50-$(PROGRAM).json
# The template service and its socket unit (systemd/).
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
UNITS        := $(PROGRAM)@.service $(PROGRAM)@.socket
CFLAGS   ?= -O2 -g
B        ?= build

# The version (NEWS.md): the VERSION file, and in a git checkout of this
# tree what `git describe` says of the commit (a tarball has VERSION alone;
# a tree unpacked inside another checkout does not take that one's).
VERSION      := $(shell cat VERSION)
GIT_DESCRIBE := $(shell [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$$(pwd -P)" ] && \
		  git describe --tags --always --dirty --match 'v[0-9]*' 2>/dev/null)
FULL_VERSION := $(VERSION)$(if $(GIT_DESCRIBE),+git.$(GIT_DESCRIBE))

WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wconversion -Wno-sign-conversion \
	    -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith -Wundef \
	    -Wvla -Wcast-align -Wwrite-strings -Wnull-dereference -Werror
BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Iinclude $(WARNINGS) -pthread
# The console log's writer thread (glibc's pthreads).
LDLIBS   += -pthread

SRCS     := $(wildcard src/*.c)
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
# The web console's files, assembled into the binary (.incbin).
ASM_SRCS := $(wildcard src/*.S)
WEB_FILES := $(filter-out %.md,$(wildcard web/*.* web/vendor/*))
ASM_OBJS := $(ASM_SRCS:src/%.S=$(B)/%.o)
OBJS     := $(SRCS:src/%.c=$(B)/%.o) $(ASM_OBJS)

# The sanitizer build: the daemon the tests run and the objects they link.
SAN_FLAGS   := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	       -fno-sanitize-recover=all
SAN_OBJS    := $(SRCS:src/%.c=$(B)/san/%.o) $(ASM_SRCS:src/%.S=$(B)/san/%.o)
SAN_LIBOBJS := $(LIB_SRCS:src/%.c=$(B)/san/%.o) \
	       $(ASM_SRCS:src/%.S=$(B)/san/%.o)

TEST_SRCS    := $(wildcard tests/*.c tests/lib/*.c)
TEST_OBJS    := $(TEST_SRCS:tests/%.c=$(B)/san/tests/%.o)
CHECK_CFLAGS  = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS    = $(shell pkg-config --libs check 2>/dev/null)

.PHONY: all check check-unit check-tsan install uninstall clean format lint deps \
	deps-unit demo
all: $(PROGRAM)

# V=1 shows the commands.
Q := $(if $(V),,@)

$(PROGRAM): $(OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/%.o: src/%.c | $(B)
	@echo "  CC      $@"
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# .incbin paths are relative to the top of the tree, where make runs.
$(B)/%.o: src/%.S $(WEB_FILES) | $(B)
	@echo "  AS      $@"
	$(Q)$(CC) -c -o $@ $<

$(B)/san/%.o: src/%.S $(WEB_FILES) | $(B)/san
	@echo "  AS      $@"
	$(Q)$(CC) -c -o $@ $<

$(B)/san/%.o: src/%.c | $(B)/san
	@echo "  CC      $@"
	$(Q)$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) -MMD -MP -c -o $@ $<

# version.c alone gets the string, and is rebuilt when it changes: the
# stamp is rewritten only then.
VERSION_STAMP := $(B)/version.txt
$(shell mkdir -p $(B) && echo '$(FULL_VERSION)' | cmp -s - $(VERSION_STAMP) || \
	echo '$(FULL_VERSION)' >$(VERSION_STAMP))
$(B)/version.o $(B)/san/version.o $(B)/unit/version.o: $(VERSION_STAMP)
$(B)/version.o $(B)/san/version.o $(B)/unit/version.o: BASE_CFLAGS += -DVDC_VERSION='"$(FULL_VERSION)"'

$(B)/san/$(PROGRAM): $(SAN_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

$(B)/san/tests/%.o: tests/%.c | $(B)/san/tests/lib
	@echo "  CC      $@"
	$(Q)$(CC) $(BASE_CFLAGS) -Itests -Itests/lib $(CHECK_CFLAGS) $(SAN_FLAGS) -MMD -MP -c -o $@ $<

$(B)/san/check-all: $(TEST_OBJS) $(SAN_LIBOBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

# make check-unit's build: the same tests without sanitizers, at -O1, in a
# directory of its own. ASan's leak check at the exit of each forked test
# is most of what the sanitizer build's unit run costs; make check keeps
# every suite under ASan+UBSan with leak checks.
UNIT_FLAGS    := -O1 -g
UNIT_OBJS     := $(SRCS:src/%.c=$(B)/unit/%.o) $(ASM_SRCS:src/%.S=$(B)/unit/%.o)
UNIT_LIBOBJS  := $(LIB_SRCS:src/%.c=$(B)/unit/%.o) \
		 $(ASM_SRCS:src/%.S=$(B)/unit/%.o)
UNIT_TEST_OBJS := $(TEST_SRCS:tests/%.c=$(B)/unit/tests/%.o)

$(B)/unit/%.o: src/%.S $(WEB_FILES) | $(B)/unit
	@echo "  AS      $@"
	$(Q)$(CC) -c -o $@ $<

$(B)/unit/%.o: src/%.c | $(B)/unit
	@echo "  CC      $@"
	$(Q)$(CC) $(BASE_CFLAGS) $(UNIT_FLAGS) -MMD -MP -c -o $@ $<

$(B)/unit/tests/%.o: tests/%.c | $(B)/unit/tests/lib
	@echo "  CC      $@"
	$(Q)$(CC) $(BASE_CFLAGS) -Itests -Itests/lib $(CHECK_CFLAGS) $(UNIT_FLAGS) -MMD -MP -c -o $@ $<

$(B)/unit/$(PROGRAM): $(UNIT_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(UNIT_FLAGS) -o $@ $^ $(LDLIBS)

$(B)/unit/check-all: $(UNIT_TEST_OBJS) $(UNIT_LIBOBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(UNIT_FLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

# The console log's writer thread under ThreadSanitizer: its suite alone.
TSAN_FLAGS := -O1 -g -fsanitize=thread
TSAN_OBJS  := $(B)/tsan/console_log.o $(B)/tsan/console_log_writer.o \
	      $(B)/tsan/console_log_format.o \
	      $(B)/tsan/asciicast.o $(B)/tsan/log.o \
	      $(B)/tsan/tests/test_console_log.o $(B)/tsan/tests/helpers.o \
	      $(B)/tsan/tests/tsan/run_console_log.o

$(B)/tsan/%.o: src/%.c | $(B)/tsan/tests/tsan
	@echo "  CC      $@"
	$(Q)$(CC) $(BASE_CFLAGS) $(TSAN_FLAGS) -MMD -MP -c -o $@ $<

$(B)/tsan/tests/%.o: tests/%.c | $(B)/tsan/tests/tsan
	@echo "  CC      $@"
	$(Q)$(CC) $(BASE_CFLAGS) -Itests $(CHECK_CFLAGS) $(TSAN_FLAGS) -MMD -MP -c -o $@ $<

$(B)/tsan/check-console-log: $(TSAN_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(TSAN_FLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

check-tsan: deps-unit
	@$(MAKE) --no-print-directory $(B)/tsan/check-console-log
	TSAN_OPTIONS=halt_on_error=1 $(B)/tsan/check-console-log

$(B) $(B)/san $(B)/san/tests/lib $(B)/unit $(B)/unit/tests/lib $(B)/tsan/tests/tsan:
	$(Q)mkdir -p $@

# Each target installs what it needs (tests/ensure-deps.sh names the lists).
deps:
	@sh tests/ensure-deps.sh check

deps-unit:
	@sh tests/ensure-deps.sh unit

# The test binary finds the daemon and helper scripts through these.
RUN_CHECK = VDC_DAEMON=$(abspath $(B))/san/$(PROGRAM) VDC_SRCDIR=$(CURDIR) \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	$(B)/san/check-all

check: deps
	@$(MAKE) --no-print-directory $(B)/san/$(PROGRAM) $(B)/san/check-all
	$(RUN_CHECK)

# The unit suites without sanitizers, one process per suite, UNIT_JOBS at
# a time (tests/run-unit.sh). Measured on the 2-core machine: the
# sanitizer build's `check-all --unit` took 121 s (load 4; 67 s quiet),
# mostly ASan's leak check at each forked test's exit; this build in one
# process 31 s (quiet); as it runs here 20 s (load 4), 21 s as uid 65534.
# The status suite, added since, takes 41 s on its own (a 10 s client
# deadline it waits out, among others), so the run now lasts about as long
# as that suite: 45 s.
UNIT_JOBS ?= 2
check-unit: deps-unit
	@$(MAKE) --no-print-directory $(B)/unit/$(PROGRAM) $(B)/unit/check-all
	VDC_DAEMON=$(abspath $(B))/unit/$(PROGRAM) VDC_SRCDIR=$(CURDIR) \
		sh tests/run-unit.sh $(B)/unit/check-all $(UNIT_JOBS)

# A guest shell in this terminal: the daemon's nested backend and a User
# Mode Linux guest. Ctrl-a x ends it.
demo: $(PROGRAM)
	@sh tests/ensure-deps.sh demo
	VDC_DAEMON=$(CURDIR)/$(PROGRAM) bash tests/e2e/demo.sh

# The descriptor and the service name the installed binary, so they are
# written here, from BINDIR; a path that JSON or the shell would need escapes for is refused.
install: $(PROGRAM)
	$(if $(filter /%,$(BINDIR)),,$(error BINDIR must be an absolute path: $(BINDIR)))
	$(if $(findstring ",$(BINDIR))$(findstring ',$(BINDIR))$(findstring \,$(BINDIR)),$(error BINDIR must not contain quotes or backslashes: $(BINDIR)))
	$(if $(findstring |,$(BINDIR))$(findstring %,$(BINDIR))$(word 2,$(BINDIR)),$(error BINDIR must not contain '|', '%' or blanks (the service's ExecStart=): $(BINDIR)))
	install -D -m 0755 $(PROGRAM) $(DESTDIR)$(BINDIR)/$(PROGRAM)
	install -D -m 0644 docs/$(PROGRAM).1 $(DESTDIR)$(MANDIR)/man1/$(PROGRAM).1
	install -d $(DESTDIR)$(VHOSTUSERDIR)
	printf '{\n  "description": "VirtIO console: the guest console on a terminal, a TCP port or a unix socket",\n  "type": "console",\n  "binary": "%s"\n}\n' \
		'$(BINDIR)/$(PROGRAM)' >$(DESTDIR)$(VHOSTUSERDIR)/$(DESCRIPTOR)
	chmod 0644 $(DESTDIR)$(VHOSTUSERDIR)/$(DESCRIPTOR)
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/$(PROGRAM)@.service >$(DESTDIR)$(SYSTEMDUNITDIR)/$(PROGRAM)@.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$(PROGRAM)@.service
	install -m 0644 systemd/$(PROGRAM)@.socket $(DESTDIR)$(SYSTEMDUNITDIR)/$(PROGRAM)@.socket

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/$(PROGRAM) $(DESTDIR)$(MANDIR)/man1/$(PROGRAM).1 \
		$(DESTDIR)$(VHOSTUSERDIR)/$(DESCRIPTOR) \
		$(addprefix $(DESTDIR)$(SYSTEMDUNITDIR)/,$(UNITS))

format:
	clang-format -i src/*.c include/*.h tests/*.c tests/*.h tests/lib/*.[ch] \
		tests/e2e/*.c tests/tsan/*.c bench/*.[ch] fuzz/*.[ch]

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--inline-suppr -D_GNU_SOURCE -Iinclude src
	clang-tidy --quiet src/*.c -- $(BASE_CFLAGS)

clean:
	rm -rf $(B) $(PROGRAM)

-include bench/bench.mk
-include fuzz/fuzz.mk
-include $(OBJS:.o=.d) $(SAN_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(TSAN_OBJS:.o=.d) \
	 $(UNIT_OBJS:.o=.d) $(UNIT_TEST_OBJS:.o=.d)
