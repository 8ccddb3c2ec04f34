// Unit tests of the benchmark's pure parts: the figures must be computed right even though the
// benchmark itself asserts nothing about speed.
//   npm exec -- node --import tsx --test bench/test/*.test.ts
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { categoryOf, summarizeProfile } from '../../../bench/lib/cpu-profile.ts';
import { asWritten, atGeneration, moveNamespace, pickFields } from '../../../bench/lib/floor.ts';
import { JsonLinesTail, breakdown, parseAuditLine } from '../../../bench/lib/kube-audit.ts';
import { parseMemory, parseStat } from '../../../bench/lib/procstat.ts';
import { parseMetrics, total as sumOf } from '../../support/prom-text.ts';
import { mapPool, percentile, summarize } from '../../../bench/lib/stats.ts';
import { isVaultWrite, parseVaultAuditLine } from '../../../bench/lib/vault-audit.ts';
import { benchKMSDeployment, isConverged } from '../../../bench/lib/workload.ts';
import { vaultBreakdown } from '../../../bench/lib/writes.ts';

describe('stats', () => {
  it('percentile uses the nearest rank', () => {
    const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    assert.equal(percentile(values, 50), 5);
    assert.equal(percentile(values, 95), 10);
    assert.equal(percentile(values, 0), 1);
    assert.equal(percentile([42], 95), 42);
    assert.ok(Number.isNaN(percentile([], 50)));
    assert.throws(() => percentile(values, 101), /p must be within 0\.\.100/);
  });

  it('summarize gives count, p50, p95 and max', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.deepEqual(summarize(values), { count: 100, p50Ms: 50, p95Ms: 95, maxMs: 100 });
  });

  it('mapPool keeps the order and never exceeds the concurrency', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapPool([30, 10, 20, 5, 15], 2, async (ms, i) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, ms));
      inFlight--;
      return i * 2;
    });
    assert.deepEqual(out, [0, 2, 4, 6, 8]);
    assert.equal(most, 2);
    await assert.rejects(mapPool([1], 0, async () => 1), /concurrency must be a whole number >= 1/);
  });
});

describe('Prometheus text', () => {
  const text = [
    '# HELP kmsstack_reconcile_total Reconciles.',
    '# TYPE kmsstack_reconcile_total counter',
    'kmsstack_reconcile_total{controller="kmsdeployment",result="success"} 7',
    'kmsstack_reconcile_total{controller="kmsdeployment",result="requeue"} 5',
    'kmsstack_workqueue_depth{name="kmsdeployment"} 0',
    'kmsstack_process_open_fds 23',
    'odd_label{path="a\\"b"} 1 1700000000',
  ].join('\n');

  it('sums a metric over label matches', () => {
    const samples = parseMetrics(text);
    assert.equal(sumOf(samples, 'kmsstack_reconcile_total'), 12);
    assert.equal(sumOf(samples, 'kmsstack_reconcile_total', { result: 'requeue' }), 5);
    assert.equal(sumOf(samples, 'kmsstack_process_open_fds'), 23);
    assert.equal(sumOf(samples, 'absent'), 0);
    assert.deepEqual(samples.at(-1)?.labels, { path: 'a"b' });
  });
});

