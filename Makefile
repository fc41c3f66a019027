# The one test target: what CI runs (.ci/run) and what the README tells
# newcomers to run. Tests needing Redis/PostgreSQL skip loudly without them
# unless CI=true.
.PHONY: test lint build e2e screenshots bench fuzz

test: lint
	go test -race $$(go list ./... | grep -v $(BOTH_REDIS:./%=-e /%$$))
	bash -o pipefail -c 'go test -race -v $(BOTH_REDIS) | grep -E "$(SHOWN)"'
	.ci/fuzz

# The packages whose suites run on plain Redis and on Redis Cluster run
# verbose, so that the log names each suite's redis and cluster subtests
# (two levels deep), its log lines (failover figures) and any failure.
BOTH_REDIS = ./waitroom/backend/redispg ./waitroom/admission/replicas ./waitroom/testenv
SHOWN = ^(ok|FAIL|panic|--- |    --- )|^[[:space:]]+[[:alnum:]_]+\.go:[0-9]+: 

# Every fuzz target (found by name) for FUZZTIME each, 5s by default; a
# crash fails the run and leaves its input in the package's testdata/fuzz.
fuzz:
	.ci/fuzz

# go vet and staticcheck (pinned in go.mod as a tool); the import rules of
# the layout are a test (waitroom/architecture_test.go).
lint:
	go vet ./...
	go tool staticcheck ./...

build:
	go build -o bin/waitroom ./cmd/waitroom

# The benchmark suite: starts the server on local Redis + PostgreSQL, runs
# cmd/waitroom-bench (pinned with taskset) and regenerates
# docs/benchmarks.md. Takes a while; see the script for its settings.
bench:
	cmd/waitroom-bench/bench.sh

# Only the browser tests (they are part of test too).
e2e:
	go test -count=1 ./waitroom/e2e

# The browser tests, writing their screenshots to docs/screenshots (a test
# run writes them to a temporary folder).
screenshots:
	WAITROOM_SCREENSHOTS=$(CURDIR)/docs/screenshots go test -count=1 -run TestBrowser ./waitroom/e2e

# Build the container image from the Dockerfile with podman and start it
# (the binary is compiled on this machine, so no base image is pulled).
# See deploy/image-test.sh.
.PHONY: image
image:
	deploy/image-test.sh

# Run waitroom behind nginx with the block of docs/deploy.md (a certificate
# made for the run). See deploy/nginx-test.sh.
.PHONY: nginx-test
nginx-test:
	deploy/nginx-test.sh

# Check deploy/waitroom.service with systemd-analyze (verify, and an
# exposure score from security). See deploy/systemd-verify.sh.
.PHONY: systemd-verify
systemd-verify:
	deploy/systemd-verify.sh

# The per-request costs of docs/capacity.md: counts of Redis commands,
# PostgreSQL statements, commits and WAL per request type, on a private
# PostgreSQL and Redis with several replicas (needs root or the postgres
# user for initdb, and jq). See cmd/waitroom-bench/capacity.sh.
.PHONY: capacity
capacity:
	cmd/waitroom-bench/capacity.sh
