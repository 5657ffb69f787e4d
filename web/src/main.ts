// The palisade dashboard page: lists, graph, live denied flows, pod details
// and explanations. All data comes from this page's own server.

import "./style.css";
import { fetchCluster, fetchExplain, fetchGraph, fetchPod } from "./api";
import { byId, el, labelText } from "./dom";
import { Flows, flowRows } from "./flows";
import { drawGraph } from "./graph";
import { endName, type ClusterView, type FlowRecord, type GraphView, type PolicyView } from "./types";

const POLL_MS = 2000;
const FLASH_MS = 4000;

const state = {
  cluster: null as ClusterView | null,
  graph: null as GraphView | null,
  graphNs: "", // the namespace `graph` was fetched for
  namespace: "",
  selected: null as string | null,
  fresh: new Map<string, number>(), // `src>dst` -> until (ms)
};

const flows = new Flows(onFlows, (live) => setStatus(live ? "live" : "reconnecting…", live));

function setStatus(text: string, ok: boolean) {
  const s = byId("status");
  s.textContent = text;
  s.className = `status ${ok ? "ok" : "bad"}`;
}

async function poll() {
  try {
    const cluster = await fetchCluster();
    if (cluster.version !== state.cluster?.version) {
      state.cluster = cluster;
      await loadGraph();
      renderCluster();
      if (state.selected) void showPod(state.selected);
    }
  } catch (e) {
    byId("graph-note").textContent = `cannot load the cluster: ${(e as Error).message}`;
  }
  setTimeout(poll, POLL_MS);
}

async function loadGraph() {
  const ns = state.namespace;
  const graph = await fetchGraph(ns);
  if (ns === state.namespace) { state.graph = graph; state.graphNs = ns; }
}

function renderCluster() {
  const c = state.cluster!;
  const filter = byId<HTMLSelectElement>("ns-filter");
  filter.replaceChildren(el("option", { value: "" }, "all namespaces"),
    ...c.namespaces.map((n) => el("option", { value: n.name }, n.name)));
  filter.value = state.namespace;
  const inNs = (ns: string) => !state.namespace || ns === state.namespace;
  byId("namespaces").replaceChildren(...c.namespaces.filter((n) => inNs(n.name)).map((n) =>
    el("li", {}, el("b", {}, n.name), el("div", { class: "muted" }, labelText(n.labels)))));
  byId("pods").replaceChildren(...c.pods.filter((p) => inNs(p.namespace)).map((p) => {
    const id = `${p.namespace}/${p.name}`;
    const li = el("li", { class: `clickable${id === state.selected ? " selected" : ""}`, "data-pod": id },
      el("b", {}, id), p.kind !== "Pod" ? ` (${p.kind})` : "",
      el("div", {}, p.ips.join(", ") || "no address"),
      el("div", { class: "muted" }, labelText(p.labels)));
    li.addEventListener("click", () => void showPod(id));
    return li;
  }));
  byId("policies").replaceChildren(...c.policies.filter((p) => inNs(p.namespace)).map(policyItem));
  byId("endpoints").replaceChildren(...c.pods.map((p) => el("option", { value: `${p.namespace}/${p.name}` })));
  renderGraph();
  renderFlows();
}

function policyItem(p: PolicyView): HTMLElement {
  const rules = (dir: "ingress" | "egress", list: PolicyView["ingress"]) => {
    if (!p.policy_types.includes(dir === "ingress" ? "Ingress" : "Egress")) return null;
    if (!list.length) return el("div", {}, `${dir}: nothing allowed`);
    return el("div", {}, `${dir}:`, el("ul", {}, ...list.map((r, i) =>
      el("li", {}, `rule ${i}: from/to ${r.peers.join(" OR ") || "every peer"}; ports ${r.ports.join(", ") || "every port"}`))));
  };
  return el("li", { "data-policy": `${p.namespace}/${p.name}` },
    el("b", {}, `${p.namespace}/${p.name}`),
    el("div", { class: "muted" }, `selects ${p.pod_selector}`),
    rules("ingress", p.ingress), rules("egress", p.egress));
}

