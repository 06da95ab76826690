# Meridian build. `make` builds every daemon and the CLI into bin/;
# `make test` builds and runs the unit (Check) and integration suites;
# `make asan` runs the same suite under ASan+UBSan; `make run` starts Meridian.
#
# Layout rule: every folder in DIRS holds one program's modules plus a thin
# main.c. All non-main objects of a folder go into build/lib<folder>.a, so a
# unit test links exactly the modules it needs.

BUILD    ?= build
BIN      ?= bin
CC       ?= cc
DEPS_PKG  = libzmq libczmq libcjson libmicrohttpd raft libuv
WARN      = -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
OPT      ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -Icommon $(SAN) \
            -ffunction-sections -fdata-sections \
            $(shell pkg-config --cflags $(DEPS_PKG) 2>/dev/null)
LDLIBS   += -Wl,--as-needed $(shell pkg-config --libs $(DEPS_PKG) 2>/dev/null) \
            -lmbedtls -lmbedx509 -lmbedcrypto -lm -lpthread
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)

# program folder -> binary name
PROGRAMS = catalogd:catalogd httpd:httpd gossipd:gossipd forwarderd:forwarderd cli:meridian
DIRS     = common $(foreach p,$(PROGRAMS),$(firstword $(subst :, ,$(p))))
prog_dir = $(firstword $(subst :, ,$(1)))
prog_bin = $(word 2,$(subst :, ,$(1)))