describe('audit logs', () => {
  const line = (stage: string, verb: string, user: string, resource: string, subresource?: string) =>
    JSON.stringify({ kind: 'Event', stage, verb, user: { username: user }, objectRef: { resource, subresource, namespace: 'ns', name: 'x' }, responseStatus: { code: 200 } });

  it('keeps completed writes with their user and subresource', () => {
    assert.deepEqual(parseAuditLine(line('ResponseComplete', 'patch', 'op', 'kmsdeployments', 'status')), {
      user: 'op', verb: 'patch', resource: 'kmsdeployments/status', namespace: 'ns', name: 'x', code: 200,
    });
    assert.equal(parseAuditLine(line('RequestReceived', 'patch', 'op', 'secrets')), undefined);
    assert.equal(parseAuditLine('  '), undefined);
  });

  it('counts writes by resource and verb', () => {
    const writes = ['secrets', 'secrets', 'events'].map((r) => parseAuditLine(line('ResponseComplete', r === 'events' ? 'create' : 'patch', 'op', r))!);
    assert.deepEqual(breakdown(writes), { 'events create': 1, 'secrets patch': 2 });
  });

  it('reads a growing file, a line split across reads included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-test-'));
    try {
      const path = join(dir, 'audit.log');
      const tail = new JsonLinesTail(path, (l) => (l.trim() ? (JSON.parse(l) as { n: number }).n : undefined));
      assert.equal(tail.mark(), 0, 'a missing file reads as empty');
      writeFileSync(path, '{"n":1}\n{"n":');
      const mark = tail.mark();
      assert.equal(mark, 1);
      appendFileSync(path, '2}\n{"n":3}\n');
      assert.deepEqual(tail.since(mark), [2, 3]);
      assert.deepEqual(tail.since(0), [1, 2, 3]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Vault: requests only, reads and lists are not writes; paths are generalised per object', () => {
    const request = (operation: string, path: string) => JSON.stringify({ type: 'request', request: { operation, path } });
    assert.deepEqual(parseVaultAuditLine(request('update', 'sys/policies/acl/kmsstack-ns-bench-0001')), { operation: 'update', path: 'sys/policies/acl/kmsstack-ns-bench-0001' });
    assert.equal(parseVaultAuditLine(JSON.stringify({ type: 'response', request: { operation: 'update', path: 'x' } })), undefined);
    assert.equal(parseVaultAuditLine(request('update', 'sys/audit/test')), undefined);
    assert.equal(isVaultWrite({ operation: 'read', path: 'x' }), false);
    assert.equal(isVaultWrite({ operation: 'list', path: 'x' }), false);
    assert.equal(isVaultWrite({ operation: 'create', path: 'x' }), true);
    assert.deepEqual(vaultBreakdown(['update sys/policies/acl/kmsstack-bench-operator-bench-0001', 'update sys/policies/acl/kmsstack_default_bench-operator_bench-0002', 'update sys/mounts/kv']), {
      'update sys/mounts/kv': 1,
      'update sys/policies/acl/<object>': 2,
    });
  });
});

describe('/proc parsing', () => {
  it('reads VmRSS and VmHWM in bytes', () => {
    assert.deepEqual(parseMemory('Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n'), { rssBytes: 100 * 2 ** 20, peakBytes: 200 * 2 ** 20 });
    assert.throws(() => parseMemory('Name:\tnode\n'), /no VmRSS line/);
  });

  it('reads ppid and CPU ticks, a command with spaces and parentheses included', () => {
    const fields = ['S', '42', ...Array.from({ length: 9 }, () => '0'), '150', '50', '0'];
    assert.deepEqual(parseStat(`1234 (kube (api) server) ${fields.join(' ')}`), { comm: 'kube (api) server', ppid: 42, cpuTicks: 200 });
  });
});

describe('convergence', () => {
  const condition = (type: string, status: string, reason: string, observedGeneration = 1) => ({ type, status, reason, observedGeneration });
  const object = (conditions: unknown[], observedGeneration = 1, generation = 1) => ({
    ...benchKMSDeployment('ns', 'bench-0000', 'http://127.0.0.1:8200'),
    metadata: { name: 'bench-0000', namespace: 'ns', generation },
    status: { observedGeneration, conditions },
  });
  const vaultTrue = condition('VaultConfigured', 'True', 'Configured');

  it('holds when Vault is configured and KES waits for what this environment cannot provide', () => {
    assert.equal(isConverged(object([vaultTrue, condition('KESAvailable', 'False', 'WaitingForPods')]), 1), true);
    assert.equal(isConverged(object([vaultTrue, condition('KESAvailable', 'False', 'WaitingForCertificates')]), 1), true);
    assert.equal(isConverged(object([vaultTrue, condition('KESAvailable', 'True', 'Available')]), 1), true);
  });

  it('does not hold before Vault is configured, while KES is blocked or failing, or for an older generation', () => {
    assert.equal(isConverged(undefined, 1), false);
    assert.equal(isConverged(object([condition('VaultConfigured', 'False', 'Unreachable'), condition('KESAvailable', 'Unknown', 'Blocked')]), 1), false);
    assert.equal(isConverged(object([vaultTrue, condition('KESAvailable', 'Unknown', 'Blocked')]), 1), false);
    assert.equal(isConverged(object([vaultTrue, condition('KESAvailable', 'False', 'InvalidConfiguration')]), 1), false);
    assert.equal(isConverged(object([vaultTrue]), 1), false);
    assert.equal(isConverged(object([vaultTrue, condition('KESAvailable', 'False', 'WaitingForPods')], 1, 2), 2), false, 'status of generation 1');
    assert.equal(isConverged(object([condition('VaultConfigured', 'True', 'Configured', 1), condition('KESAvailable', 'False', 'WaitingForPods', 2)], 2, 2), 2), false, 'a stale condition');
  });
});

