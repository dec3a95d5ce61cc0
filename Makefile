# The thin front door: dependencies, configure, build, test.
#   make matrix   the scenario suite and the v1/v2 conformance matrix
#   make test     every test: unit, end-to-end, scenarios, coverage
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

test: build
	@BUILD=$(BUILD) JOBS=$(JOBS) bash tests/run.sh all

matrix: build
	@BUILD=$(BUILD) JOBS=$(JOBS) bash tests/run.sh matrix

clean:
	rm -rf $(BUILD)