srcs_of  = $(wildcard $(1)/*.c)
libsrc   = $(filter-out $(1)/main.c,$(call srcs_of,$(1)))
objs     = $(patsubst %.c,$(BUILD)/%.o,$(1))

LIBS     = $(foreach d,$(DIRS),$(BUILD)/lib$(d).a)
BINARIES = $(foreach p,$(PROGRAMS),$(BIN)/$(call prog_bin,$(p)))
UNIT_SRC = $(wildcard tests/unit/check_*.c)
UNIT_BIN = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
HELPERS  = $(patsubst tests/helpers/%.c,$(BUILD)/tests/%,$(wildcard tests/helpers/*.c))
BENCH_BIN = $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))

.PHONY: all build test unit integration asan asan-unit deps run clean install bench-tools
# Public targets first make sure the Debian packages are there (flags come
# from pkg-config, read when make parses this file), then recurse.
all:
	@deploy/deps.sh --check || deploy/deps.sh
	@$(MAKE) --no-print-directory build

build: $(BINARIES) $(HELPERS)

deps:
	deploy/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

define LIB_RULE
$(BUILD)/lib$(1).a: $(call objs,$(call libsrc,$(1)))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach d,$(DIRS),$(eval $(call LIB_RULE,$(d))))

define BIN_RULE
$(BIN)/$(call prog_bin,$(1)): $(BUILD)/$(call prog_dir,$(1))/main.o $(BUILD)/lib$(call prog_dir,$(1)).a $(BUILD)/libcommon.a
	@mkdir -p $$(dir $$@)
	$(CC) $(CFLAGS) -o $$@ $$^ $(LDLIBS)
endef

# gossipd runs on every node, so its footprint counts: it is linked
# statically against libzmq, czmq and cJSON built from Debian's sources by
# deploy/static/build-libs.sh, with the code it executes laid out first
# (deploy/static/gossipd.order; docs/build.md). Sanitizer builds, and
# builds where the sources cannot be fetched, link it like the others.
ifeq ($(SAN),)
STATIC_PROGS  = gossipd:gossipd
endif
STATIC_DIR    = $(BUILD)/static
STATIC_ORDER  = deploy/static/gossipd.order
STATIC_SCRIPT = deploy/static/gossipd.ld
STATIC_LINK   = -static -fuse-ld=lld -Wl,--gc-sections -Wl,-T,$(STATIC_SCRIPT) \
                -Wl,--symbol-ordering-file=$(STATIC_ORDER) -Wl,--no-warn-symbol-ordering
STATIC_LIBS   = $(addprefix $(STATIC_DIR)/lib/,libczmq.a libzmq.a libcjson.a) \
                -lmbedcrypto -lstdc++ -lm -lpthread
$(foreach p,$(filter-out $(STATIC_PROGS),$(PROGRAMS)),$(eval $(call BIN_RULE,$(p))))

# The stamp records an attempt; `ok` beside it records success and the
# -dev package versions built for (the script rebuilds when they change).
$(STATIC_DIR)/stamp: deploy/static/build-libs.sh $(wildcard /var/lib/dpkg/status)
	@mkdir -p $(dir $@)
	@deploy/static/build-libs.sh $(STATIC_DIR) || \
	    echo "make: WARNING: static libraries not built; gossipd is linked dynamically" >&2
	@touch $@

define STATIC_BIN_RULE
$(BIN)/$(call prog_bin,$(1)): $(BUILD)/$(call prog_dir,$(1))/main.o $(BUILD)/lib$(call prog_dir,$(1)).a $(BUILD)/libcommon.a $(STATIC_ORDER) $(STATIC_SCRIPT) $(STATIC_DIR)/stamp
	@mkdir -p $$(dir $$@)
	@if [ -f $(STATIC_DIR)/ok ] && echo "$(CC) ... $(STATIC_LINK) -o $$@" \
	    && $(CC) $(CFLAGS) $(STATIC_LINK) -o $$@ $$(filter %.o %.a,$$^) $(STATIC_LIBS) \
	        2>$(STATIC_DIR)/link.log; then :; \
	else \
	    [ ! -f $(STATIC_DIR)/ok ] || { cat $(STATIC_DIR)/link.log >&2; \
	        echo "make: WARNING: static link failed; gossipd is linked dynamically" >&2; }; \
	    echo "$(CC) $(CFLAGS) -o $$@ $$(filter %.o %.a,$$^) $(LDLIBS)"; \
	    $(CC) $(CFLAGS) -o $$@ $$(filter %.o %.a,$$^) $(LDLIBS); \
	fi
endef
$(foreach p,$(STATIC_PROGS),$(eval $(call STATIC_BIN_RULE,$(p))))

# Unit tests and helper programs link every folder library (the linker
# takes only the objects they use).
$(BUILD)/tests/%: tests/unit/%.c $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(filter-out $(BUILD)/libcommon.a,$(LIBS)) $(BUILD)/libcommon.a $(CHECK_LIBS) $(LDLIBS)
$(BUILD)/tests/%: tests/helpers/%.c $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(filter-out $(BUILD)/libcommon.a,$(LIBS)) $(BUILD)/libcommon.a $(LDLIBS)

# Benchmark tools (baselines); the scripts in bench/ call this.
bench-tools: all
	@$(MAKE) --no-print-directory $(BENCH_BIN)

$(BUILD)/bench/%: bench/%.c $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(filter-out $(BUILD)/libcommon.a,$(LIBS)) $(BUILD)/libcommon.a $(LDLIBS)

test: all
	@$(MAKE) --no-print-directory $(UNIT_BIN)
	@tests/run.sh --build $(BUILD) --bin $(BIN)

unit: all
	@$(MAKE) --no-print-directory $(UNIT_BIN)
	@tests/run.sh --build $(BUILD) --bin $(BIN) --only unit

integration: all
	@tests/run.sh --build $(BUILD) --bin $(BIN) --only integration

# -Wformat-truncation is a heuristic whose findings change with the
# optimisation level; at -O1 it flags snprintf calls bounded by design.
ASAN_OPT = -O1 -g -fno-omit-frame-pointer -Wno-format-truncation
ASAN_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined
asan:
	$(MAKE) BUILD=build/asan BIN=build/asan/bin OPT="$(ASAN_OPT)" SAN="$(ASAN_SAN)" test

asan-unit:
	$(MAKE) BUILD=build/asan BIN=build/asan/bin OPT="$(ASAN_OPT)" SAN="$(ASAN_SAN)" unit

run: all
	deploy/run.sh

install: all
	deploy/install.sh "$(DESTDIR)" "$(or $(PREFIX),/usr/local)"

clean:
	rm -rf build bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
