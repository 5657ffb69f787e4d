#!/usr/bin/env python3
"""Turns nca's and palisade's connectivity answers into the same canonical facts.

    normalise.py nca      NCA_TXT       PODS_YAML  > facts
    normalise.py palisade PALISADE_JSON PODS_YAML  > facts
    normalise.py summary  NCA_FACTS     PALISADE_FACTS   # how they differ, one line
    normalise.py selftest

One line per (source pod, destination pod, protocol) that allows anything:

    ns-0/api-4 ns-1/web-7 TCP 80,8000-8100
    ns-0/api-4 ns-1/db-9 UDP all

sorted, with ports as disjoint, merged `first-last` ranges (a single port
as `p`) over 1-65535, or `all` when every port is allowed. Only pod-to-pod
facts are kept: rows whose source or destination is an address range
(nca: `0.0.0.0-255.255.255.255`, `172.16.0.0/12`; palisade: a CIDR) or
anything else that is not a pod of PODS_YAML are dropped, and so are
pod-to-itself rows (nca never prints them). Only TCP, UDP and SCTP are
compared: NetworkPolicy says nothing about other protocols, while nca's
`All connections` also covers ICMP and the other 250-odd IP protocols.

nca input is its `--connectivity ... -o txt_no_fw_rules` output, lines

    SRC => DST : CONNS

with SRC/DST `ns/name` (`--output_endpoints pods`) or `ns/name[Pod]`
(the default `deployments` view of a pod without owner), and CONNS one of
`All connections`, `All but CUBES`, `No connections` or `CUBES`, where
CUBES is `{protocols:TCP, UDP,dst_ports:80,8000-8100},{...}`; a missing
`protocols` means every protocol and a missing `dst_ports` every port.
Protocol sets may read `all but ICMP, ...`. Any other line (the
`global: ...` header, warnings, timing) is ignored.

Needs PyYAML (nca depends on it, so the nca virtualenv's python has it).
"""

import json
import re
import sys

import yaml

PROTOCOLS = ("TCP", "UDP", "SCTP")
PORT_MIN, PORT_MAX = 1, 65535
ALL = ((PORT_MIN, PORT_MAX),)

# nca's cube keys; values may themselves contain ", " (protocol lists).
CUBE_KEY = re.compile(r",(?=(?:protocols|src_ports|dst_ports|icmp_type|icmp_code|methods|paths|hosts):)")
LINE = re.compile(r"^(\S+) => (\S+) : (.+)$")


def merge(ranges):
    """Sorted, disjoint, merged (adjacent ranges joined) tuple of ranges."""
    out = []
    for lo, hi in sorted(ranges):
        lo, hi = max(lo, PORT_MIN), min(hi, PORT_MAX)
        if lo > hi:
            continue
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return tuple(out)


def subtract(ranges, minus):
    """`ranges` without the ports of `minus` (both merged)."""
    out = []
    for lo, hi in ranges:
        cur = lo
        for mlo, mhi in minus:
            if mhi < cur or mlo > hi:
                continue
            if mlo > cur:
                out.append((cur, mlo - 1))
            cur = max(cur, mhi + 1)
            if cur > hi:
                break
        if cur <= hi:
            out.append((cur, hi))
    return merge(out)


def fmt_ports(ranges):
    if ranges == ALL:
        return "all"
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)


def pod_names(pods_yaml):
    names = set()
    with open(pods_yaml, encoding="utf-8") as f:
        for doc in yaml.safe_load_all(f):
            if isinstance(doc, dict) and doc.get("kind") == "Pod":
                meta = doc.get("metadata") or {}
                names.add(f"{meta.get('namespace', 'default')}/{meta['name']}")
    return names


# --- nca ---------------------------------------------------------------


def nca_protocols(value):
    """The subset of TCP/UDP/SCTP an nca protocol-set string names."""
    value = value.strip()
    if value == "*":
        return set(PROTOCOLS)
    if value == "Empty":
        return set()
    if value.startswith("all but "):
        excluded = {p.strip() for p in value[len("all but "):].split(",")}
        return set(PROTOCOLS) - excluded
    return {p.strip() for p in value.split(",")} & set(PROTOCOLS)


def nca_ports(value):
    ranges = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        lo, _, hi = part.partition("-")
        ranges.append((int(lo), int(hi or lo)))
    return merge(ranges)


def nca_cubes(text):
    """{protocol: ports} for a `{...},{...}` list of cubes."""
    allowed = {}
    for body in re.findall(r"\{([^}]*)\}", text):
        fields = {}
        for item in CUBE_KEY.split(body):
            key, _, value = item.partition(":")
            fields[key.strip()] = value
        unknown = set(fields) - {"protocols", "dst_ports", ""}
        if unknown:
            raise ValueError(f"nca cube with dimensions {sorted(unknown)}: {{{body}}}")
        protocols = nca_protocols(fields["protocols"]) if "protocols" in fields else set(PROTOCOLS)
        ports = nca_ports(fields["dst_ports"]) if "dst_ports" in fields else ALL
        for p in protocols:
            allowed[p] = merge(allowed.get(p, ()) + ports)
    return allowed


