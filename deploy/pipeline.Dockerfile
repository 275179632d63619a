# The example pipeline, writing to the collector of docker-compose.yaml and
# reading back from its Loki (the otel flavor).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /pipeline ./examples/pipeline

FROM gcr.io/distroless/static-debian12
COPY --from=build /pipeline /pipeline
# Loki needs a moment after the collector's batch before it answers.
ENTRYPOINT ["/pipeline", "-store", "otel", "-fetch-wait", "10s"]
