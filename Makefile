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

.PHONY: all check check-unit check-e2e check-crash bench demo deps install clean tools
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

tools: $(BIN) $(TBIN) $(MOCK_BIN) $(SHIM_BIN) $(UNIT_BIN)

# Every test, offline, no API keys. Ends with one line
# "N passed, N failed, N skipped".
check: tools
	@NIGHTSHIFT=$(abspath $(BIN)) NIGHTSHIFT_TBIN=$(abspath $(TBIN)) \
	  MOCK=$(abspath $(MOCK_BIN)) \
	  sh tests/run.sh $(UNIT_BIN) -- $(filter-out tests/e2e/lib.sh,$(sort $(wildcard tests/e2e/*.sh tests/crash/*.sh)))

check-unit: $(UNIT_BIN)
	@sh tests/run.sh $(UNIT_BIN) --

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
