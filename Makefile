# The README's two commands: `make demo` and `make test`. Both install what is
# missing (scripts/install-deps.sh), configure and build first.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CTEST_ARGS ?=

.PHONY: all deps configure build test demo bench clean

all: build

deps:
	bash scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

# The demo needs only the regal executable, not the tests and benchmarks.
demo: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target regal
	bash scripts/demo.sh $(BUILD_DIR)/regal

bench: build
	bash scripts/bench.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
