// The JSON shapes of the dashboard API (crates/dashboard/src/api.rs, flow.rs).

export type Labels = Record<string, string>;

export interface ContainerPort { name: string | null; port: number; protocol: string }

export interface PodView {
  namespace: string; name: string; kind: string; labels: Labels;
  ips: string[]; host_network: boolean; ports: ContainerPort[];
}

export interface RuleView { peers: string[]; ports: string[] }

export interface PolicyView {
  namespace: string; name: string; pod_selector: string;
  policy_types: ("Ingress" | "Egress")[]; ingress: RuleView[]; egress: RuleView[];
}

export interface ClusterView {
  version: number;
  namespaces: { name: string; labels: Labels }[];
  pods: PodView[];
  policies: PolicyView[];
}

export interface Allow { protocol: string; ports: [number, number][] }
export interface NodeView { id: string; namespace: string; name: string; kind: string }
export interface EdgeView { from: string; to: string; allow: Allow[]; text: string }
export interface ExternalView {
  endpoint: string; direction: "Ingress" | "Egress"; cidrs: string[]; allow: Allow[]; text: string;
}
export interface GraphView {
  version: number; nodes: NodeView[]; edges: EdgeView[]; external: ExternalView[]; omitted: number;
}

export interface PodDetails { pod: PodView; ingress: string[]; egress: string[] }

export interface Explanation { allowed: boolean; text: string }

export interface FlowEnd { namespace?: string | null; pod?: string | null; ip: string; port?: number | null }
export interface FlowRecord {
  time: string; mode: "deny" | "audit"; direction: "egress" | "ingress";
  protocol: "TCP" | "UDP" | "SCTP" | "ICMP"; src: FlowEnd; dst: FlowEnd; policies: string[];
}

/// `ns/pod` of a pod end, or its address.
export function endName(e: FlowEnd): string {
  return e.namespace && e.pod ? `${e.namespace}/${e.pod}` : e.ip;
}

/// A key identifying one record (the stream and the initial list may overlap).
export function flowKey(r: FlowRecord): string {
  return [r.time, r.direction, r.protocol, endName(r.src), r.src.port, endName(r.dst), r.dst.port].join("|");
}