describe('floor copies', () => {
  const live = {
    apiVersion: 'v1', kind: 'Service',
    metadata: {
      name: 'bench-0000-kes', namespace: 'bench-operator', uid: 'child-uid', resourceVersion: '9',
      labels: { app: 'kes' },
      ownerReferences: [{ apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment', name: 'bench-0000', uid: 'owner-uid', controller: true }],
      managedFields: [
        { manager: 'kube-apiserver', operation: 'Update', fieldsV1: { 'f:spec': { 'f:clusterIP': {} } } },
        {
          manager: 'kmsstack-operator', operation: 'Apply',
          fieldsV1: {
            'f:metadata': { 'f:labels': { 'f:app': {} }, 'f:ownerReferences': { 'k:{"uid":"owner-uid"}': {} } },
            'f:spec': { 'f:ports': { 'k:{"port":7373,"protocol":"TCP"}': { '.': {}, 'f:name': {}, 'f:port': {} } }, 'f:selector': {} },
          },
        },
      ],
    },
    spec: { clusterIP: '10.0.0.7', clusterIPs: ['10.0.0.7'], selector: { app: 'kes' }, ports: [{ name: 'https', port: 7373, protocol: 'TCP', targetPort: 7373 }] },
    status: { loadBalancer: {} },
  };

  it('picks the fields a manager owns, list items by key', () => {
    assert.deepEqual(pickFields(live.spec, { 'f:ports': { 'k:{"port":7373,"protocol":"TCP"}': { 'f:port': {} } } }), { ports: [{ port: 7373 }] });
    assert.deepEqual(pickFields(['a', 'b', 'c'], { 'v:"c"': {}, 'i:0': {} }), ['a', 'c']);
    assert.deepEqual(pickFields({ a: { b: 1, c: 2 } }, { 'f:a': {} }), { a: { b: 1, c: 2 } });
  });

  it('writes what the operator applied, owned by the floor object, without server fields', () => {
    const written = asWritten(live, { metadata: { name: 'bench-0000', uid: 'floor-uid' } });
    assert.deepEqual(written, {
      apiVersion: 'v1', kind: 'Service',
      metadata: {
        name: 'bench-0000-kes', namespace: 'bench-operator', labels: { app: 'kes' },
        ownerReferences: [{ apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment', name: 'bench-0000', uid: 'floor-uid', controller: true }],
      },
      spec: { selector: { app: 'kes' }, ports: [{ name: 'https', port: 7373 }] },
    });
    assert.throws(() => asWritten({ ...live, metadata: { ...live.metadata, managedFields: [] } }, live), /no fields applied by kmsstack-operator/);
  });

  it('moves names to the floor namespace and the status to the floor generation', () => {
    assert.deepEqual(moveNamespace({ policy: 'kmsstack-bench-operator-x', path: 'kv/kmsstack/bench-operator/x' }, 'bench-operator', 'bench-floor'), {
      policy: 'kmsstack-bench-floor-x', path: 'kv/kmsstack/bench-floor/x',
    });
    assert.deepEqual(atGeneration({ observedGeneration: 3, conditions: [{ type: 'Ready', observedGeneration: 3 }], vault: {} }, 1), {
      observedGeneration: 1, conditions: [{ type: 'Ready', observedGeneration: 1 }], vault: {},
    });
  });
});

describe('CPU profile summary', () => {
  it('splits self time into idle, GC, dependencies, Node internals and our code', () => {
    const frame = (id: number, functionName: string, url: string, hitCount: number) => ({ id, callFrame: { functionName, url, lineNumber: 9 }, hitCount });
    const summary = summarizeProfile({
      startTime: 0, endTime: 10_000_000,
      nodes: [
        frame(1, '(idle)', '', 50),
        frame(2, '(garbage collector)', '', 10),
        frame(3, 'toBER', 'file:///x/node_modules/asn1js/build/index.js', 20),
        frame(4, 'reconcile', 'file:///tmp/b/dist/controllers/kmsdeployment/reconcile.js', 15),
        frame(5, 'TLSSocket._start', 'node:internal/tls/wrap', 5),
        frame(6, 'unused', 'node:fs', 0),
      ],
    });
    assert.equal(summary.durationMs, 10_000);
    assert.deepEqual(summary.categories.map((c) => [c.category, c.share]), [
      ['idle (waiting for I/O)', 0.5], ['dependency asn1js', 0.2], ['operator src/controllers', 0.15], ['garbage collection', 0.1], ['Node.js internals', 0.05],
    ]);
    assert.equal(summary.functions[0]?.name, 'toBER node_modules/asn1js/build/index.js:10');
    assert.ok(!summary.functions.some((f) => f.name.startsWith('(idle)')));
    assert.equal(categoryOf({ functionName: 'x', url: 'file:///n/node_modules/@peculiar/x509/a.js', lineNumber: 0 }), 'dependency @peculiar/x509');
  });
});
