# syntax=docker/dockerfile:1
#
# Perk in a container: a static binary on distroless, run as a non-root user.
#
#   docker build -t perk .
#   docker run --stop-timeout 30 -p 8080:8080 -v perk-data:/var/lib/perk \
#       -e PERK_PUBLIC_URL=https://perk.example.com -e PERK_SMS=none perk
#
# Settings are PERK_* variables (-e, --env-file) or a config file mounted
# read-only and named by PERK_CONFIG; see docs/deploy.md. Operator commands
# run in the same image: docker run --rm -v perk-data:/var/lib/perk perk keys list
#
# For reproducible builds pin both images by digest (FROM image@sha256:...).

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY . .
# CGO_ENABLED=0: SQLite is modernc.org/sqlite, pure Go, so the binary is
# static. timetzdata embeds the zone database (quiet hours, campaign zones)
# so the binary does not depend on the image's.
RUN CGO_ENABLED=0 go build -trimpath -tags timetzdata -ldflags="-s -w" -o /out/perk ./cmd/perk
# The data folder, owned by the user Perk runs as (distroless has no shell
# to make it in the final stage).
RUN mkdir -p /out/data && /out/perk help >/dev/null

FROM gcr.io/distroless/static-debian12:nonroot
# distroless/static: CA certificates (PostgreSQL over TLS), /etc/passwd with
# nonroot (65532), no shell, no package manager; nothing is fetched at run time.
COPY --from=build /out/perk /usr/local/bin/perk
COPY --from=build --chown=65532:65532 /out/data /var/lib/perk
ENV PERK_DATA_DIR=/var/lib/perk \
    PERK_LOG_FORMAT=json
USER 65532:65532
WORKDIR /var/lib/perk
VOLUME ["/var/lib/perk"]
EXPOSE 8080
# perk serve drains requests for 20 s after SIGTERM: give it longer than
# Docker's default 10 s (docker run --stop-timeout 30, compose
# stop_grace_period: 30s; Kubernetes' default 30 s is enough).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/perk"]
CMD ["serve", "--addr", ":8080"]
