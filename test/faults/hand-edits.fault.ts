// Fault: someone edits or deletes what the operator manages — its Secrets, the KES Deployment, the
// MinIO StatefulSet (of a StaticKey deployment: the only mode that gets that far without pods),
// the Vault policy and the AppRole role. Each must be put back within one resync. Kubernetes
// objects come back through the watch events of owned objects; Vault objects are not watched and
// come back on the next reconcile (a resync, or the requeue while the step waits for KES pods).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kesNames } from '../../src/workload/names.ts';
import { minioNames } from '../../src/minio/names.ts';
import { pkiSecretNames } from '../../src/pki/names.ts';
import { resources, type KubeObject, type ResourceType } from '../../src/runtime/kube/resources.ts';
import { appRoleSecretName, vaultObjectName } from '../../src/vault/names.ts';
import { waitFor } from '../env/process.ts';
import { readAppRoleCredentials } from '../integration/vault/fixture.ts';
import { convergenceProblems, waitConverged, type Tracked } from './checks.ts';
import type { OperatorProcess } from './operator.ts';
import { recordResult } from './results.ts';
import { startFaultStack, vaultDeployment, type FaultStack } from './stack.ts';
import { suiteFixture } from '../support/suite.ts';
import { inNamespace, kmsDeployment } from '../support/kmsdeployment.ts';

const NS = 'hand-edits';
const RESYNC_MS = 20_000;
const LIMIT_MS = RESYNC_MS + 5_000;
const vaultMode: Tracked = { namespace: NS, name: 'h' };
const staticMode = { namespace: NS, name: 's' };
const role = vaultObjectName(NS, vaultMode.name);

type Json = KubeObject & { data?: Record<string, string>; spec?: Record<string, unknown> };

interface Edit {
  /** The row of the results table it counts in. */
  target: string;
  what: string;
  /** Makes the edit; returns whatever `restored` needs to compare with. */
  edit(stack: FaultStack): Promise<unknown>;
  restored(stack: FaultStack, before: unknown): Promise<boolean>;
  /** A known product bug: the case runs and is reported, but as a todo it does not fail the suite. */
  knownBug?: string;
}

const get = (stack: FaultStack, type: ResourceType, name: string) => stack.kube.get<Json>(type, NS, name);
const patch = (stack: FaultStack, type: ResourceType, name: string, body: unknown, contentType = 'application/merge-patch+json') =>
  stack.kube.request('PATCH', `/${type.apiVersion.includes('/') ? 'apis' : 'api'}/${type.apiVersion}/namespaces/${NS}/${type.plural}/${name}`, { body, contentType, resource: type.plural, verb: 'patch' });
const b64 = (text: string) => Buffer.from(text).toString('base64');

async function secretIdValid(stack: FaultStack): Promise<boolean> {
  const { roleId, secretId } = await readAppRoleCredentials(stack.kube, NS, vaultMode.name);
  const res = await stack.vault.request('POST', 'auth/approle/login', { role_id: roleId, secret_id: secretId }, '');
  return res.status === 200;
}

const converged = async (stack: FaultStack) => (await convergenceProblems(stack, vaultMode)).length === 0;

async function recreated(stack: FaultStack, type: ResourceType, name: string, before: unknown): Promise<boolean> {
  const now = await get(stack, type, name);
  return now !== undefined && now.metadata.uid !== before;
}

async function deleteObject(stack: FaultStack, type: ResourceType, name: string): Promise<string | undefined> {
  const uid = (await get(stack, type, name))?.metadata.uid;
  await stack.kube.delete(type, NS, name);
  return uid;
}

/** The case of a workload deleted by hand: restored when it exists again as another object. */
function deletedWorkload(target: string, resource: ResourceType, name: string): Edit {
  return {
    target, what: 'deleted',
    edit: (stack) => deleteObject(stack, resource, name),
    restored: (stack, before) => recreated(stack, resource, name, before),
  };
}

