# clickrace: one image with both services (hub-gateway, round-scheduler) and the game page.
#   docker build -t clickrace .
#   docker run clickrace hub-gateway --help      /     docker run clickrace round-scheduler --help
# Every setting is an environment variable (see README / DESIGN §1.1).
# The image is built and run by the test suite with podman (tests/container/README.md).

# ---- build: compilers, -dev packages, npm (for the pinned SignalR browser bundle) ----
FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config ninja-build ca-certificates \
      libwebsocketpp-dev libasio-dev libhiredis-dev nlohmann-json3-dev libcpp-httplib-dev \
      libsodium-dev libssl-dev zlib1g-dev libbrotli-dev nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# npm first, so the layer is reused until the lockfile changes.
COPY services/hub-gateway/web/package.json services/hub-gateway/web/package-lock.json services/hub-gateway/web/
RUN cd services/hub-gateway/web && npm ci --no-audit --no-fund --loglevel=error
# Only what the two services are built from: an edit to the tests, docs or deployment files reuses
# the cached compile.
COPY CMakeLists.txt ./
COPY shared shared
COPY services/hub-gateway services/hub-gateway
COPY services/round-scheduler services/round-scheduler
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCLICKRACE_BUILD_TESTS=OFF \
 && cmake --build /build -j "$(nproc)" --target hub-gateway round-scheduler web \
 && strip /build/bin/hub-gateway /build/bin/round-scheduler

# ---- runtime: only the shared libraries the binaries load (no compiler, no curl, no npm) ----
FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libhiredis0.14 libsodium23 libcpp-httplib0.11 libssl3 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin clickrace
COPY --from=build /build/bin/hub-gateway /build/bin/round-scheduler /app/bin/
COPY --from=build /build/web /app/web
ENV PATH=/app/bin:$PATH \
    CLICKRACE_WEB_DIR=/app/web \
    CLICKRACE_GATEWAY_PORT=8080 \
    CLICKRACE_SCHEDULER_PORT=8081
# Numeric, so a runtime that checks runAsNonRoot (Kubernetes) can see it is not root.
USER 10001:10001
WORKDIR /app
EXPOSE 8080 8081
# SIGTERM is the graceful stop of both services: the gateway stops accepting, answers every click
# it has counted, sends Close{allowReconnect:true} and exits 0; the scheduler releases its lease.
# It takes at most CLICKRACE_SHUTDOWN_GRACE_MS (2 s) + 2 s: inside compose's stop_grace_period (15 s)
# and the gateway pods' terminationGracePeriodSeconds (deploy/kubernetes).
STOPSIGNAL SIGTERM
CMD ["hub-gateway"]
