# streamkit's build. `make test` is the whole set-up and test run on a fresh
# machine: it installs and starts the real platform (scripts/platform) and
# a Docker Engine with locally built images (scripts/containers), checks
# formatting and vets, then runs every test against that platform, and the
# containers backend's tests on that engine, with
# STREAMKIT_REQUIRE_PLATFORM=1, and stops both even on failure.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

STREAMKIT_CACHE ?= $(HOME)/.cache/streamkit
export STREAMKIT_CACHE
# Three combined Kafka nodes: replication and reassignment are tested on a
# real multi-broker cluster.
STREAMKIT_KAFKA_NODES ?= 3
export STREAMKIT_KAFKA_NODES
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(STREAMKIT_CACHE)/bin/staticcheck-$(STATICCHECK_VERSION)
BENCHSTAT_VERSION := v0.0.0-20260908200009-22c9c6c9d4da
BENCHSTAT := $(STREAMKIT_CACHE)/bin/benchstat-$(BENCHSTAT_VERSION)
BENCH_COUNT ?= 6
PLATFORM := scripts/platform
# Docker Engine and the locally built images of platformtest's containers
# backend.
CONTAINERS := scripts/containers

.PHONY: test check generate unit bench bench-smoke faults platform-up platform-down

# A platform (or Docker Engine) that was already running when `make test`
# began is left running, even with a component stopped or paused (status
# exits 3 only when nothing runs); one that `make test` started is
# stopped. After the tests, no container or network of platformtest may be
# left.
test:
	@was_up=1; status_rc=0; $(PLATFORM) status >/dev/null 2>&1 || status_rc=$$?; \
	if [[ $$status_rc == 3 ]]; then was_up=0; fi; \
	engine_was_up=0; $(CONTAINERS) status && engine_was_up=1; \
	stop() { rc=$$?; \
	  if [[ $$rc != 0 ]]; then echo "make test: failed ($$rc); platform logs:" >&2; $(PLATFORM) logs >&2 || true; fi; \
	  if [[ $$was_up == 0 ]]; then $(PLATFORM) down; fi; \
	  if [[ $$engine_was_up == 0 ]]; then $(CONTAINERS) down; fi; exit $$rc; }; \
	trap stop EXIT; \
	start=$$SECONDS; \
	$(PLATFORM) up; \
	eval "$$($(PLATFORM) env)"; \
	$(CONTAINERS) up; \
	eval "$$($(CONTAINERS) env)"; \
	echo "make test: platform, engine and images ready in $$((SECONDS - start))s"; \
	$(MAKE) --no-print-directory check; \
	$(MAKE) --no-print-directory bench-smoke; \
	STREAMKIT_REQUIRE_PLATFORM=1 go test -race -count=1 ./...; \
	$(CONTAINERS) leaks; \
	$(MAKE) --no-print-directory faults; \
	echo "make test: passed in $$((SECONDS - start))s"

# Formatting, vet, staticcheck, the files generated from the environment
# contract (scripts/envgen/contract.go) being current, and shellcheck over
# every shell script (scripts/lint installs Debian's shellcheck once).
check: $(STATICCHECK)
	@unformatted=$$(gofmt -l .); if [[ -n $$unformatted ]]; then echo "gofmt needed:" $$unformatted >&2; exit 1; fi
	go vet ./...
	$(STATICCHECK) ./...
	go run ./scripts/envgen -check
	scripts/lint

# What is generated from the environment contract: platformtest's and
# internal/platformenv's env.go and scripts/env.sh.
generate:
	go run ./scripts/envgen

$(STATICCHECK):
	@mkdir -p $(dir $@)
	GOBIN=$(dir $@) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(dir $@)staticcheck $@

# Every benchmark once, briefly, against the running platform: they stay
# runnable, and a benchmark that fails its own checks fails the build.
bench-smoke:
	STREAMKIT_REQUIRE_PLATFORM=1 go test -run '^$$' -bench . -skip 'AtScale|PipelineThroughput|ProcessSlowHandler|ConsumeThroughput' -benchtime 20x ./...
	go test -run '^$$' -bench ProcessSlowHandler -benchtime 2x ./schema/
	STREAMKIT_REQUIRE_PLATFORM=1 go test -run '^$$' -bench ConsumeThroughput -benchtime 20000x ./schema/
	STREAMKIT_REQUIRE_PLATFORM=1 go test -run '^$$' -bench AtScale -benchtime 3x -benchmem ./cmd/streamkit/
	STREAMKIT_REQUIRE_PLATFORM=1 go test -run '^$$' -bench PipelineThroughput -benchtime 1x ./platformtest/pipelines/

