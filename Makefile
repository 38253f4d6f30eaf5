# streamkit's build. `make test` is the whole set-up and test run on a fresh
# machine: it installs and starts the real platform (scripts/platform),
# checks formatting and vets, then runs every test against that platform
# with STREAMKIT_REQUIRE_PLATFORM=1, and stops the platform even on failure.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

STREAMKIT_CACHE ?= $(HOME)/.cache/streamkit
export STREAMKIT_CACHE
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(STREAMKIT_CACHE)/bin/staticcheck-$(STATICCHECK_VERSION)
PLATFORM := scripts/platform

.PHONY: test check unit platform-up platform-down

# A platform that was already running when `make test` began is left
# running; one that `make test` started is stopped.
test:
	@was_up=0; $(PLATFORM) status >/dev/null 2>&1 && was_up=1; \
	stop() { rc=$$?; \
	  if [[ $$rc != 0 ]]; then echo "make test: failed ($$rc); platform logs:" >&2; $(PLATFORM) logs >&2 || true; fi; \
	  if [[ $$was_up == 0 ]]; then $(PLATFORM) down; fi; exit $$rc; }; \
	trap stop EXIT; \
	start=$$SECONDS; \
	$(PLATFORM) up; \
	eval "$$($(PLATFORM) env)"; \
	$(MAKE) --no-print-directory check; \
	STREAMKIT_REQUIRE_PLATFORM=1 go test -race -count=1 ./...; \
	echo "make test: passed in $$((SECONDS - start))s"

check: $(STATICCHECK)
	@unformatted=$$(gofmt -l .); if [[ -n $$unformatted ]]; then echo "gofmt needed:" $$unformatted >&2; exit 1; fi
	go vet ./...
	$(STATICCHECK) ./...

$(STATICCHECK):
	@mkdir -p $(dir $@)
	GOBIN=$(dir $@) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(dir $@)staticcheck $@

# Unit tests only: no platform, fakes in process.
unit:
	go test -race ./...

platform-up:
	$(PLATFORM) up

platform-down:
	$(PLATFORM) down