def nca_conns(text):
    text = text.strip()
    if text == "All connections":
        return {p: ALL for p in PROTOCOLS}
    if text == "No connections":
        return {}
    if text.startswith("All but "):
        minus = nca_cubes(text[len("All but "):])
        out = {p: subtract(ALL, minus.get(p, ())) for p in PROTOCOLS}
        return {p: r for p, r in out.items() if r}
    return nca_cubes(text)


def nca_endpoint(name):
    return name[: -len("[Pod]")] if name.endswith("[Pod]") else name


def from_nca(path, pods):
    facts = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = LINE.match(line.rstrip("\n"))
            if not m:
                continue
            src, dst = nca_endpoint(m.group(1)), nca_endpoint(m.group(2))
            if src not in pods or dst not in pods or src == dst:
                continue
            for proto, ports in nca_conns(m.group(3)).items():
                key = (src, dst, proto)
                facts[key] = merge(facts.get(key, ()) + ports)
    return facts


# --- palisade ----------------------------------------------------------


def from_palisade(path, pods):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    facts = {}
    for conn in doc.get("connections", []):
        src, dst = conn["from"], conn["to"]
        if src not in pods or dst not in pods or src == dst:
            continue
        for allow in conn.get("allow", []):
            proto = str(allow["protocol"]).upper()
            if proto not in PROTOCOLS:
                continue
            ports = merge(tuple(r) for r in allow["ports"]) if allow["ports"] else ALL
            key = (src, dst, proto)
            facts[key] = merge(facts.get(key, ()) + ports)
    return facts


def selftest():
    """Checks the nca parser on the shapes nca 2.1.0 prints."""
    cases = {
        "All connections": {p: ALL for p in PROTOCOLS},
        "No connections": {},
        "{protocols:TCP,dst_ports:80,8080}": {"TCP": ((80, 80), (8080, 8080))},
        "{protocols:TCP, SCTP}": {"TCP": ALL, "SCTP": ALL},
        "{protocols:UDP,dst_ports:53},{protocols:TCP,dst_ports:8000-8100,8101}": {
            "UDP": ((53, 53),),
            "TCP": ((8000, 8101),),
        },
        "{dst_ports:1-79}": {p: ((1, 79),) for p in PROTOCOLS},
        "{protocols:all but UDP, ICMP}": {"TCP": ALL, "SCTP": ALL},
        "All but {protocols:TCP,dst_ports:80}": {
            "TCP": ((1, 79), (81, 65535)),
            "UDP": ALL,
            "SCTP": ALL,
        },
        "All but {protocols:UDP, SCTP},{protocols:TCP,dst_ports:1-1000}": {"TCP": ((1001, 65535),)},
        "All but {protocols:ICMP}": {p: ALL for p in PROTOCOLS},
    }
    for text, want in cases.items():
        got = nca_conns(text)
        assert got == want, f"{text!r}: got {got}, want {want}"
    assert subtract(ALL, ((1, 65535),)) == ()
    assert fmt_ports(((80, 80), (8000, 8100))) == "80,8000-8100"
    assert merge(((8000, 8100), (80, 80), (8101, 8200))) == ((80, 80), (8000, 8200))
    print("normalise.py selftest: ok")
    return 0


def summary(nca_facts, palisade_facts):
    """One line: how two fact files differ, by (source, destination, protocol)."""

    def load(path):
        with open(path, encoding="utf-8") as f:
            return {tuple(line.split()[:3]): line.split()[3] for line in f if line.strip()}

    n, p = load(nca_facts), load(palisade_facts)
    only_n = sum(1 for k in n if k not in p)
    only_p = sum(1 for k in p if k not in n)
    other = sum(1 for k in n if k in p and n[k] != p[k])
    print(
        f"{only_n} (pod, pod, protocol) allowed only by nca, {only_p} only by palisade, "
        f"{other} allowed by both on different ports"
    )
    return 0


def main(argv):
    if argv[1:] == ["selftest"]:
        return selftest()
    if len(argv) == 4 and argv[1] == "summary":
        return summary(argv[2], argv[3])
    if len(argv) != 4 or argv[1] not in ("nca", "palisade"):
        sys.stderr.write(__doc__)
        return 2
    pods = pod_names(argv[3])
    facts = (from_nca if argv[1] == "nca" else from_palisade)(argv[2], pods)
    out = sys.stdout
    for (src, dst, proto), ports in sorted(facts.items()):
        if ports:
            out.write(f"{src} {dst} {proto} {fmt_ports(ports)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
