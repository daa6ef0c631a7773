# cvisor top-level Makefile.
#   make            build bin/cvisor and the test programs
#   make test       unit tests + syscall test matrix (native, systrap, ptrace) + integration
#                   + stress-ng stressors (also alone: make stress)
#   make bench      benchmarks side by side with native and runsc
#   make asan       the same tests with a build under ASan+UBSan (in build-asan/)
#   make docs       regenerate docs/compatibility.md from the syscall table
#   make fuzz       libFuzzer targets (clang) run FUZZ_SECONDS each (in build-fuzz/)
#   make fuzz-smoke the same targets for FUZZ_RUNS inputs each (fails on a crash)

BUILD ?= build
CC ?= gcc
PKGS := libseccomp libelf liburing json-c libcap
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wmissing-prototypes \
	-Wstrict-prototypes -Wswitch-enum -Wno-missing-field-initializers -Werror
OPT ?= -O2 -g
SAN ?=
CFLAGS_ALL := -std=gnu11 $(OPT) $(SAN) $(WARN) -D_GNU_SOURCE -Iinclude -I$(BUILD)/gen \
	-fno-strict-aliasing -pthread $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS_ALL := $(SAN) -pthread $(EXTRA_LDFLAGS)

SRC_DIRS := sentry sentry/kernel sentry/mm sentry/loader sentry/syscalls sentry/ipc \
	platform-ptrace platform-kvm gofer vfs vfs/fs vfs/anon netstack runsc-compat
LIB_SRCS := $(filter-out runsc-compat/main.c,$(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c)))
ASM_SRCS := $(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.S))
GEN_C := $(BUILD)/gen/syscall_table.c
LIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS)) \
	$(patsubst %.S,$(BUILD)/obj/%.S.o,$(ASM_SRCS)) $(BUILD)/obj/gen/syscall_table.o
LIB := $(BUILD)/libcvisor.a