function renderGraph() {
  if (!state.graph) return;
  const now = Date.now();
  for (const [k, until] of state.fresh) if (until < now) state.fresh.delete(k);
  const note = drawGraph(byId("graph") as unknown as SVGSVGElement, state.graph, {
    namespace: state.namespace, selected: state.selected, flows: flows.records, fresh: new Set(state.fresh.keys()),
  }, {
    onPod: (id) => void showPod(id),
    onEdge: (from, to, port, protocol) => void explain({ from, to, port, protocol }),
  });
  byId("graph-note").textContent = note;
}

function renderFlows() {
  const rows = flowRows(flows.records, state.namespace, pickFlow);
  byId("flows").querySelector("tbody")!.replaceChildren(...rows);
  byId("flow-count").textContent = `${rows.length} shown`;
}

function onFlows(fresh: FlowRecord[]) {
  const until = Date.now() + FLASH_MS;
  for (const r of fresh) state.fresh.set(`${endName(r.src)}>${endName(r.dst)}`, until);
  renderGraph();
  renderFlows();
  setTimeout(renderGraph, FLASH_MS + 50);
}

function pickFlow(r: FlowRecord) {
  const port = r.dst.port ? String(r.dst.port) : "";
  const protocol = r.protocol === "ICMP" ? "TCP" : r.protocol;
  void explain({ from: endName(r.src), to: endName(r.dst), port, protocol });
}

async function showPod(id: string) {
  state.selected = id;
  const [ns, name] = id.split("/");
  const box = byId("pod-details");
  try {
    const d = await fetchPod(ns, name);
    const policies = (dir: string, list: string[]) => el("div", {},
      el("b", {}, `${dir}: `),
      list.length ? list.join(", ") : `not isolated (no policy selects it for ${dir}: all ${dir} allowed)`);
    box.className = "";
    box.replaceChildren(
      el("div", {}, el("b", {}, id), ` ${d.pod.kind}`),
      el("div", {}, `addresses: ${d.pod.ips.join(", ") || "none"}`),
      el("div", {}, `labels: ${labelText(d.pod.labels) || "none"}`),
      el("div", {}, `ports: ${d.pod.ports.map((p) => `${p.name ? `${p.name}:` : ""}${p.port}/${p.protocol}`).join(", ") || "none declared"}`),
      el("h3", {}, "Selected by"),
      policies("ingress", d.ingress), policies("egress", d.egress));
    const form = byId<HTMLFormElement>("explain-form");
    const to = form.elements.namedItem("to") as HTMLInputElement;
    if (!to.value) to.value = id;
  } catch (e) {
    box.textContent = (e as Error).message;
  }
  if (state.cluster) renderCluster();
}

async function explain(p: { from: string; to: string; port: string; protocol: string }) {
  const form = byId<HTMLFormElement>("explain-form");
  for (const [k, v] of Object.entries(p)) (form.elements.namedItem(k) as HTMLInputElement).value = v;
  const out = byId("explanation");
  try {
    const e = await fetchExplain(p);
    out.textContent = e.text;
    out.className = `explanation ${e.allowed ? "allowed" : "denied"}`;
  } catch (err) {
    out.textContent = (err as Error).message;
    out.className = "explanation error";
  }
}

byId<HTMLFormElement>("explain-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target as HTMLFormElement);
  void explain({ from: String(f.get("from")), to: String(f.get("to")), port: String(f.get("port")), protocol: String(f.get("protocol")) });
});

byId<HTMLSelectElement>("ns-filter").addEventListener("change", (ev) => {
  state.namespace = (ev.target as HTMLSelectElement).value;
  if (!state.cluster) return;
  renderCluster();
  loadGraph().then(renderGraph).catch((e) => { byId("graph-note").textContent = (e as Error).message; });
});

flows.start();
void poll();
