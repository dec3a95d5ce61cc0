# The thin front door: dependencies, configure, build, test.
#   make matrix   = bash tests/run.sh matrix: the scenario suite and the
#                   v1/v2 conformance matrix
#   make test     = bash tests/run.sh all: every test (unit, end-to-end,
#                   scenarios, coverage)
#   make bench    benchmarks against nginx;  make fuzz: libFuzzer targets
# Variables: BUILD (build), CMAKE_ARGS (extra -D options), JOBS.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps configure build test matrix fuzz bench clean

all: build

deps:
	@bash tests/deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -DAGW_COVERAGE=ON $(CMAKE_ARGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS) -- --no-print-directory

# tests/run.sh installs, configures and builds first (the README's commands)
test:
	@BUILD=$(BUILD) JOBS=$(JOBS) CMAKE_ARGS="$(CMAKE_ARGS)" bash tests/run.sh all

matrix:
	@BUILD=$(BUILD) JOBS=$(JOBS) CMAKE_ARGS="$(CMAKE_ARGS)" bash tests/run.sh matrix

# make bench: a Release build in build-rel, then the data-path benchmarks
# against nginx on this machine (tests/bench/*.sh; bounded wrk runs).
bench:
	@bash tests/deps.sh bench
	@cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release -DAGW_TESTS=OFF >/dev/null
	@cmake --build build-rel -j $(JOBS) -- --no-print-directory
	@AGW_BIN=$(CURDIR)/build-rel/bin bash tests/bench/sim.sh
	@AGW_BIN=$(CURDIR)/build-rel/bin bash tests/bench/proxy.sh

clean:
	rm -rf $(BUILD)

# make fuzz: build every tests/fuzz/fuzz_*.c target with clang into
# build-fuzz and run each for FUZZ_SECONDS on its seed corpus
# (tests/fuzz/corpus/<name>); new inputs go to build-fuzz/corpus/<name>.
FUZZ_SECONDS ?= 60
fuzz:
	@bash tests/deps.sh fuzz
	@CC=clang cmake -S . -B build-fuzz -DAGW_TESTS=OFF >/dev/null
	@for src in tests/fuzz/fuzz_*.c; do \
		t=$$(basename $$src .c); n=$${t#fuzz_}; \
		cmake --build build-fuzz -j $(JOBS) --target $$t -- --no-print-directory || exit 1; \
		mkdir -p build-fuzz/corpus/$$n; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		build-fuzz/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			build-fuzz/corpus/$$n tests/fuzz/corpus/$$n || exit 1; \
	done
