# Sluice: two commands do everything on a fresh machine.
#   make run    build and open the dashboard
#   make test   build and pass every test (unit, scenario, widget snapshots, tmux end-to-end)
SWIFT ?= swift
BIN_DEBUG := .build/debug/sluice
BIN_RELEASE := .build/release/sluice

.PHONY: prometheus-deps metrics-server-build metrics-server prometheus-e2e all build release run test unit e2e consumer docs docs-check deps bench callgrind check soak clean help format format-check example test-under-load install

# Every test stage runs under a time limit (scripts/deadline): a stage that hangs fails with
# the stack of each of its threads instead of stalling CI in silence. The limits are far
# above a normal run on two busy cores; SLUICE_DEADLINE_SCALE=2 doubles them all.
DEADLINE := bash scripts/deadline
UNIT_LIMIT ?= 600
TSAN_LIMIT ?= 1500
E2E_LIMIT ?= 600

all: build

help:
	@echo "make run      build (release) and open the dashboard"
	@echo "make test     build and run every test, including the tmux end-to-end tests"
	@echo "make build    debug build;  make release: optimized build"
	@echo "make install  the release build to \$$(PREFIX)/bin/sluice (PREFIX=/usr/local; e.g. make install PREFIX=~/.local)"
	@echo "make bench    release benchmarks of the engine against its peers, two cores and pinned to one"
	@echo "make callgrind  instructions per item of the engine workloads (valgrind), against the baseline"
	@echo "make check    the test suite under ThreadSanitizer, then hostile-input tests"
	@echo "make test-under-load  make test five times from a clean clone with one core kept busy (not in CI)"
	@echo "make example  build and start the example program to attach to (EXAMPLE_ARGS: its arguments)"
	@echo "make docs     the DocC archive of AsyncPatterns; make docs-check: fail on an undocumented public declaration"
	@echo "make consumer build and run Examples/Consumer, a package that uses AsyncPatterns as yours would"
	@echo "make metrics-server  build and start Examples/MetricsServer (patterns, /metrics for Prometheus; PORT=9464)"
	@echo "make prometheus-e2e  a real Prometheus scrapes Examples/MetricsServer (part of make test; skipped without prometheus)"
	@echo "make soak     every scenario under heavy load for 10 minutes, memory sampled (not in CI)"
	@echo "make deps     install or explain the system packages (libncurses-dev, tmux; prometheus for its test)"
	@echo "make format   format the code in place (.swift-format); make format-check: fail on differences"

# System packages: installed with apt-get when we are root on Debian/Ubuntu, else explained.
deps:
	@missing=""; \
	if [ ! -e /usr/include/ncursesw/ncurses.h ] && [ ! -e /usr/include/ncurses.h ]; then missing="$$missing libncurses-dev"; fi; \
	if ! command -v tmux >/dev/null 2>&1; then missing="$$missing tmux"; fi; \
	if ! command -v gdb >/dev/null 2>&1; then missing="$$missing gdb"; fi; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || \
				{ echo "could not install$$missing; install them and run make again"; exit 1; }; \
		else \
			echo "missing system packages:$$missing"; \
			echo "install them, e.g.: sudo apt-get install$$missing"; \
			case "$$missing" in *libncurses-dev*) exit 1;; esac; \
			echo "(tmux is only needed by the end-to-end tests, which will be skipped;"; \
			echo " gdb only to show the threads' stacks of a test stage that hangs)"; \
		fi; \
	fi
	@$(MAKE) --no-print-directory prometheus-deps

# Debian's prometheus, for the end-to-end test of Examples/MetricsServer only: installed
# when we are root with apt-get and the archive has it (`apt-cache policy prometheus`),
# without starting or enabling its service (it would listen on every interface at :9090);
# otherwise explained, and that one test is skipped.
prometheus-deps:
	@if ! command -v prometheus >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq >/dev/null 2>&1; \
			if apt-cache policy prometheus 2>/dev/null | grep -q 'Candidate: [0-9]'; then \
				echo "installing: prometheus (for make prometheus-e2e; its service is not started)"; \
				policy=/usr/sbin/policy-rc.d; made=""; \
				if [ ! -e $$policy ]; then printf '#!/bin/sh\nexit 101\n' > $$policy && chmod 755 $$policy && made=1; fi; \
				DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 \
					|| echo "could not install prometheus: make prometheus-e2e will be skipped"; \
				[ -n "$$made" ] && rm -f $$policy; \
				if command -v deb-systemd-helper >/dev/null 2>&1; then deb-systemd-helper disable prometheus.service >/dev/null 2>&1 || true; fi; \
			else \
				echo "no prometheus package in this system's archive: make prometheus-e2e will be skipped"; \
			fi; \
		else \
			echo "prometheus is not installed (only make prometheus-e2e needs it, and is skipped without it):"; \
			echo "  e.g. sudo apt-get install --no-install-recommends prometheus"; \
		fi; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product sluice

