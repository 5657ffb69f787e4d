// The connectivity graph as SVG: one column per namespace (pods in name
// order), one column for addresses outside the cluster; allowed connections
// as grey arrows with their ports, denied flows as red arrows.
// The layout is deterministic: the same cluster always draws the same way.

import { svg } from "./dom";
import { endName, type EdgeView, type FlowRecord, type GraphView } from "./types";

/// The node standing for every address outside the cluster's pods.
const OUTSIDE = "outside";

const COL_W = 360, ROW_H = 64, NODE_W = 170, NODE_H = 30, TOP = 44, LEFT = 16;
/// Room left of each column for arcs between pods of the same namespace.
const GUTTER = 110;
const MAX_EXTERNAL = 24;
/// More pods than this are not drawn at once: pick a namespace.
const MAX_DRAWN = 400;

export interface GraphHandlers {
  onPod(id: string): void;
  onEdge(from: string, to: string, port: string, protocol: string): void;
}

interface Placed { id: string; label: string; x: number; y: number; pod: boolean }

export interface DrawOptions {
  namespace: string; // "" for all
  selected: string | null;
  flows: FlowRecord[];
  fresh: Set<string>; // `src>dst` of flows that just arrived
}

/// Draws `g` into `root`; returns a note for people (what was left out).
export function drawGraph(root: SVGSVGElement, g: GraphView, o: DrawOptions, h: GraphHandlers): string {
  root.replaceChildren(defs());
  const inNs = (id: string) => !o.namespace || id.startsWith(`${o.namespace}/`);
  // A namespace's pods, and the pods of other namespaces they connect with.
  const linked = new Set<string>();
  for (const e of g.edges) if (inNs(e.from) || inNs(e.to)) { linked.add(e.from); linked.add(e.to); }
  const pods = g.nodes.filter((n) => inNs(n.id) || linked.has(n.id));
  if (pods.length > MAX_DRAWN) {
    root.setAttribute("width", "10");
    root.setAttribute("height", "10");
    return `${pods.length} pods: pick a namespace above to draw its graph`;
  }
  const podIds = new Set(pods.map((n) => n.id));
  const edges = g.edges.filter((e) => inNs(e.from) || inNs(e.to));
  // Every endpoint's traffic with the outside goes to one "outside" node.
  const external: (EdgeView & { sample?: string })[] = g.external.filter((e) => inNs(e.endpoint)).map((e) => ({
    from: e.direction === "Egress" ? e.endpoint : OUTSIDE,
    to: e.direction === "Egress" ? OUTSIDE : e.endpoint,
    allow: e.allow,
    sample: e.cidrs[0]?.split("/")[0],
    text: `${e.text} (${e.cidrs.length === 1 ? e.cidrs[0] : `${e.cidrs.length} CIDRs: ${e.cidrs.join(" ")}`})`,
  }));
  const denied = deniedPairs(o.flows, (id) => podIds.has(id));

  const columns = new Map<string, Placed[]>();
  if (o.namespace) columns.set(o.namespace, []); // the chosen namespace first
  for (const n of pods) push(columns, n.namespace, { id: n.id, label: n.name, x: 0, y: 0, pod: true });
  const outside = new Set<string>();
  if (external.length) outside.add(OUTSIDE);
  for (const d of denied.values()) for (const id of [d.from, d.to]) if (!podIds.has(id)) outside.add(id);
  const outsideList = [...outside].sort((a, b) => (a === OUTSIDE ? -1 : b === OUTSIDE ? 1 : a.localeCompare(b))).slice(0, MAX_EXTERNAL);
  for (const id of outsideList) push(columns, "outside the cluster", { id, label: id, x: 0, y: 0, pod: false });

  const at = new Map<string, Placed>();
  let col = 0, rows = 0;
  for (const [name, nodes] of columns) {
    const x = LEFT + col * COL_W;
    root.append(svg("text", { x, y: 20, class: "ns-title" }, name));
    nodes.forEach((n, i) => { n.x = x + GUTTER; n.y = TOP + i * ROW_H; at.set(n.id, n); });
    rows = Math.max(rows, nodes.length);
    col++;
  }
  root.setAttribute("width", String(Math.max(1, col) * COL_W + LEFT));
  root.setAttribute("height", String(TOP + Math.max(1, rows) * ROW_H + 10));

  const layer = svg("g", { class: "edges" });
  root.append(layer);
  const label = edges.length + external.length <= 40;
  for (const e of [...edges, ...external] as (EdgeView & { sample?: string })[]) {
    const a = at.get(e.from), b = at.get(e.to);
    if (!a || !b) continue;
    const first = e.allow[0];
    const port = first && first.ports.length ? String(first.ports[0][0]) : "80";
    // Ports of edges to the outside are in their tooltip only (CIDR lists are long).
    const shown = label && a.pod && b.pod ? e.text : "";
    const path = arrow(a, b, "allowed", e.text, shown, 1);
    // Explaining an edge to the outside uses the first address of its first CIDR.
    const [from, to] = [e.from, e.to].map((id) => (id === OUTSIDE ? e.sample ?? id : id));
    path.addEventListener("click", () => h.onEdge(from, to, port, first?.protocol ?? "TCP"));
    layer.append(path);
  }
  for (const d of denied.values()) {
    const a = at.get(d.from), b = at.get(d.to);
    if (!a || !b) continue;
    const text = `${d.last.mode === "audit" ? "would be denied (audit)" : "denied"} ×${d.count}: ${d.last.protocol} ${d.last.dst.port ?? ""} by ${d.last.policies.join(", ")}`;
    const mode = d.last.mode === "audit" ? " audit" : "";
    const cls = (o.fresh.has(`${d.from}>${d.to}`) ? "denied flash" : "denied") + mode;
    const path = arrow(a, b, cls, text, `✕ ${d.count}`, 2.2);
    path.setAttribute("data-from", d.from);
    path.setAttribute("data-to", d.to);
    path.addEventListener("click", () =>
      h.onEdge(d.from, d.to, String(d.last.dst.port ?? ""), d.last.protocol === "ICMP" ? "TCP" : d.last.protocol));
    layer.append(path);
  }
  for (const n of at.values()) root.append(node(n, n.id === o.selected, h));

  const notes: string[] = [];
  if (!pods.length) notes.push("no pods");
  if (g.omitted) notes.push(`${g.omitted} more connections not listed (the graph is capped)`);
  if (outside.size > outsideList.length) notes.push(`${outside.size - outsideList.length} outside addresses not drawn`);
  return notes.join("; ");
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V) {
  const list = m.get(k);
  if (list) list.push(v); else m.set(k, [v]);
}