# The README's benchmark figures: needs the platform (scripts/platform up;
# eval "$$(scripts/platform env)"). Each benchmark's implementations run in
# one process; benchstat compares them column by column.
bench: $(BENCHSTAT)
	@mkdir -p $(STREAMKIT_CACHE)/bench
	STREAMKIT_REQUIRE_PLATFORM=1 go test -run '^$$' -bench 'Encode|Decode' -benchmem -count $(BENCH_COUNT) ./schema/ | tee $(STREAMKIT_CACHE)/bench/serde.txt
	STREAMKIT_REQUIRE_PLATFORM=1 go test -run '^$$' -bench 'ProduceThroughput' -benchtime 100000x -benchmem -count $(BENCH_COUNT) ./schema/ | tee $(STREAMKIT_CACHE)/bench/produce.txt
	STREAMKIT_REQUIRE_PLATFORM=1 go test -run '^$$' -bench 'ConsumeThroughput' -benchtime 200000x -benchmem -count $(BENCH_COUNT) ./schema/ | tee $(STREAMKIT_CACHE)/bench/consume.txt
	go test -run '^$$' -bench 'ProcessSlowHandler' -benchtime 3x -benchmem -count $(BENCH_COUNT) ./schema/ | tee $(STREAMKIT_CACHE)/bench/process.txt
	$(BENCHSTAT) $(STREAMKIT_CACHE)/bench/process.txt
	STREAMKIT_REQUIRE_PLATFORM=1 go test -run '^$$' -bench 'Plan200' -benchtime 50x -count $(BENCH_COUNT) ./connect/ | tee $(STREAMKIT_CACHE)/bench/connect.txt
	$(BENCHSTAT) $(STREAMKIT_CACHE)/bench/connect.txt
	STREAMKIT_REQUIRE_PLATFORM=1 go test -run '^$$' -bench 'Plan1000Topics' -benchtime 20x -count $(BENCH_COUNT) ./topics/ | tee $(STREAMKIT_CACHE)/bench/topics.txt
	$(BENCHSTAT) $(STREAMKIT_CACHE)/bench/topics.txt
	STREAMKIT_REQUIRE_PLATFORM=1 go test -run '^$$' -bench PipelineThroughput -benchtime 3x -count 3 ./platformtest/pipelines/ | tee $(STREAMKIT_CACHE)/bench/pipelines.txt
	$(BENCHSTAT) -col /converter $(STREAMKIT_CACHE)/bench/pipelines.txt
	STREAMKIT_REQUIRE_PLATFORM=1 go test -run '^$$' -bench AtScale -benchtime 5x -benchmem -count $(BENCH_COUNT) ./cmd/streamkit/ | tee $(STREAMKIT_CACHE)/bench/cli.txt
	$(BENCHSTAT) $(STREAMKIT_CACHE)/bench/cli.txt
	$(BENCHSTAT) -col /impl $(STREAMKIT_CACHE)/bench/serde.txt
	$(BENCHSTAT) -col /impl $(STREAMKIT_CACHE)/bench/produce.txt
	$(BENCHSTAT) -col /impl $(STREAMKIT_CACHE)/bench/consume.txt

$(BENCHSTAT):
	@mkdir -p $(dir $@)
	GOBIN=$(dir $@) go install golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION)
	mv $(dir $@)benchstat $@

# The fault suite (platformtest/faults, and the pipelines' TestFault*):
# it kills, stops and restarts the running platform's components under
# streamkit's clients, so it runs on its own, one test at a time, after
# every other test. Needs the platform (scripts/platform up;
# eval "$$(scripts/platform env)").
faults:
	STREAMKIT_REQUIRE_PLATFORM=1 STREAMKIT_FAULTS=1 go test -count=1 -p 1 -v -run '^TestFault' ./platformtest/faults/ ./platformtest/pipelines/

# Unit tests only: no platform, fakes in process.
unit:
	go test -race ./...

platform-up:
	$(PLATFORM) up

platform-down:
	$(PLATFORM) down
