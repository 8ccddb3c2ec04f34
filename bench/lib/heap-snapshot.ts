// Summary of a V8 heap snapshot (node --heapsnapshot-signal): where the operator's JS heap goes, by
// constructor (self size, and retained size: what would be freed with it) and by retainer path
// (self size summed over the last hops of each object's shortest path from the GC roots), plus the
// largest single retainers with their path. Retained sizes come from the dominator tree (weak edges
// do not retain), computed with the iterative algorithm of Cooper, Harvey and Kennedy. Pure.

interface RawSnapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[];
      edge_types: [string[], ...unknown[]] };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface HeapSummary {
  totalBytes: number;
  objects: number;
  byConstructor: Array<{ name: string; count: number; selfBytes: number; retainedBytes: number }>;
  byRetainerPath: Array<{ path: string; count: number; selfBytes: number }>;
  retainers: Array<{ name: string; retainedBytes: number; path: string }>;
}

const PATH_HOPS = 4;

export function summarizeHeapSnapshot(raw: RawSnapshot, top = 15): HeapSummary {
  const g = graph(raw);
  const order = postOrder(g);
  const idom = dominators(g, order);
  const retained = Float64Array.from(g.selfSize);
  for (let i = 0; i < order.length - 1; i++) {
    const node = order[i] as number;
    if (idom[node] !== node) {
      retained[idom[node] as number] = (retained[idom[node] as number] as number) + (retained[node] as number);
    }
  }
  const parent = shortestParents(g);
  const classIds = new Map<string, number>();
  const classOf = new Int32Array(g.count);
  for (let node = 0; node < g.count; node++) {
    const name = g.className(node);
    let id = classIds.get(name);
    if (id === undefined) classIds.set(name, id = classIds.size);
    classOf[node] = id;
  }

  const byConstructor = new Map<string, { count: number; selfBytes: number; retainedBytes: number }>();
  const byPath = new Map<string, { count: number; selfBytes: number }>();
  let totalBytes = 0;
  let objects = 0;
  for (let node = 1; node < g.count; node++) {
    if (parent.node[node] === -1) continue; // unreachable: garbage V8 had not collected yet
    const size = g.selfSize[node] as number;
    totalBytes += size;
    objects++;
    const name = g.className(node);
    const entry = byConstructor.get(name) ?? { count: 0, selfBytes: 0, retainedBytes: 0 };
    entry.count++;
    entry.selfBytes += size;
    // Retained by a class: its instances not dominated by another instance of it (no double count).
    if (!hasDominatingSameClass(classOf, idom, node)) entry.retainedBytes += retained[node] as number;
    byConstructor.set(name, entry);
    const path = retainerPath(g, parent, node, PATH_HOPS);
    const pathEntry = byPath.get(path) ?? { count: 0, selfBytes: 0 };
    pathEntry.count++;
    pathEntry.selfBytes += size;
    byPath.set(path, pathEntry);
  }
  const retainers: HeapSummary['retainers'] = [];
  const candidates = [...Array(g.count).keys()].filter((n) => n > 0 && parent.node[n] !== -1 && !g.isSynthetic(n));
  candidates.sort((a, b) => (retained[b] as number) - (retained[a] as number));
  for (const node of candidates.slice(0, top)) {
    retainers.push({ name: g.className(node), retainedBytes: retained[node] as number,
      path: retainerPath(g, parent, node, 8) });
  }
  return {
    totalBytes,
    objects,
    byConstructor: [...byConstructor].map(([name, e]) => ({ name, ...e })).sort((a, b) =>
      b.retainedBytes - a.retainedBytes
    ).slice(0, top),
    byRetainerPath: [...byPath].map(([path, e]) => ({ path, ...e })).sort((a, b) => b.selfBytes - a.selfBytes).slice(0,
      top),
    retainers,
  };
}