interface Denied { from: string; to: string; count: number; last: FlowRecord }

/// Denied flows per (source, destination), pods by `ns/name`, others by address.
function deniedPairs(flows: FlowRecord[], isShownPod: (id: string) => boolean): Map<string, Denied> {
  const m = new Map<string, Denied>();
  for (const r of flows) {
    const from = endName(r.src), to = endName(r.dst);
    if (!isShownPod(from) && !isShownPod(to)) continue;
    const key = `${from}>${to}`;
    const d = m.get(key);
    if (d) { d.count++; d.last = r; } else m.set(key, { from, to, count: 1, last: r });
  }
  return m;
}

function node(n: Placed, selected: boolean, h: GraphHandlers): SVGElement {
  const cls = `node ${n.pod ? "pod" : "external"}${selected ? " selected" : ""}`;
  const g = svg("g", { class: cls, transform: `translate(${n.x},${n.y})`, "data-id": n.id },
    svg("title", {}, n.id),
    svg("rect", { width: NODE_W, height: NODE_H, rx: 6 }),
    svg("text", { x: 10, y: 20 }, n.label.length > 22 ? `${n.label.slice(0, 21)}…` : n.label));
  if (n.pod) g.addEventListener("click", () => h.onPod(n.id));
  return g;
}

/// A curved arrow from `a` to `b`: out of the side facing `b`; nodes in the
/// same column get an arc bulging left, downward arcs wider than upward ones
/// so that a->b and b->a do not overlap.
function arrow(a: Placed, b: Placed, cls: string, title: string, text: string, spread: number): SVGElement {
  const same = a.x === b.x, right = b.x > a.x;
  const x1 = same ? a.x : a.x + (right ? NODE_W : 0), y1 = a.y + NODE_H / 2;
  const x2 = same ? b.x : b.x + (right ? 0 : NODE_W), y2 = b.y + NODE_H / 2;
  const dx = x2 - x1, dy = y2 - y1, len = Math.hypot(dx, dy) || 1;
  let cx: number, cy: number;
  if (same) {
    cx = x1 - Math.min(GUTTER, 20 + Math.abs(dy) * 0.2) * (dy > 0 ? 1.5 : 1) * spread;
    cy = (y1 + y2) / 2;
  } else {
    const bend = len * 0.08 * spread;
    cx = (x1 + x2) / 2 - (dy / len) * bend;
    cy = (y1 + y2) / 2 + (dx / len) * bend;
  }
  const g = svg("g", { class: `edge ${cls}` },
    svg("title", {}, `${a.id} → ${b.id}: ${title}`),
    svg("path", { d: `M${x1},${y1} Q${cx},${cy} ${x2},${y2}`, "marker-end": `url(#${cls.startsWith("denied") ? "red" : "grey"})` }));
  const mx = (x1 + 2 * cx + x2) / 4, my = (y1 + 2 * cy + y2) / 4;
  const attrs = same
    ? { x: mx + 6, y: my + (dy > 0 ? -2 : 12), "text-anchor": "start", class: "edge-label" }
    : { x: mx, y: my - 4, "text-anchor": "middle", class: "edge-label" };
  if (text) g.append(svg("text", attrs, text));
  return g;
}

function defs(): SVGElement {
  const marker = (id: string) => svg("marker", {
    id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto",
  }, svg("path", { d: "M0,0 L10,5 L0,10 z", class: `arrow-${id}` }));
  return svg("defs", {}, marker("grey"), marker("red"));
}
