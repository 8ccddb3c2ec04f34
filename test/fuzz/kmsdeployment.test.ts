// Fuzzing with fast-check: generated KMSDeployments, valid and invalid (test/fuzz/arbitraries.ts),
// are applied to a real kube-apiserver (strict field validation, as kubectl does) while the operator
// runs as a process. Every valid one is admitted and gets SpecValid=True; every invalid one is
// rejected at admission, or admitted and given SpecValid=False, naming the broken field either
// way. Throughout, the operator never crashes and never reports an unhandled rejection. Bounded:
// $KMSSTACK_FUZZ_RUNS runs (default 150); fast-check prints the seed of a failure to replay it
// ($KMSSTACK_FUZZ_SEED).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startControlPlane, type ControlPlane } from '../env/controlplane.ts';
import { freePort, leftovers, makeTempDir, removeTempDir, waitFor } from '../env/process.ts';
import { KubeApiError, KubeClient } from '../../src/runtime/kube/client.ts';
import { resources, type KubeObject } from '../../src/runtime/kube/resources.ts';
import { ensureNamespace } from '../support/kube.ts';
import { SKIP_VAULT_CLEANUP_ANNOTATION } from '../../src/vault/names.ts';
import { OperatorProcess } from '../faults/operator.ts';
import { sample, type Sample } from './arbitraries.ts';

const NS = 'fuzz';
const RUNS = Number(process.env.KMSSTACK_FUZZ_RUNS ?? '150');
const SEED = process.env.KMSSTACK_FUZZ_SEED ? Number(process.env.KMSSTACK_FUZZ_SEED) : undefined;

type Condition = { type: string; status: string; reason: string; message: string };

describe('fuzz: generated KMSDeployments against the API server and the running operator', { timeout: 600_000 }, () => {
  let plane: ControlPlane;
  let kube: KubeClient;
  let dir: string;
  let operator: OperatorProcess;
  const tally = { valid: 0, rejectedAtAdmission: 0, specInvalid: 0, byRule: new Map<string, number>() };

  before(async () => {
    plane = await startControlPlane();
    kube = new KubeClient(plane.kubeConfig, 'kmsstack-fuzz');
    dir = makeTempDir('fuzz');
    await ensureNamespace(kube, NS);
    operator = OperatorProcess.start({ kubeconfigPath: plane.kubeconfigPath, leaseNamespace: NS, leaseName: 'fuzz', logDir: dir, logLevel: 'debug' });
    await operator.waitUntilReconciling();
  });

  after(async () => {
    await operator?.kill();
    await plane?.stop();
    if (dir) removeTempDir(dir);
    assert.deepEqual(leftovers(), { processes: [], tempDirs: [] });
  });

  /** POST with fieldValidation=Strict; the created object, or the API server's refusal. */
  async function submit(s: Sample): Promise<KubeObject | KubeApiError> {
    const body = { apiVersion: resources.KMSDeployment.apiVersion, kind: 'KMSDeployment', metadata: { name: s.name, namespace: NS }, spec: s.spec };
    try {
      return await kube.request<KubeObject>('POST', `/apis/${resources.KMSDeployment.apiVersion}/namespaces/${NS}/kmsdeployments`, {
        query: { fieldValidation: 'Strict', fieldManager: 'kmsstack-fuzz' }, body, resource: 'kmsdeployments', verb: 'create',
      });
    } catch (err) {
      if (err instanceof KubeApiError) return err;
      throw err;
    }
  }

  async function specValid(name: string): Promise<Condition> {
    return waitFor(`SpecValid of ${name}`, async () => {
      operator.assertAlive(`while checking ${name}`);
      const obj = await kube.get(resources.KMSDeployment, NS, name);
      return ((obj?.status as { conditions?: Condition[] } | undefined)?.conditions ?? []).find((c) => c.type === 'SpecValid');
    }, 30_000, 50);
  }

  /** Deletes the object; a Vault-mode one skips its (unreachable) Vault cleanup. */
  async function discard(name: string): Promise<void> {
    await kube.request('PATCH', `/apis/${resources.KMSDeployment.apiVersion}/namespaces/${NS}/kmsdeployments/${name}`, {
      body: { metadata: { annotations: { [SKIP_VAULT_CLEANUP_ANNOTATION]: 'true' } } }, contentType: 'application/merge-patch+json', resource: 'kmsdeployments', verb: 'patch',
    });
    await kube.delete(resources.KMSDeployment, NS, name);
  }

  it(`${RUNS} generated KMSDeployments: valid ones pass, invalid ones are refused naming the field, the operator never crashes`, async () => {
    const closedPort = await freePort();
    await fc.assert(fc.asyncProperty(sample(closedPort), async (s) => {
      const outcome = await submit(s);
      if (!s.invalid) {
        assert.ok(!(outcome instanceof KubeApiError), `valid ${s.name} was refused: ${outcome instanceof KubeApiError ? outcome.message : ''}\n${JSON.stringify(s.spec)}`);
        const condition = await specValid(s.name);
        assert.equal(condition.status, 'True', `valid ${s.name}: SpecValid=${condition.status}: ${condition.message}\n${JSON.stringify(s.spec)}`);
        tally.valid++;
        await discard(s.name);
        return;
      }
      tally.byRule.set(s.invalid.rule, (tally.byRule.get(s.invalid.rule) ?? 0) + 1);
      if (outcome instanceof KubeApiError) {
        // 422 Invalid (schema, CEL), 400 BadRequest (strict decoding of an unknown field).
        assert.ok([400, 422].includes(outcome.statusCode), `${s.invalid.rule}: refused with ${outcome.statusCode}, not as invalid: ${outcome.message}`);
        assert.ok(outcome.message.includes(s.invalid.path), `${s.invalid.rule}: the refusal does not name ${s.invalid.path}: ${outcome.message}`);
        assert.notEqual(s.invalid.layer, 'operator', `${s.invalid.rule} is the operator's to report, yet the API server refused it: ${outcome.message}`);
        tally.rejectedAtAdmission++;
        return;
      }
      const condition = await specValid(s.name);
      assert.equal(condition.status, 'False', `invalid (${s.invalid.rule}) ${s.name} got SpecValid=True\n${JSON.stringify(s.spec)}`);
      assert.ok(condition.message.includes(s.invalid.path), `${s.invalid.rule}: SpecValid message does not name ${s.invalid.path}: ${condition.message}`);
      tally.specInvalid++;
      await discard(s.name);
    }), { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }), endOnFailure: true });

    // Deletions (with their finalizers and cleanups) settle without taking the operator down.
    await waitFor('every fuzzed object to be gone', async () => ((await kube.list(resources.KMSDeployment, NS)).items.length === 0 ? true : undefined), 60_000, 200);
    operator.assertAlive();
    const output = operator.output();
    assert.doesNotMatch(output, /Unhandled|uncaught|^\s+at /im, 'no unhandled rejection, uncaught exception or stack trace on stderr');
    assert.deepEqual(operator.logLines().filter((l) => l.level === 'fatal'), [], 'no fatal log line');
    assert.ok(tally.valid > 0 && tally.rejectedAtAdmission > 0 && tally.specInvalid > 0, `every outcome occurred: ${JSON.stringify({ ...tally, byRule: undefined })}`);
    console.log(`fuzz: ${RUNS} runs, ${tally.valid} valid, ${tally.rejectedAtAdmission} refused at admission, ${tally.specInvalid} SpecValid=False; rules: ${[...tally.byRule].map(([r, n]) => `${r} ${n}`).join(', ')}`);
  });
});
