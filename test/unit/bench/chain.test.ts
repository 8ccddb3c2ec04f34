// Unit tests of the pure parts of `npm run bench:chain` (bench/chain.ts): the example it creates in each
// namespace, the table it prints, and the marked section it writes into docs/benchmarks.md.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chainTable } from '../../../bench/lib/chain-report.ts';
import { chainExample, roundNamespaces, type ChainRound } from '../../../bench/lib/chain-round.ts';
import { writeMarkedSection } from '../../../bench/lib/docs-section.ts';

describe('bench:chain', () => {
  it('adapts the minimal example only in namespace and Vault prefix (kmsstack/<namespace>/...)', () => {
    const example = chainExample('chain-5-2') as { metadata: Record<string, unknown>; spec: { vault: { kv: Record<string, unknown> }; kes: unknown; minio: unknown } };
    assert.deepEqual(example.metadata, { name: 'minio-kms', namespace: 'chain-5-2' });
    assert.deepEqual(example.spec.vault.kv, { mountPath: 'kv', version: 'v1', prefix: 'kmsstack/chain-5-2/minio' });
    assert.deepEqual(example.spec.kes, { keys: [{ name: 'minio-key-1' }] });
    assert.deepEqual(example.spec.minio, { keyName: 'minio-key-1' });
    assert.deepEqual(roundNamespaces(2), ['chain-2-1', 'chain-2-2']);
  });

  it('prints p50 / max per round, conditions by median time, and what was not reached', () => {
    const round = (n: number, objects: ChainRound['objects']): ChainRound => ({ n, objects, load: { start: 1, max: 3.25, end: 2 }, notes: [] });
    const table = chainTable([
      round(1, [{ namespace: 'a', conditionTrueMs: { VaultConfigured: 2000, KESAvailable: 9000, Ready: 30_000 }, rotation: { reissuedMs: 1000, kesRolledMs: 20_000, minioRolledMs: 50_000, readyAgainMs: 51_000 }, s3: 'AES256, read back identical' }]),
      round(2, [
        { namespace: 'b', conditionTrueMs: { KESAvailable: 10_000, VaultConfigured: 3000, Ready: 40_000 }, rotation: { reissuedMs: 2000 }, s3: 'AES256, read back identical' },
        { namespace: 'c', conditionTrueMs: { VaultConfigured: 5000 }, rotation: {}, s3: 'failed: timeout' },
      ]),
    ]);
    const lines = table.split('\n');
    assert.equal(lines[0], '| measure (p50 / max over the objects) | N = 1 | N = 2 |');
    assert.equal(lines[2], '| create → VaultConfigured True | 2.0 s / 2.0 s | 3.0 s / 5.0 s |');
    assert.equal(lines[3], '| create → KESAvailable True | 9.0 s / 9.0 s | 10.0 s / 10.0 s (1 not reached) |');
    assert.equal(lines[4], '| **create → Ready** | **30.0 s / 30.0 s** | **40.0 s / 40.0 s (1 not reached)** |');
    assert.ok(lines.includes('| renewal: patch → every KES Pod runs it | 20.0 s / 20.0 s | not reached |'));
    assert.ok(lines.includes('| SSE-S3 PUT + GET per object | 1 of 1 encrypted (AES256) and read back | 1 of 2 encrypted (AES256) and read back; c: failed: timeout |'));
    assert.equal(lines.at(-1), '| load average (1 min): start / max / end | 1.0 / 3.3 / 2.0 | 1.0 / 3.3 / 2.0 |');
  });

  it('replaces only what is between the markers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsstack-chain-docs-'));
    try {
      const file = join(dir, 'page.md');
      writeFileSync(file, 'before\n<!-- b -->\nold\n<!-- e -->\nafter\n');
      writeMarkedSection(file, '<!-- b -->', '<!-- e -->', 'new');
      assert.equal(readFileSync(file, 'utf8'), 'before\n<!-- b -->\nnew\n<!-- e -->\nafter\n');
      assert.throws(() => writeMarkedSection(file, '<!-- x -->', '<!-- e -->', 'new'), /has no <!-- x -->/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