export function formatHeapSummary(s: HeapSummary): string {
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
  return [
    `reachable JS heap ${mib(s.totalBytes)} in ${s.objects} objects`,
    '  by constructor (retained / self / count):',
    ...s.byConstructor.map((e) =>
      `    ${mib(e.retainedBytes).padStart(11)} ${mib(e.selfBytes).padStart(11)} ${
        String(e.count).padStart(8)
      }  ${e.name}`
    ),
    `  by retainer path (self / count; last ${PATH_HOPS} hops from the GC roots):`,
    ...s.byRetainerPath.map((e) => `    ${mib(e.selfBytes).padStart(11)} ${String(e.count).padStart(8)}  ${e.path}`),
    '  largest retainers (retained; path from the GC roots):',
    ...s.retainers.map((e) => `    ${mib(e.retainedBytes).padStart(11)}  ${e.name} <- ${e.path}`),
  ].join('\n');
}

interface Graph {
  count: number;
  selfSize: Float64Array;
  firstEdge: Uint32Array;
  edgeTarget: Uint32Array;
  edgeName: string[];
  edgeWeak: Uint8Array;
  className(node: number): string;
  isSynthetic(node: number): boolean;
}

function graph(raw: RawSnapshot): Graph {
  const meta = raw.snapshot.meta;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const [typeAt, nameAt, sizeAt, edgesAt] = ['type', 'name', 'self_size', 'edge_count'].map((f) =>
    meta.node_fields.indexOf(f)
  ) as [number, number, number, number];
  const [eTypeAt, eNameAt, eToAt] = ['type', 'name_or_index', 'to_node'].map((f) => meta.edge_fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const count = raw.nodes.length / nf;
  const selfSize = new Float64Array(count);
  const firstEdge = new Uint32Array(count + 1);
  const edgeCount = raw.edges.length / ef;
  const edgeTarget = new Uint32Array(edgeCount);
  const edgeWeak = new Uint8Array(edgeCount);
  const edgeName: string[] = new Array(edgeCount);
  let e = 0;
  for (let n = 0; n < count; n++) {
    selfSize[n] = raw.nodes[n * nf + sizeAt] as number;
    firstEdge[n] = e;
    const edges = raw.nodes[n * nf + edgesAt] as number;
    for (let i = 0; i < edges; i++, e++) {
      const type = edgeTypes[raw.edges[e * ef + eTypeAt] as number];
      const nameOrIndex = raw.edges[e * ef + eNameAt] as number;
      edgeTarget[e] = (raw.edges[e * ef + eToAt] as number) / nf;
      // Weak edges do not retain; shortcut edges duplicate a path that exists anyway.
      edgeWeak[e] = type === 'weak' || type === 'shortcut' ? 1 : 0;
      // Element indices would make every array slot a path of its own.
      edgeName[e] = type === 'element' || type === 'hidden' ? '[]' : (raw.strings[nameOrIndex] ?? '?');
    }
  }
  firstEdge[count] = e;
  const typeOf = (node: number) => nodeTypes[raw.nodes[node * nf + typeAt] as number] ?? '?';
  return {
    count,
    selfSize,
    firstEdge,
    edgeTarget,
    edgeName,
    edgeWeak,
    className(node) {
      const type = typeOf(node);
      const name = raw.strings[raw.nodes[node * nf + nameAt] as number] ?? '?';
      if (type === 'object' || type === 'native') return name.length > 60 ? `${name.slice(0, 60)}...` : name;
      if (type === 'closure') return `closure ${name || '(anonymous)'}`;
      return `(${type})`;
    },
    isSynthetic: (node) => typeOf(node) === 'synthetic',
  };
}

function postOrder(g: Graph): Uint32Array {
  const order = new Uint32Array(g.count);
  const visited = new Uint8Array(g.count);
  const stackNode = new Uint32Array(g.count);
  const stackEdge = new Uint32Array(g.count);
  let size = 0;
  let filled = 0;
  stackNode[0] = 0;
  stackEdge[0] = g.firstEdge[0] as number;
  visited[0] = 1;
  size = 1;
  while (size > 0) {
    const node = stackNode[size - 1] as number;
    const edge = stackEdge[size - 1] as number;
    if (edge < (g.firstEdge[node + 1] as number)) {
      stackEdge[size - 1] = edge + 1;
      const to = g.edgeTarget[edge] as number;
      if (g.edgeWeak[edge] || visited[to]) continue;
      visited[to] = 1;
      stackNode[size] = to;
      stackEdge[size] = g.firstEdge[to] as number;
      size++;
    } else {
      order[filled++] = node;
      size--;
    }
  }
  return order.subarray(0, filled); // the root last
}

function dominators(g: Graph, order: Uint32Array): Int32Array {
  const index = new Int32Array(g.count).fill(-1);
  order.forEach((node, i) => {
    index[node] = i;
  });
  // Predecessors (reachable ones, strong edges), in CSR form.
  const predCount = new Uint32Array(g.count + 1);
  for (let n = 0; n < g.count; n++) {
    if (index[n] === -1) continue;
    for (let e = g.firstEdge[n] as number; e < (g.firstEdge[n + 1] as number); e++) {
      const slot = (g.edgeTarget[e] as number) + 1;
      if (!g.edgeWeak[e]) predCount[slot] = (predCount[slot] as number) + 1;
    }
  }
  for (let n = 0; n < g.count; n++) predCount[n + 1] = (predCount[n + 1] as number) + (predCount[n] as number);
  const preds = new Uint32Array(predCount[g.count] as number);
  const fill = predCount.slice(0, g.count);
  for (let n = 0; n < g.count; n++) {
    if (index[n] === -1) continue;
    for (let e = g.firstEdge[n] as number; e < (g.firstEdge[n + 1] as number); e++) {
      if (g.edgeWeak[e]) continue;
      const to = g.edgeTarget[e] as number;
      preds[fill[to] as number] = n;
      fill[to] = (fill[to] as number) + 1;
    }
  }
  const idom = new Int32Array(g.count).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while ((index[a] as number) < (index[b] as number)) a = idom[a] as number;
      while ((index[b] as number) < (index[a] as number)) b = idom[b] as number;
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let i = order.length - 2; i >= 0; i--) {
      const node = order[i] as number;
      let dom = -1;
      for (let p = predCount[node] as number; p < (predCount[node + 1] as number); p++) {
        const pred = preds[p] as number;
        if (idom[pred] === -1) continue;
        dom = dom === -1 ? pred : intersect(pred, dom);
      }
      if (dom !== -1 && idom[node] !== dom) {
        idom[node] = dom;
        changed = true;
      }
    }
  }
  return idom;
}

