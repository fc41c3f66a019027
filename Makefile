# The one test target: what CI runs (.ci/run) and what the README tells
# newcomers to run. Tests needing Redis/PostgreSQL skip loudly without them
# unless CI=true.
.PHONY: test build

test:
	go vet ./...
	go test -race ./...

build:
	go build -o bin/waitroom ./cmd/waitroom