const edits: Edit[] = [
  {
    target: 'Secrets', what: 'KES server certificate Secret deleted',
    edit: (stack) => deleteObject(stack, resources.Secret, pkiSecretNames(vaultMode.name).leaves.kesServer),
    restored: async (stack, before) => (await recreated(stack, resources.Secret, pkiSecretNames(vaultMode.name).leaves.kesServer, before)) && converged(stack),
  },
  {
    target: 'Secrets', what: 'KES config Secret edited',
    edit: async (stack) => {
      const before = (await get(stack, resources.Secret, kesNames(vaultMode.name).configSecret))?.data;
      await patch(stack, resources.Secret, kesNames(vaultMode.name).configSecret, { data: { 'config.yaml': b64('address: 0.0.0.0:7373\n') } });
      return before;
    },
    restored: async (stack, before) => JSON.stringify((await get(stack, resources.Secret, kesNames(vaultMode.name).configSecret))?.data) === JSON.stringify(before),
  },
  {
    target: 'Secrets', what: 'AppRole Secret deleted',
    edit: (stack) => deleteObject(stack, resources.Secret, appRoleSecretName(vaultMode.name)),
    restored: async (stack, before) => (await recreated(stack, resources.Secret, appRoleSecretName(vaultMode.name), before)) && (await secretIdValid(stack)) && converged(stack),
  },
  {
    target: 'Secrets', what: 'AppRole Secret: secret-id overwritten',
    edit: (stack) => patch(stack, resources.Secret, appRoleSecretName(vaultMode.name), { data: { 'secret-id': b64('00000000-0000-0000-0000-000000000000') } }),
    restored: async (stack) => (await secretIdValid(stack)) && converged(stack),
  },
  {
    target: 'KES Deployment', what: 'replicas changed',
    edit: async (stack) => {
      const before = (await get(stack, resources.Deployment, kesNames(vaultMode.name).workload))?.spec?.replicas;
      await patch(stack, resources.Deployment, kesNames(vaultMode.name).workload, { spec: { replicas: 7 } });
      return before;
    },
    restored: async (stack, before) => (await get(stack, resources.Deployment, kesNames(vaultMode.name).workload))?.spec?.replicas === before,
  },
  deletedWorkload('KES Deployment', resources.Deployment, kesNames(vaultMode.name).workload),
  {
    target: 'MinIO StatefulSet', what: 'container image changed',
    edit: async (stack) => {
      const name = minioNames(staticMode.name).workload;
      const before = JSON.stringify((await get(stack, resources.StatefulSet, name))?.spec?.['template']);
      await patch(stack, resources.StatefulSet, name, [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'registry.example.com/not-minio:1' }], 'application/json-patch+json');
      return before;
    },
    restored: async (stack, before) => JSON.stringify((await get(stack, resources.StatefulSet, minioNames(staticMode.name).workload))?.spec?.['template']) === before,
  },
  deletedWorkload('MinIO StatefulSet', resources.StatefulSet, minioNames(staticMode.name).workload),
  {
    target: 'Vault policy', what: 'rewritten to grant everything',
    edit: async (stack) => {
      const before = (await stack.vault.request('GET', `sys/policies/acl/${role}`)).body?.['data'] as { policy?: string } | undefined;
      await stack.vault.writePolicy(role, 'path "*" {\n  capabilities = ["create", "read", "update", "delete", "list"]\n}\n');
      return before?.policy;
    },
    restored: async (stack, before) => ((await stack.vault.request('GET', `sys/policies/acl/${role}`)).body?.['data'] as { policy?: string } | undefined)?.policy === before,
  },
  {
    target: 'Vault AppRole role', what: 'token TTL and policies changed',
    edit: async (stack) => {
      const read = async () => (await stack.vault.request('GET', `auth/approle/role/${role}`)).body?.['data'] as Record<string, unknown>;
      const before = await read();
      await stack.vault.request('POST', `auth/approle/role/${role}`, { token_ttl: '2h', token_max_ttl: '4h', token_policies: [role, 'default'] });
      return JSON.stringify([before['token_ttl'], before['token_max_ttl'], before['token_policies']]);
    },
    restored: async (stack, before) => {
      const now = (await stack.vault.request('GET', `auth/approle/role/${role}`)).body?.['data'] as Record<string, unknown>;
      return JSON.stringify([now['token_ttl'], now['token_max_ttl'], now['token_policies']]) === before;
    },
  },
  {
    target: 'Vault AppRole role', what: 'deleted (its secret-ids with it)',
    edit: (stack) => stack.vault.request('DELETE', `auth/approle/role/${role}`),
    restored: async (stack) => (await secretIdValid(stack)) && converged(stack),
  },
];

describe('fault: managed objects edited or deleted by hand', { timeout: 600_000 }, () => {
  const stack = suiteFixture(() => startFaultStack({ namespace: NS }));
  let operator: OperatorProcess;
  const times = new Map<string, { what: string; ms?: number; knownBug?: string }[]>();

  before(async () => {
    await stack.kube.create(vaultDeployment(stack, NS, vaultMode.name));
    await stack.kube.create(kmsDeployment(staticMode.name, inNamespace(NS)));
    operator = await stack.startReconcilingOperator({ leaseNamespace: NS, leaseName: 'hand-edits', resyncPeriod: `${RESYNC_MS / 1000}s` });
    await waitConverged(stack, [vaultMode]);
    await waitFor('the MinIO StatefulSet', async () => ((await get(stack, resources.StatefulSet, minioNames(staticMode.name).workload)) ? true : undefined));
  });

  after(async () => {
    for (const [target, entries] of times) {
      const done = entries.filter((e) => e.ms !== undefined);
      recordResult({
        fault: `${target} edited or deleted by hand: ${entries.map((e) => e.what).join('; ')}`,
        trials: entries.length, converged: done.length, convergeMs: done.map((e) => e.ms as number),
        convergedFrom: 'the edit',
        lost: done.length === entries.length ? 'nothing' : `not restored within ${LIMIT_MS / 1000} s: ${entries.filter((e) => e.ms === undefined).map((e) => `${e.what}${e.knownBug ? ' (known bug, see docs/reliability.md)' : ''}`).join('; ')}`,
        notes: `resync ${RESYNC_MS / 1000} s`,
      });
    }
  });

  for (const e of edits) {
    it(`${e.target}: ${e.what} — restored within one resync`, e.knownBug ? { todo: `known bug: ${e.knownBug}` } : {}, async () => {
      const entry: { what: string; ms?: number; knownBug?: string } = { what: e.what, ...(e.knownBug ? { knownBug: e.knownBug } : {}) };
      times.set(e.target, [...(times.get(e.target) ?? []), entry]);
      const before = await e.edit(stack);
      const editedAt = Date.now();
      await waitFor(`${e.target} (${e.what}) to be restored`, async () => {
        operator.assertAlive(e.what);
        return (await e.restored(stack, before)) ? true : undefined;
      }, LIMIT_MS, 100);
      entry.ms = Date.now() - editedAt;
      await waitConverged(stack, [vaultMode], [], LIMIT_MS, () => operator.assertAlive());
      assert.ok(entry.ms <= LIMIT_MS);
    });
  }
});
