# The two commands of README's quick start, each doing all set-up itself:
#   make demo    install dependencies, build, run a real study locally
#   make check   install dependencies, build, run every test suite (ctest),
#                then again under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz    the libFuzzer targets (clang), FUZZ_SECONDS (30) each
# Other targets: build, test, asan, bench, clean.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_ARGS ?=

.PHONY: all deps build test asan fuzz check demo bench clean

all: build

deps:
	@./deploy/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DHP_WERROR=ON
	cmake --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && ctest -j$(JOBS) --output-on-failure $(CTEST_ARGS)

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DHP_WERROR=ON -DHP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest -j$(JOBS) --output-on-failure $(CTEST_ARGS)

# the decoders of everything a peer or user sends, under libFuzzer with
# ASan + UBSan: tests/fuzz/run.sh, results in $(FUZZ_BUILD)/fuzz-summary.txt
fuzz:
	@./deploy/install-deps.sh --fuzz
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DHP_FUZZ=ON -DHP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz_envelope fuzz_spec fuzz_metricline fuzz_csv fuzz_idx fuzz_http
	./tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

check: test asan fuzz

demo: build
	./deploy/demo.sh $(BUILD)

bench: build
	@./deploy/install-deps.sh --bench
	./tests/bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
