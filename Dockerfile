# syntax=docker/dockerfile:1
#
# waitroom container image: a static binary on an empty base image.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#       --build-arg COMMIT=$(git rev-parse HEAD) \
#       --build-arg DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) -t waitroom .
#   docker run -p 8080:8080 -p 127.0.0.1:8081:8081 -v waitroom-data:/data waitroom
#
# Configuration comes from WAITROOM_* environment variables (README.md lists
# them; WAITROOM_<NAME>_FILE reads a value from a mounted secret); the image
# sets only the listen addresses and the data folder of the embedded store
# (its signing keys). For Redis + PostgreSQL see compose.yaml; deployment
# guide: docs/deploy.md.
#
# Stages: "build" compiles the binary and provides the CA bundle; the final
# stage copies them onto scratch. deploy/image-test.sh builds the final stage
# from a binary compiled on the host (podman build --build-context
# build=DIR), so it runs where no base image can be pulled.

ARG GO_VERSION=1.26

FROM docker.io/library/golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
# What "waitroom version" prints. The build context has no .git (see
# .dockerignore), so the revision and date come from here.
ARG VERSION=dev
ARG COMMIT=
ARG DATE=
# The output directory has the layout the final stage copies from:
# /out/waitroom, /out/ca-certificates.crt and an empty /out/data.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath \
        -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" \
        -o /out/waitroom ./cmd/waitroom \
 && cp /etc/ssl/certs/ca-certificates.crt /out/ca-certificates.crt \
 && mkdir -p /out/data

FROM scratch AS runtime
ARG VERSION=dev
ARG COMMIT=
ARG DATE=
LABEL org.opencontainers.image.title="waitroom" \
      org.opencontainers.image.description="Virtual waiting room and OpenID Connect provider" \
      org.opencontainers.image.source="https://github.com/waitroom-idp/waitroom" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.created="${DATE}"

# A non-root user (65532, as in distroless "nonroot") that names itself in
# /etc/passwd, CA certificates for rediss://, sslmode=require and webhook
# deliveries over https, and the data folder owned by that user. No shell,
# no package manager.
COPY deploy/image/passwd deploy/image/group /etc/
COPY --from=build /out/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build /out/waitroom /waitroom

# Inside a container the admin listener must bind beyond loopback to be
# published at all: publish 8081 on a private address only
# (-p 127.0.0.1:8081:8081). It always requires an admin key.
ENV WAITROOM_HTTP_ADDR=:8080 \
    WAITROOM_ADMIN_ADDR=:8081 \
    WAITROOM_DATA_DIR=/data

USER 65532:65532
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080 8081

# "waitroom healthcheck" GETs /healthz of the public listener from inside the
# container (https when WAITROOM_TLS_CERT_FILE is set), without a shell or
# curl in the image; exit 0 healthy, 1 not, within 2 s.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/waitroom", "healthcheck"]

ENTRYPOINT ["/waitroom"]
CMD ["serve"]
