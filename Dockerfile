# contentfilter: filter-server (gRPC, HTTP/JSON, LiteLLM guardrail) and
# filter-proxy in one small image.
#
#   docker build -t contentfilter/filter-server .
#   docker run --rm -p 50051:50051 -p 8080:8080 -p 9090:9090 contentfilter/filter-server
#   # your own lists, reloaded when they change:
#   docker run --rm -p 50051:50051 -v "$PWD/wordlists:/etc/contentfilter/wordlists:ro" \
#       -e FILTER_WORDLISTS=/etc/contentfilter/wordlists -e FILTER_WATCH=true \
#       contentfilter/filter-server
#   # the proxy instead of the server:
#   docker run --rm -p 8080:8080 -e FILTER_PROXY_UPSTREAM=https://api.openai.com/v1 \
#       --entrypoint /usr/local/bin/filter-proxy contentfilter/filter-server
#
# The steps are run without a container engine by deploy/container-steps.sh
# (in CI): keep the two in step.

FROM rust:1.95-bookworm AS build
WORKDIR /src
# The proto compiles without a system protoc (protox); nothing else to install.
COPY . .
RUN cargo build --release --locked -p filter-server -p filter-proxy \
    && install -D -m 0755 target/release/filter-server /out/usr/local/bin/filter-server \
    && install -D -m 0755 target/release/filter-proxy /out/usr/local/bin/filter-proxy

# glibc and libgcc, no shell, no package manager; user nonroot (65532).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/ /
# The bundled lists are built into the binaries; mount your own here and
# set FILTER_WORDLISTS (filter-proxy: FILTER_PROXY_WORDLISTS).
VOLUME ["/etc/contentfilter/wordlists"]
ENV FILTER_LISTEN=0.0.0.0:50051 \
    FILTER_HTTP_LISTEN=0.0.0.0:8080 \
    FILTER_METRICS_LISTEN=0.0.0.0:9090 \
    FILTER_LOG_FORMAT=json
USER 65532:65532
# gRPC, HTTP/JSON, Prometheus metrics and the /healthz and /readyz probes.
EXPOSE 50051 8080 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/filter-server", "health", "--addr", "127.0.0.1:50051"]
ENTRYPOINT ["/usr/local/bin/filter-server"]
CMD ["serve"]
