# The palisade node agent image (deploy/daemonset.yaml runs it).
#
#   docker build -t registry.example.com/palisade:0.1.0 .
#
# Stage 1 builds the one binary; stage 2 is Debian with nft and nothing else
# of note. Both stages are bookworm, so the binary finds the glibc it was
# linked against.

# The workspace's rust-version (Cargo.toml).
ARG RUST_VERSION=1.89

FROM rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src
COPY . .
# --locked: exactly the dependency versions of Cargo.lock.
RUN cargo build --release --locked --bin palisade \
 && install -D -m 0755 target/release/palisade /out/palisade

FROM debian:bookworm-slim
# nftables: the agent applies every change as one `nft -f -` transaction and
#   reads the table back with `nft -j list table inet palisade`.
# netbase: /etc/protocols and /etc/services (only recommended by nftables,
#   so --no-install-recommends would leave it out); without them nft prints
#   protocols as numbers (6 instead of tcp) in `nft list` output.
# iproute2: `ip` and `bridge`, for diagnosing a node from inside the pod.
# ca-certificates: system roots, for an API server reached through a
#   kubeconfig whose CA is a public one (in-cluster, the service account's
#   ca.crt is what identifies the API server).
# Unpinned on purpose: bookworm's point and security updates are what we want.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends nftables netbase iproute2 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=builder /out/palisade /usr/local/bin/palisade
# No USER: the agent runs as root, deliberately. nft must hold CAP_NET_ADMIN
# in the node's network namespace, and nft is a child process: Kubernetes
# gives added capabilities to non-root users in the bounding set only (no
# ambient capabilities), so a non-root agent's nft would have none. The
# DaemonSet drops every capability except NET_ADMIN and NET_RAW, sets
# no_new_privs and a read-only root filesystem, so this root is confined.
ENTRYPOINT ["palisade", "agent"]
