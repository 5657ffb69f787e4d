// Denied flows: the initial list from /flows, then live records from the
// /flows/stream server-sent events, de-duplicated, newest first in the table.

import { fetchFlows } from "./api";
import { el } from "./dom";
import { endName, flowKey, type FlowRecord } from "./types";

const KEEP = 500;

export class Flows {
  records: FlowRecord[] = [];
  private keys = new Set<string>();

  constructor(private onChange: (fresh: FlowRecord[]) => void, private onStatus: (live: boolean) => void) {}

  /// Loads the list each time the stream (re)connects, so that nothing
  /// falls between the list and the stream, nor into a disconnection.
  start() {
    const source = new EventSource("/flows/stream");
    source.addEventListener("open", () => {
      this.onStatus(true);
      fetchFlows().then((list) => this.add(list)).catch(() => this.onStatus(false));
    });
    source.addEventListener("error", () => this.onStatus(false));
    source.addEventListener("flow", (ev) => this.add([JSON.parse((ev as MessageEvent).data)]));
  }

  private add(list: FlowRecord[]) {
    const fresh = list.filter((r) => !this.keys.has(flowKey(r)));
    if (!fresh.length) return;
    for (const r of fresh) { this.keys.add(flowKey(r)); this.records.push(r); }
    this.records.sort((a, b) => a.time.localeCompare(b.time));
    while (this.records.length > KEEP) this.keys.delete(flowKey(this.records.shift()!));
    this.onChange(fresh);
  }
}

/// The table rows, newest first, for the namespace filter ("" = all).
export function flowRows(records: FlowRecord[], namespace: string, onPick: (r: FlowRecord) => void): HTMLElement[] {
  const shown = records.filter((r) => !namespace || r.src.namespace === namespace || r.dst.namespace === namespace);
  return shown.slice().reverse().map((r) => {
    const end = (e: FlowRecord["src"]) => `${endName(e)}${e.port ? `:${e.port}` : ""}`;
    const row = el("tr", { class: `flow ${r.mode}`, "data-dst": endName(r.dst), "data-src": endName(r.src) },
      el("td", {}, r.time.replace("T", " ").replace("Z", "")),
      el("td", {}, r.mode),
      el("td", {}, end(r.src)),
      el("td", {}, end(r.dst)),
      el("td", {}, `${r.protocol}${r.dst.port ? ` ${r.dst.port}` : ""}`),
      el("td", { class: "policies" }, `${r.direction} of ${r.direction === "egress" ? endName(r.src) : endName(r.dst)}: ${r.policies.join(", ") || "(no policy named)"}`));
    row.addEventListener("click", () => onPick(r));
    return row;
  });
}
