# mlpz-lua: see README.md. `make demo` and `make test` are the two commands.

PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
PKGS     := lua5.4 lua5.4-cjson libcurl libcrypto libedit expat
DEB_PKGS := liblua5.4-dev lua-cjson-dev libcurl4-openssl-dev libssl-dev \
            libedit-dev libexpat1-dev pkg-config curl unzip python3

ifeq ($(SANITIZE),1)
BUILD    ?= build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD    ?= build/rel
SANFLAGS :=
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra \
           $(if $(CI),-Werror) $(SANFLAGS) -Icore -Ibindings -Ihost -I$(BUILD) $(PKG_CFLAGS)
LDFLAGS += $(SANFLAGS)
LDLIBS  += $(PKG_LIBS) -lm

CORE_SRC     := $(wildcard core/*.c)
BINDINGS_SRC := $(wildcard bindings/*.c)
HOST_SRC     := $(wildcard host/*.c)
LUA_LIB      := $(sort $(wildcard scripts/lib/mlpz/*.lua))

CORE_OBJ     := $(CORE_SRC:%.c=$(BUILD)/%.o)
BINDINGS_OBJ := $(BINDINGS_SRC:%.c=$(BUILD)/%.o)
HOST_OBJ     := $(HOST_SRC:%.c=$(BUILD)/%.o) $(BUILD)/embedded_lua.o
UNIT_SRC     := $(wildcard tests/unit/test_*.c)
UNIT_BIN     := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

BIN := mlpz-lua

.PHONY: all deps data demo test test-run bench samples install uninstall clean
all: $(BIN)

$(BIN): $(BUILD)/$(BIN)
	cp $< $@

$(BUILD)/$(BIN): $(HOST_OBJ) $(BINDINGS_OBJ) $(CORE_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# The pure-Lua library is compiled into the binary, so an installed or
# copied mlpz-lua needs no LUA_PATH.
$(BUILD)/embedded_lua.c: tools/embed_lua.sh $(LUA_LIB)
	@mkdir -p $(dir $@)
	sh tools/embed_lua.sh $(LUA_LIB) > $@.tmp && mv $@.tmp $@

$(BUILD)/embedded_lua.o: $(BUILD)/embedded_lua.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.h $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(CORE_OBJ) $(LDLIBS)

-include $(shell find build -name '*.d' 2>/dev/null)

# Installs the Debian packages the build and the tests need, when missing.
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "deps: installing$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	else echo "deps: missing$$missing; run: sudo apt-get install -y$$missing"; exit 1; fi

data:
	@sh tools/fetch_data.sh data

demo: deps
	$(MAKE) all
	$(MAKE) data
	./$(BIN) scripts/ranking.lua 42

# test installs what is missing first, then builds and runs in a fresh make
# so that pkg-config sees the packages just installed.
test: deps
	@$(MAKE) --no-print-directory test-run

test-run: $(BUILD)/$(BIN) $(UNIT_BIN)
	@MLPZ_BIN=$(CURDIR)/$(BUILD)/$(BIN) sh tests/run.sh $(BUILD) $(SUITE)

bench: $(BIN)
	@sh tests/bench.sh

samples: $(BIN)
	@sh tools/make_samples.sh

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/mlpz-lua/scripts
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/$(BIN)
	install -m 644 scripts/*.lua $(DESTDIR)$(PREFIX)/share/mlpz-lua/scripts/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/$(BIN)
	rm -rf $(DESTDIR)$(PREFIX)/share/mlpz-lua

clean:
	rm -rf build $(BIN)
