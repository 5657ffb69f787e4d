#!/usr/bin/env bash
# Installs what palisade's lab and kernel tests need on a Debian machine:
# nftables (nft) and iproute2 (ip), and iperf3 for `palisade bench`.
# Sourced by demo.sh and test.sh.
need=()
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v iperf3 >/dev/null 2>&1 || need+=(iperf3)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "palisade needs ${need[*]}: install them (sudo apt-get install ${need[*]}) or run as root" >&2
    exit 2
  fi
  echo "== installing ${need[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