/** For every node, the node and edge it is first reached by in a breadth-first walk from the root. */
function shortestParents(g: Graph): { node: Int32Array; edge: Int32Array } {
  const node = new Int32Array(g.count).fill(-1);
  const edge = new Int32Array(g.count).fill(-1);
  const queue = new Uint32Array(g.count);
  let head = 0;
  let tail = 0;
  queue[tail++] = 0;
  node[0] = 0;
  while (head < tail) {
    const from = queue[head++] as number;
    for (let e = g.firstEdge[from] as number; e < (g.firstEdge[from + 1] as number); e++) {
      const to = g.edgeTarget[e] as number;
      if (g.edgeWeak[e] || node[to] !== -1) continue;
      node[to] = from;
      edge[to] = e;
      queue[tail++] = to;
    }
  }
  return { node, edge };
}

function retainerPath(g: Graph, parent: { node: Int32Array; edge: Int32Array }, node: number, hops: number): string {
  const parts: string[] = [];
  let current = node;
  for (let i = 0; i < hops && current !== 0; i++) {
    const from = parent.node[current] as number;
    parts.push(`${from === 0 ? '(root)' : g.className(from)}.${g.edgeName[parent.edge[current] as number]}`);
    current = from;
  }
  return parts.reverse().join(' > ');
}

function hasDominatingSameClass(classOf: Int32Array, idom: Int32Array, node: number): boolean {
  for (let d = idom[node] as number, depth = 0; d > 0 && depth < 50; d = idom[d] as number, depth++) {
    if (classOf[d] === classOf[node]) return true;
  }
  return false;
}
