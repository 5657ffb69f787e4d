#!/usr/bin/env bash
# Installs what palisade's lab and kernel tests need on a Debian machine:
# nftables (nft) and iproute2 (ip), iperf3 for `palisade bench`, busybox
# for the lab's busybox pods; with
# PALISADE_DEPS_BROWSER=1 also chromium. Sourced by demo.sh, test.sh and
# browser-test.sh.
need=()
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v iperf3 >/dev/null 2>&1 || need+=(iperf3)
# busybox: the lab's busybox pods run its shell and applets (wget, nc), as
# the image does; script (bsdutils) gives kubectl a terminal in the
# walkthrough's `kubectl run -i --tty` test.
command -v busybox >/dev/null 2>&1 || need+=(busybox)
command -v script >/dev/null 2>&1 || need+=(bsdutils)
# The dashboard's browser test (scripts/browser-test.sh) also needs Chromium.
if [ "${PALISADE_DEPS_BROWSER:-}" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "palisade needs ${need[*]}: install them (sudo apt-get install ${need[*]}) or run as root" >&2
    exit 2
  fi
  echo "== installing ${need[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
