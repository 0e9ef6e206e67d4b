# nightshift — one non-recursive GNU Makefile.
#
# Sources are found by wildcard so a new module needs no edit here:
#   util/*.c queue/*.c runner/*.c runner/*/*.c
#                                      -> linked into ./nightshift; built a
#                                         second time with -DNIGHTSHIFT_TEST
#                                         (test-only entry points and fault
#                                         seams) for the unit tests
#   runner/main.c                      -> the CLI entry point (nightshift only)
#   tests/unit/test_*.c                -> one cmocka binary each
#   tests/mock/*.c                     -> the mock provider (libmicrohttpd)
#   tests/shim/fsync_count.c           -> an LD_PRELOAD shim logging fsyncs
#   tests/shim/iofault.c               -> an LD_PRELOAD shim failing the Nth
#                                         write/sync/read/allocation of SQLite,
#                                         or plain writes with ENOSPC
#   tests/e2e/*.sh                     -> end-to-end scripts run against the binary
#   tests/fuzz/fuzz_*.c                -> one fuzz target each: `make fuzz` builds
#                                         them with clang and libFuzzer into
#                                         build/fuzz; `make check` links each
#                                         with tests/fuzz/replay.c to replay
#                                         its corpus and regressions
# SANITIZE=address,undefined or SANITIZE=thread builds into its own directory so
# flags never mix.

PKGS      = sqlite3 libcurl libcjson libzstd
TEST_PKGS = cmocka libmicrohttpd
PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
SANITIZE ?=

comma := ,
ifeq ($(SANITIZE),)
BUILD   := build/default
BIN     := nightshift
SANFLAGS :=
else
BUILD   := build/san-$(subst $(comma),-,$(SANITIZE))
BIN     := $(BUILD)/nightshift
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

# V=1 shows whole command lines.
ifeq ($(V),1)
Q :=
else
Q := @
endif

OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN     = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
BASEFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) -I. -I$(BUILD)/gen -MMD -MP $(SANFLAGS)
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
TEST_CFLAGS = $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS   = $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)