run: release
	$(BIN_RELEASE)

# sluice on your PATH: PREFIX=/usr/local by default (root), e.g. PREFIX=$$HOME/.local for
# yourself; DESTDIR for packaging.
PREFIX ?= /usr/local
install: release
	install -d "$(DESTDIR)$(PREFIX)/bin"
	install -m 755 $(BIN_RELEASE) "$(DESTDIR)$(PREFIX)/bin/sluice"
	@echo "installed $(DESTDIR)$(PREFIX)/bin/sluice"

unit: deps
	$(SWIFT) build --build-tests
	$(DEADLINE) $(UNIT_LIMIT) "unit tests" -- $(SWIFT) test --skip-build

e2e: build
	$(DEADLINE) $(E2E_LIMIT) tui.sh -- bash Tests/e2e/tui.sh $(BIN_DEBUG)
	$(DEADLINE) $(E2E_LIMIT) replay.sh -- bash Tests/e2e/replay.sh $(BIN_DEBUG)

test: deps
	$(SWIFT) build --build-tests
	$(DEADLINE) $(UNIT_LIMIT) "unit tests" -- $(SWIFT) test --skip-build
	$(MAKE) consumer
	$(DEADLINE) $(E2E_LIMIT) cli.sh -- bash Tests/e2e/cli.sh $(BIN_DEBUG)
	$(DEADLINE) $(E2E_LIMIT) tui.sh -- bash Tests/e2e/tui.sh $(BIN_DEBUG)
	$(DEADLINE) $(E2E_LIMIT) attach.sh -- bash Tests/e2e/attach.sh $(BIN_DEBUG) .build/debug/sluice-indexer
	$(DEADLINE) $(E2E_LIMIT) doctor.sh -- bash Tests/e2e/doctor.sh $(BIN_DEBUG) .build/debug/sluice-indexer
	$(DEADLINE) $(E2E_LIMIT) replay.sh -- bash Tests/e2e/replay.sh $(BIN_DEBUG)
	$(DEADLINE) $(E2E_LIMIT) pipelines.sh -- bash Tests/e2e/pipelines.sh $(BIN_DEBUG)
	$(MAKE) prometheus-e2e

# make test five times in a row from a clean clone of what is committed, with one core kept
# busy by another process: the guard that no test starves the shared pool (issue #26).
# Prints each run's time; fails when one run fails. RUNS=N for another count.
test-under-load:
	bash scripts/test-under-load.sh

# Examples/Consumer: a package of its own that depends on AsyncPatterns by path, as a user's
# would (Swift 6 mode, complete concurrency checking, warnings as errors), and uses every
# pattern from an actor and from the main actor. It must build without a warning and run.
# The build plan is dropped first, as for bench: SwiftPM misses files added to Sluice.
consumer:
	rm -f Examples/Consumer/.build/debug.yaml
	$(SWIFT) build --package-path Examples/Consumer
	Examples/Consumer/.build/debug/Consumer

# Examples/MetricsServer: a package of its own (swift-prometheus and NIOHTTP1 stay out of
# Sluice's build): patterns at work, their numbers at http://127.0.0.1:PORT/metrics
# through swift-prometheus, in a ServiceGroup that SIGTERM/SIGINT shut down.
METRICS_SERVER := Examples/MetricsServer/.build/debug/MetricsServer
PORT ?= 9464
metrics-server-build:
	rm -f Examples/MetricsServer/.build/debug.yaml
	$(SWIFT) build --package-path Examples/MetricsServer

metrics-server: metrics-server-build
	$(METRICS_SERVER) --port $(PORT)

# Debian's prometheus scrapes the example on loopback, and its HTTP API must answer the
# queue's depth and histogram_quantile(0.99, …) of its wait; skipped without prometheus.
# Bounded: 5 minutes for the test itself (its waits have deadlines of their own).
prometheus-e2e: metrics-server-build
	$(DEADLINE) 300 prometheus.sh -- bash Tests/e2e/prometheus.sh $(METRICS_SERVER)

