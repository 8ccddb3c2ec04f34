// The index only narrows the deployments olderOverlap and sharesPrefix look at: on any set of locations,
// asking it must give the answers of a scan of all of them, also after deployments change and go.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { KeyLocationIndex } from '../../../src/vault/tenancy-index.ts';
import { olderOverlap, sharesPrefix, type KeyLocation } from '../../../src/vault/tenancy.ts';

interface Source { key: string; location: KeyLocation | undefined }

const segment = fc.constantFrom('a', 'b', 'kv', 'team');
const path = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));
const location = fc.record({
  deployment: fc.record({ namespace: fc.constantFrom('n1', 'n2'), name: fc.constantFrom('s1', 's2', 's3', 's4') }),
  createdAt: fc.integer({ min: 0, max: 5 }),
  address: fc.constantFrom('https://vault:8200', 'https://VAULT:8200/', 'https://other:8200'),
  vaultNamespace: fc.option(fc.constantFrom('a', 'team/a', 'b'), { nil: undefined }),
  mountPath: fc.constantFrom('kv', 'a', 'kv/a', 'team'),
  prefix: path,
});
const source = fc.tuple(location, fc.boolean()).map(([l, usable]): Source => ({
  key: `${l.deployment.namespace}/${l.deployment.name}`, location: usable ? l : undefined,
}));
/** One source per deployment, as a cache holds them. */
const sources = fc.uniqueArray(source, { selector: (s) => s.key, maxLength: 8 });

function index(locationOf = (s: Source) => s.location): KeyLocationIndex<Source> {
  return new KeyLocationIndex((s: Source) => s.key, locationOf);
}

function sameAnswers(idx: KeyLocationIndex<Source>, all: Source[], self: KeyLocation): void {
  const everyone = all.flatMap((s) => s.location ?? []);
  const candidates = idx.candidates(self);
  assert.equal(olderOverlap(self, candidates), olderOverlap(self, everyone));
  assert.equal(sharesPrefix(self, candidates) !== undefined, sharesPrefix(self, everyone) !== undefined);
}

describe('KeyLocationIndex', () => {
  it('gives olderOverlap and sharesPrefix the answers of a full scan', () => {
    fc.assert(fc.property(sources, location, (all, self) => {
      const idx = index();
      idx.sync(all);
      sameAnswers(idx, all, self);
    }), { numRuns: 2000 });
  });

  it('stays right as deployments change, come and go between syncs', () => {
    fc.assert(fc.property(fc.array(sources, { minLength: 2, maxLength: 5 }), location, (rounds, self) => {
      const idx = index();
      for (const all of rounds) {
        idx.sync(all);
        sameAnswers(idx, all, self);
      }
    }), { numRuns: 1000 });
  });

  it('finds the containing, the contained and the equal path on the same server, and nothing elsewhere', () => {
    const at = (name: string, prefix: string, address = 'https://vault:8200'): Source => ({ key: `n/${name}`,
      location: { deployment: { namespace: 'n', name }, createdAt: 0, address, vaultNamespace: undefined, mountPath: 'kv', prefix } });
    const all = [at('outer', 'x'), at('equal', 'x/y'), at('inner', 'x/y/z'), at('sibling', 'x/w'), at('elsewhere', 'x/y', 'https://other:8200'),
      at('lookalike', 'x/yy')];
    const idx = index();
    idx.sync(all);
    const self = at('self', 'x/y').location as KeyLocation;
    assert.deepEqual(idx.candidates(self).map((l) => l.deployment.name).sort(), ['equal', 'inner', 'outer']);
    idx.sync(all.filter((s) => s.key !== 'n/inner'));
    assert.deepEqual(idx.candidates(self).map((l) => l.deployment.name).sort(), ['equal', 'outer']);
  });

  it('locates only the sources that changed since the last sync', () => {
    const located: string[] = [];
    const idx = index((s) => {
      located.push(s.key);
      return s.location;
    });
    const all = fc.sample(sources.filter((list) => list.length >= 3), { numRuns: 1, seed: 7 })[0] as Source[];
    idx.sync(all);
    assert.deepEqual(located, all.map((s) => s.key));
    located.length = 0;
    idx.sync(all);
    assert.deepEqual(located, [], 'nothing changed: nothing located');
    const changed = { ...all[1] } as Source;
    idx.sync([all[0] as Source, changed, ...all.slice(2)]);
    assert.deepEqual(located, [changed.key]);
  });
});