LIB_SRC  := $(sort $(wildcard util/*.c queue/*.c runner/*.c runner/*/*.c))
LIB_SRC  := $(filter-out runner/main.c,$(LIB_SRC))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/schema_sql.o
# The unit tests' copy: what is compiled only for tests never ships.
TLIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/testlib/%.o) $(BUILD)/gen/schema_sql.o
MAIN_OBJ := $(BUILD)/runner/main.o
# The binary with the test library's seams (kill points), for crash tests.
TBIN := $(BUILD)/nightshift-test
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
MOCK_SRC := $(sort $(wildcard tests/mock/*.c))
MOCK_BIN := $(BUILD)/mock-provider
SHIM_BIN := $(BUILD)/fsync_count.so $(BUILD)/iofault.so
BENCH_SRC := $(sort $(wildcard tests/bench/*.c))
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)
SCHEMA_SQL := schema/queue.sql $(sort $(wildcard schema/migrations/*.sql))
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
# Each target with a plain main that replays its inputs: run by check.
REPLAY_BIN := $(FUZZ_NAMES:%=$(BUILD)/fuzz/replay_%)

.PHONY: all check check-unit check-e2e check-crash bench demo deps install clean tools fuzz
all: $(BIN)

$(BIN): $(MAIN_OBJ) $(LIB_OBJ)
	@echo "  LD    $@"
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(PKG_LIBS)

# The DDL is compiled into the binary: each .sql file becomes a C string.
$(BUILD)/gen/schema_sql.c: $(SCHEMA_SQL) tests/embed_sql.sh
	@mkdir -p $(dir $@)
	$(Q)sh tests/embed_sql.sh $(SCHEMA_SQL) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/schema_sql.o: $(BUILD)/gen/schema_sql.c
	@echo "  CC    $<"
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) $(BASEFLAGS) $(PKG_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/testlib/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC    $< (test)"
	$(Q)$(CC) $(BASEFLAGS) -DNIGHTSHIFT_TEST $(PKG_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) $(BASEFLAGS) -DNIGHTSHIFT_TEST $(PKG_CFLAGS) $(TEST_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TLIB_OBJ)
	@echo "  LD    $@"
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)

$(BUILD)/mock/%.o: tests/mock/%.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) $(BASEFLAGS) $(PKG_CFLAGS) $(TEST_CFLAGS) $(CFLAGS) -c -o $@ $<

$(MOCK_BIN): $(MOCK_SRC:tests/mock/%.c=$(BUILD)/mock/%.o)
	@echo "  LD    $@"
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)

# Preloaded into the binary under test, sanitized or not: built plain.
$(BUILD)/%.so: tests/shim/%.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) -std=c11 $(WARN) -MMD -MP $(PKG_CFLAGS) $(CFLAGS) -fPIC -shared -o $@ $< -ldl -lpthread

$(BUILD)/bench/%.o: tests/bench/%.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) $(BASEFLAGS) $(PKG_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB_OBJ)
	@echo "  LD    $@"
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(PKG_LIBS)

$(TBIN): $(MAIN_OBJ) $(TLIB_OBJ)
	@echo "  LD    $@"
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(PKG_LIBS)

# The fuzz targets' replays: the test library's copy (the targets compare
# fast paths with the slow ones kept for tests).
$(BUILD)/fuzz/fuzz_%.o: tests/fuzz/fuzz_%.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) $(BASEFLAGS) -DNIGHTSHIFT_TEST $(PKG_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/fuzz/replay_%.o: tests/fuzz/replay.c
	@mkdir -p $(dir $@)
	@echo "  CC    $< ($*)"
	$(Q)$(CC) $(BASEFLAGS) -DFUZZ_NAME='"$*"' \
	  -DFUZZ_DIR='"$(abspath tests/fuzz)"' $(CFLAGS) -c -o $@ $<

$(BUILD)/fuzz/replay_%: $(BUILD)/fuzz/replay_%.o $(BUILD)/fuzz/fuzz_%.o $(TLIB_OBJ)
	@echo "  LD    $@"
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(PKG_LIBS)

tools: $(BIN) $(TBIN) $(MOCK_BIN) $(SHIM_BIN) $(UNIT_BIN) $(REPLAY_BIN)

# Every test, offline, no API keys. Ends with one line
# "N passed, N failed, N skipped".
check: tools
	@NIGHTSHIFT=$(abspath $(BIN)) NIGHTSHIFT_TBIN=$(abspath $(TBIN)) \
	  MOCK=$(abspath $(MOCK_BIN)) \
	  sh tests/run.sh $(UNIT_BIN) $(REPLAY_BIN) -- $(filter-out tests/e2e/lib.sh,$(sort $(wildcard tests/e2e/*.sh tests/crash/*.sh)))

check-unit: $(UNIT_BIN) $(REPLAY_BIN)
	@sh tests/run.sh $(UNIT_BIN) $(REPLAY_BIN) --

check-e2e: $(BIN) $(MOCK_BIN) $(SHIM_BIN)
	@NIGHTSHIFT=$(abspath $(BIN)) MOCK=$(abspath $(MOCK_BIN)) \
	  sh tests/run.sh -- $(filter-out tests/e2e/lib.sh,$(sort $(wildcard tests/e2e/*.sh)))

check-crash: $(BIN) $(TBIN) $(MOCK_BIN)
	@NIGHTSHIFT=$(abspath $(BIN)) NIGHTSHIFT_TBIN=$(abspath $(TBIN)) \
	  MOCK=$(abspath $(MOCK_BIN)) \
	  sh tests/run.sh -- $(sort $(wildcard tests/crash/*.sh))

# The benchmarks' non-C peer: the official openai SDK and p-queue, at the
# versions the lock file pins, from the npm registry (the machine's Node.js).
NODE_PEER := $(BUILD)/node_peer/node_modules/.package-lock.json
$(NODE_PEER): tests/bench/node_peer/package.json tests/bench/node_peer/package-lock.json tests/bench/node_peer/peer.mjs
	@command -v npm >/dev/null 2>&1 || { echo "make bench needs Node.js and npm (the node peer)" >&2; exit 1; }
	@mkdir -p $(BUILD)/node_peer
	@cp $^ $(BUILD)/node_peer/
	$(Q)cd $(BUILD)/node_peer && npm ci --no-audit --no-fund --loglevel=error

bench: $(BIN) $(MOCK_BIN) $(BENCH_BIN) $(NODE_PEER)
	@NIGHTSHIFT=$(abspath $(BIN)) MOCK=$(abspath $(MOCK_BIN)) \
	  BENCHBIN=$(abspath $(BUILD)/bench) \
	  NODE_PEER=$(abspath $(BUILD)/node_peer) sh tests/bench/run.sh

# Fuzzing: each target built with clang, libFuzzer, ASan and UBSan (the
# test library's copy, instrumented) into its own directory, then run
# FUZZ_SECONDS each by tests/fuzz/run.sh on a scratch copy of its corpus.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD   := build/fuzz
# Two warnings gcc does not give: clang wants every field of a struct
# initialised by name, and a printf-like helper without a format
# attribute (batch_client.c's fail) flagged.
FUZZ_WARN    := -Wno-missing-field-initializers -Wno-format-nonliteral
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer
FUZZ_CFLAGS   = -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) $(FUZZ_WARN) -I. -MMD -MP \
		-DNIGHTSHIFT_TEST -O1 -g $(FUZZ_SAN) $(PKG_CFLAGS)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/lib/%.o)
FUZZ_BIN     := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)

$(FUZZ_BUILD)/lib/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC    $< (fuzz)"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

# An archive: a target links only the objects it uses (no queue, no SQL).
$(FUZZ_BUILD)/libnightshift.a: $(FUZZ_LIB_OBJ)
	@echo "  AR    $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%.o: tests/fuzz/fuzz_%.c
	@mkdir -p $(dir $@)
	@echo "  CC    $< (fuzz)"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/fuzz_%.o $(FUZZ_BUILD)/libnightshift.a
	@echo "  LD    $@"
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

fuzz: $(FUZZ_BIN)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_NAMES)

# The README's first command: install what is missing, build, and run the
# examples against the local mock provider.
demo: deps
	@$(MAKE) --no-print-directory all $(MOCK_BIN)
	@NIGHTSHIFT=$(abspath $(BIN)) MOCK=$(abspath $(MOCK_BIN)) sh jobs-examples/demo.sh

deps:
	sh tests/deps.sh

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/nightshift

clean:
	rm -rf build nightshift

.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
ifneq ($(filter fuzz build/fuzz/%,$(MAKECMDGOALS)),)
-include $(shell find $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
endif
