# producer: multi-stage build of a static binary, run as a non-root user.
# Build from the repository root: docker build -f infra/docker/producer.Dockerfile .
FROM golang:1.26-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/producer ./infra/producer

FROM alpine:3.22
RUN adduser -D -H -u 10001 eventstreams
COPY --from=build /out/producer /usr/local/bin/producer
USER 10001
ENTRYPOINT ["/usr/local/bin/producer"]