SYSCALL_TESTS := $(patsubst tests/syscalls/%.c,$(BUILD)/tests/%,$(wildcard tests/syscalls/*_test.c tests/syscalls/*_dyntest.c))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/test_*.c))
BENCH_PROGS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))

.PHONY: all test unit syscall-tests integration bench stress asan docs clean check-deps
all: bin/cvisor $(SYSCALL_TESTS) $(UNIT_TESTS) $(BENCH_PROGS)

$(BUILD)/gen/syscall_table.c $(BUILD)/gen/syscall_decls.h docs/compatibility.md: \
		sentry/syscalls/syscalls.tbl sentry/syscalls/gen_table.awk
	@mkdir -p $(BUILD)/gen docs
	awk -v out_c=$(BUILD)/gen/syscall_table.c -v out_h=$(BUILD)/gen/syscall_decls.h \
		-v out_md=docs/compatibility.md -f sentry/syscalls/gen_table.awk $<

docs: docs/compatibility.md

$(BUILD)/obj/%.o: %.c $(BUILD)/gen/syscall_decls.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/obj/gen/syscall_table.o: $(GEN_C)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIB): $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/cvisor: $(BUILD)/obj/runsc-compat/main.o $(LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

bin/cvisor: $(BUILD)/cvisor
	@mkdir -p bin
	cp $< $@

# Syscall tests are static programs that must also pass natively.
$(BUILD)/tests/%: tests/syscalls/%.c tests/syscalls/tap.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -static -pthread -o $@ $<

# *_dyntest.c: the same, dynamically linked (ld.so, shared libraries, dlopen).
$(BUILD)/tests/%_dyntest: tests/syscalls/%_dyntest.c tests/syscalls/tap.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -o $@ $< -ldl

$(BUILD)/unit/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -o $@ $< $(LIB) $(LDFLAGS_ALL) $(PKG_LIBS)

# The mm and loader unit tests bring a fake platform and fake vfs functions,
# so they link only the objects under test instead of the whole library.
UNIT_MM_OBJS := $(addprefix $(BUILD)/obj/sentry/,mm/memfile.o mm/mm.o \
	mm/pagetable.o log.o util.o)
UNIT_LOADER_OBJS := $(UNIT_MM_OBJS) $(addprefix $(BUILD)/obj/sentry/loader/,elf.o stack.o)

$(BUILD)/unit/test_mm: tests/unit/test_mm.c tests/unit/fake_platform.h $(UNIT_MM_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -o $@ $< $(UNIT_MM_OBJS) $(LDFLAGS_ALL)

$(BUILD)/unit/test_loader: tests/unit/test_loader.c tests/unit/fake_platform.h $(UNIT_LOADER_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -o $@ $< $(UNIT_LOADER_OBJS) $(LDFLAGS_ALL) -lelf

$(BUILD)/bench/%: bench/%.c $(wildcard bench/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -static -o $@ $<

unit: $(UNIT_TESTS)
	@tests/unit/run.sh $(UNIT_TESTS)

syscall-tests: bin/cvisor $(SYSCALL_TESTS)
	@tests/run.sh --bin bin/cvisor $(SYSCALL_TESTS)

integration: bin/cvisor
	@tests/integration/run.sh bin/cvisor

test: all
	@tests/unit/run.sh $(UNIT_TESTS)
	@tests/run.sh --bin bin/cvisor $(SYSCALL_TESTS)
	@tests/integration/run.sh bin/cvisor
	@tests/integration/run.sh bin/cvisor tests/integration/stress_ng.sh

bench: all
	@bench/run.sh

# stress-ng's process, signal and IPC stressors in the sandbox on both platforms.
stress: bin/cvisor
	@tests/integration/run.sh bin/cvisor tests/integration/stress_ng.sh

# The sentry and unit tests under ASan+UBSan; the syscall matrix then runs
# with the sanitized sentry (the test programs themselves stay uninstrumented).
ASAN_MAKE = $(MAKE) BUILD=build-asan OPT="-O1 -g" \
	SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
asan: $(SYSCALL_TESTS)
	$(ASAN_MAKE) build-asan/cvisor build-asan/unit-all
	ASAN_OPTIONS=detect_leaks=1 tests/unit/run.sh $(patsubst $(BUILD)/%,build-asan/%,$(UNIT_TESTS))
	ASAN_OPTIONS=detect_leaks=1 tests/run.sh --bin build-asan/cvisor --platforms "systrap ptrace" $(SYSCALL_TESTS)

$(BUILD)/unit-all: $(UNIT_TESTS)

# Fuzz targets for the parsers of untrusted input (tests/fuzz/): clang with
# libFuzzer + ASan + UBSan. The objects under test are built by a sub-make
# into build-fuzz/ with -fsanitize=fuzzer-no-link (coverage only); the
# targets link libFuzzer's main. Seeds are generated from real inputs.
FUZZ_BUILD ?= build-fuzz
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_RUNS ?= 100000
FUZZ_TARGETS := fuzz_elf fuzz_gofer
FUZZ_MAKE = $(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) \
	OPT="-O1 -g" SAN="-fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer"
FUZZ_ELF_OBJS := $(UNIT_LOADER_OBJS)
FUZZ_GOFER_OBJS := $(BUILD)/obj/gofer/server.o

$(BUILD)/fuzz/fuzz_elf: tests/fuzz/fuzz_elf.c tests/unit/fake_platform.h $(FUZZ_ELF_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Wno-unused-function -fsanitize=fuzzer -o $@ $< \
		$(FUZZ_ELF_OBJS) $(LDFLAGS_ALL) -lelf

$(BUILD)/fuzz/fuzz_gofer: tests/fuzz/fuzz_gofer.c gofer/gofer_impl.h $(FUZZ_GOFER_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -o $@ $< $(FUZZ_GOFER_OBJS) $(LDFLAGS_ALL) -luring

$(BUILD)/seeds/.stamp: tests/fuzz/seeds.sh tests/fuzz/gen_seeds.c include/cvisor/gofer_proto.h
	rm -rf $(BUILD)/seeds
	tests/fuzz/seeds.sh $(BUILD)/seeds gcc
	touch $@

.PHONY: fuzz fuzz-build fuzz-smoke
fuzz-build:
	+$(FUZZ_MAKE) $(addprefix $(FUZZ_BUILD)/fuzz/,$(FUZZ_TARGETS)) $(FUZZ_BUILD)/seeds/.stamp

fuzz: fuzz-build
	tests/fuzz/run.sh --seconds $(FUZZ_SECONDS) $(FUZZ_BUILD) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	tests/fuzz/run.sh --runs $(FUZZ_RUNS) $(FUZZ_BUILD) $(FUZZ_TARGETS)

clean:
	rm -rf build build-asan build-fuzz bin

-include $(LIB_OBJS:.o=.d) $(BUILD)/obj/runsc-compat/main.d