# The whole test suite under ThreadSanitizer (in a build folder of its own; the fuzz test of
# recordings with 2,000 inputs there), then 100,000 fuzzed recordings into the reader without
# the sanitizer (20,000 in make test) and 100,000 with valid checksums and hostile values
# (2,000 in make test; about 100 s of CPU in the debug build, since keyframes are binary),
# and 2,000 fake agents answering with hostile hellos and snapshots (200 in make test), then
# 10,000 random keys, 100 resizes and signals at random moments into the real TUI.
# Tests/tsan-suppressions.txt names the one known false positive (swiftlang/swift#57803).
check: deps format-check docs-check
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	TSAN_OPTIONS="suppressions=$(CURDIR)/Tests/tsan-suppressions.txt $(TSAN_OPTIONS)" SLUICE_FUZZ_COUNT=2000 SLUICE_SEMANTIC_FUZZ_COUNT=200 \
		$(DEADLINE) $(TSAN_LIMIT) "unit tests under ThreadSanitizer" -- $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan
	$(SWIFT) build --build-tests
	SLUICE_FUZZ_COUNT=100000 $(DEADLINE) $(UNIT_LIMIT) "fuzzed recordings" -- $(SWIFT) test --skip-build --filter fuzzTheReader
	SLUICE_SEMANTIC_FUZZ_COUNT=100000 SLUICE_HOSTILE_AGENT_COUNT=2000 $(DEADLINE) $(UNIT_LIMIT) "hostile values in recordings and from agents" -- \
		$(SWIFT) test --skip-build --filter "SemanticFuzzTests|HostileAgentFuzzTests"
	$(DEADLINE) $(E2E_LIMIT) hostile.sh -- bash Tests/e2e/hostile.sh $(BIN_DEBUG)

# The example program, in the foreground: it prints its pid and socket, then a line a
# second; `sluice attach` in another terminal watches and steers it. Ctrl-C ends it.
EXAMPLE_ARGS ?=
example: deps
	$(SWIFT) build -c release --product sluice-indexer
	.build/release/sluice-indexer $(EXAMPLE_ARGS)

# Every scenario under heavy load for 10 minutes (SOAK_SECONDS), memory sampled each second.
soak: release
	bash scripts/soak.sh $(BIN_RELEASE)

# The DocC archive of AsyncPatterns (swift-docc-plugin): the catalog in
# Sources/AsyncPatterns/AsyncPatterns.docc and every public declaration's /// comment.
# Warnings (a broken link, a parameter documented under the wrong name) fail it.
docs: deps
	$(SWIFT) package generate-documentation --target AsyncPatterns --warnings-as-errors
	@echo "open .build/plugins/Swift-DocC/outputs/AsyncPatterns.doccarchive (or: swift package --disable-sandbox preview-documentation --target AsyncPatterns)"

# Fails on a public declaration of AsyncPatterns without a /// comment, read from the symbol
# graph that `make docs` extracts (part of `make check`).
docs-check: docs
	python3 scripts/check-docs.py $$(ls -d .build/*/extracted-symbols/*/AsyncPatterns | head -1)

# A package of its own (Benchmarks/), so the peers' dependencies stay out of Sluice's build.
# BENCH_ARGS: e.g. --quick (one short run) or --only queue (for profiling); --no-pinned and
# --no-callgrind leave out the pinned re-run and the instruction counts (sluice-bench --help).
BENCH := Benchmarks/.build/release
# The build plan is dropped first: SwiftPM does not notice a file added to Sluice (a path
# dependency of Benchmarks/) and would build from its old list of sources.
bench: deps
	rm -f Benchmarks/.build/release.yaml
	$(SWIFT) build -c release --package-path Benchmarks --product sluice-bench
	$(SWIFT) build -c release --package-path Benchmarks --product sluice
	$(BENCH)/sluice-bench --sluice $(BENCH)/sluice $(BENCH_ARGS)

# Instructions per item of each engine workload, counted by valgrind's callgrind and printed
# beside Benchmarks/callgrind-baseline.json (the code before issue #16): the same on a busy
# machine as on an idle one, so a change's effect shows in one run (about a minute).
# BENCH_ARGS: e.g. --only queue; --callgrind-out DIR keeps the callgrind.out files for
# callgrind_annotate; --callgrind-runs 1 for one run instead of the median of three.
callgrind: deps
	rm -f Benchmarks/.build/release.yaml
	$(SWIFT) build -c release --package-path Benchmarks --product sluice-bench
	$(BENCH)/sluice-bench --callgrind $(BENCH_ARGS)

# swift-format with the repository's .swift-format (4 spaces, 140 columns, like the code);
# `make check` (and so CI) fails on code that is not formatted.
FORMAT_PATHS := Package.swift Sources Tests Benchmarks/Package.swift Benchmarks/Sources Examples/FileIndexer Examples/Consumer/Package.swift Examples/Consumer/Sources \
	Examples/MetricsServer/Package.swift Examples/MetricsServer/Sources
format:
	$(SWIFT) format --in-place --recursive --parallel $(FORMAT_PATHS)

format-check:
	$(SWIFT) format lint --strict --recursive --parallel $(FORMAT_PATHS)

clean:
	rm -rf .build Benchmarks/.build Examples/Consumer/.build Examples/MetricsServer/.build
