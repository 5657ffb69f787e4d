// Calls to the dashboard's own server (same origin: nothing else is fetched).
import type { ClusterView, Explanation, FlowRecord, GraphView, PodDetails } from "./types";

async function get<T>(path: string, params: Record<string, string> = {}): Promise<T> {
  const q = new URLSearchParams(params).toString();
  const res = await fetch(q ? `${path}?${q}` : path, { cache: "no-store" });
  const body = await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }));
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${res.statusText}`);
  return body as T;
}

export const fetchCluster = () => get<ClusterView>("/api/cluster");
export const fetchGraph = (namespace: string) =>
  get<GraphView>("/api/graph", namespace ? { namespace } : {});
export const fetchPod = (namespace: string, name: string) =>
  get<PodDetails>("/api/pod", { namespace, name });
export const fetchExplain = (p: { from: string; to: string; port: string; protocol: string }) =>
  get<Explanation>("/api/explain", p);
export const fetchFlows = (limit = 200) =>
  get<{ flows: FlowRecord[] }>("/flows", { limit: String(limit) }).then((r) => r.flows);
