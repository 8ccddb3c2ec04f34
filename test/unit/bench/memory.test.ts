// Unit tests of the benchmark's memory analysis: RSS by kind of mapping (/proc smaps) and the heap
// snapshot summary (retained sizes from the dominator tree, retainer paths).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { summarizeHeapSnapshot } from '../../../bench/lib/heap-snapshot.ts';
import { parseSmaps } from '../../../bench/lib/procstat.ts';

describe('parseSmaps', () => {
  it('splits RSS into the malloc heap, anonymous mappings and files', () => {
    const text = [
      '00400000-00401000 r-xp 00000000 fd:01 123   /usr/bin/node',
      'Size:                  8 kB',
      'Rss:                   4 kB',
      '24d4a000-2ece3000 rw-p 00000000 00:00 0                                  [heap]',
      'Rss:                 100 kB',
      '7f2b2e7ff000-7f2b30000000 rw-p 00000000 00:00 0 ',
      'Rss:                  10 kB',
      '7f2b3e7ff000-7f2b40000000 rw-p 00000000 00:00 0 ',
      'Rss:                  20 kB',
    ].join('\n');
    assert.deepEqual(parseSmaps(text), { mallocBytes: 100 * 1024, anonymousBytes: 30 * 1024, fileBytes: 4 * 1024 });
  });
});

describe('summarizeHeapSnapshot', () => {
  // root(0) -> Cache(1) -> Map(2) -> A(3), B(4); root -> Other(5) -> B(4); root -weak-> Big(6)
  const strings = ['', 'Cache', 'Map', 'Entry', 'Other', 'Big', 'items', 'b', 'ref'];
  const object = 3;
  const node = (type: number, name: number, size: number, edges: number) => [type, name, 0, size, edges];
  const snapshot = {
    snapshot: {
      meta: {
        node_fields: ['type', 'name', 'id', 'self_size', 'edge_count'],
        node_types: [['hidden', 'array', 'string', 'object', 'synthetic']] as [string[]],
        edge_fields: ['type', 'name_or_index', 'to_node'],
        edge_types: [['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak']] as [string[]],
      },
    },
    nodes: [
      ...node(4, 0, 0, 3), ...node(object, 1, 10, 1), ...node(object, 2, 20, 2), ...node(object, 3, 100, 0),
      ...node(object, 3, 200, 0), ...node(object, 4, 5, 1), ...node(object, 5, 1000, 0),
    ],
    edges: [
      2, 1, 5, 2, 4, 25, 6, 5, 30, // root: Cache, Other, weak Big
      2, 6, 10, // Cache.items -> Map
      1, 0, 15, 1, 1, 20, // Map[0] -> A, Map[1] -> B
      2, 8, 20, // Other.ref -> B
    ],
    strings,
  };

  it('computes retained sizes over strong edges only, and names retainer paths', () => {
    const summary = summarizeHeapSnapshot(snapshot);
    const byName = new Map(summary.byConstructor.map((e) => [e.name, e]));
    // B is reachable from Cache and from Other: only the root dominates it, so Cache retains A alone.
    assert.deepEqual(byName.get('Cache'), { name: 'Cache', count: 1, selfBytes: 10, retainedBytes: 130 });
    assert.deepEqual(byName.get('Entry'), { name: 'Entry', count: 2, selfBytes: 300, retainedBytes: 300 });
    assert.equal(byName.get('Big'), undefined, 'only weakly reachable: garbage');
    assert.equal(summary.totalBytes, 335);
    assert.equal(summary.retainers[0]?.name, 'Entry');
    assert.equal(summary.retainers[0]?.path, '(root).Other > Other.ref', 'the shortest path from the root');
    assert.ok(summary.byRetainerPath.some((e) => e.path === '(root).Cache > Cache.items > Map.[]' && e.selfBytes === 100));
  });
});
