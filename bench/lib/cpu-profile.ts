// Summary of a V8 CPU profile (node --cpu-prof): where the operator's main thread spent its time,
// by category (idle, garbage collection, our code, each dependency, Node internals) and by
// function. Idle close to 0 means the event loop was saturated; a large idle share means the
// operator was waiting on the API server or Vault. Pure (takes the parsed JSON).

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

export interface ProfileSummary {
  durationMs: number;
  categories: Array<{ category: string; ms: number; share: number }>;
  functions: Array<{ name: string; ms: number; share: number }>;
}

export function categoryOf(frame: ProfileNode['callFrame']): string {
  const { functionName, url } = frame;
  if (functionName === '(idle)') return 'idle (waiting for I/O)';
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(program)' || functionName === '(root)') return 'V8/native (program)';
  if (url.startsWith('node:')) return 'Node.js internals';
  const nodeModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nodeModules) return `dependency ${nodeModules[1]}`;
  const ours = /\/dist\/([^/]+)\//.exec(url);
  if (ours) return `operator src/${ours[1]}`;
  return url ? 'other JavaScript' : 'native';
}

export function summarizeProfile(profile: CpuProfile, top = 12): ProfileSummary {
  const durationMs = (profile.endTime - profile.startTime) / 1000;
  const totalHits = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0) || 1;
  const msPerHit = durationMs / totalHits;
  const categories = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const category = categoryOf(node.callFrame);
    categories.set(category, (categories.get(category) ?? 0) + hits);
    const file = node.callFrame.url.replace(/^.*\/(node_modules|dist)\//, '$1/');
    const name = `${node.callFrame.functionName || '(anonymous)'} ${file}${
      file ? `:${node.callFrame.lineNumber + 1}` : ''
    }`.trim();
    functions.set(name, (functions.get(name) ?? 0) + hits);
  }
  const ranked = (map: Map<string, number>, key: 'category' | 'name') =>
    [...map].sort((a, b) => b[1] - a[1]).map(([label, hits]) => ({ [key]: label, ms: hits * msPerHit,
      share: hits / totalHits })
    );
  return {
    durationMs,
    categories: ranked(categories, 'category') as ProfileSummary['categories'],
    functions: (ranked(functions, 'name') as ProfileSummary['functions']).filter((f) => !f.name.startsWith('(idle)'))
      .slice(0, top),
  };
}

export function formatProfile(summary: ProfileSummary): string {
  const pct = (share: number) => `${(share * 100).toFixed(1).padStart(5)} %`;
  const lines = [`operator main thread over ${(summary.durationMs / 1000).toFixed(1)} s:`];
  for (const c of summary.categories.slice(0, 10)) lines.push(`  ${pct(c.share)}  ${c.category}`);
  lines.push('  top functions by self time:');
  for (const f of summary.functions) lines.push(`  ${pct(f.share)}  ${f.name}`);
  return lines.join('\n');
}
