// The chart's ValidatingAdmissionPolicy for operator.kvPrefixTemplate: rendered from the same value
// the operator reads, only when a template is set, bound to the watched namespaces. Its effect on a
// real API server is in test/integration/packaging/manifests.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderChart, type KubeObject } from './helm.ts';

interface Policy {
  spec: {
    matchConstraints: { resourceRules: { operations: string[]; resources: string[] }[] };
    variables: { name: string; expression: string }[];
    validations: { expression: string; messageExpression: string }[];
  };
}

function policyObjects(objects: KubeObject[]): { policy: (KubeObject & Policy) | undefined; binding: KubeObject | undefined } {
  return {
    policy: objects.find((o) => o.kind === 'ValidatingAdmissionPolicy') as (KubeObject & Policy) | undefined,
    binding: objects.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding'),
  };
}

function rootExpression(policy: Policy): string | undefined {
  return policy.spec.variables.find((v) => v.name === 'root')?.expression;
}

describe('chart: admission policy for the KV prefix template', () => {
  test('the default renders the policy for kmsstack/{namespace}, on CREATE of KMSDeployments only, bound everywhere', async () => {
    const { policy, binding } = policyObjects(await renderChart());
    assert.ok(policy && binding);
    assert.equal(rootExpression(policy), "'kmsstack' + '/' + request.namespace");
    assert.deepEqual(policy.spec.matchConstraints.resourceRules.map((r) => [r.operations, r.resources]), [[['CREATE'], ['kmsdeployments']]]);
    assert.match(policy.spec.validations[0]!.messageExpression, /--kv-prefix-template "kmsstack\/\{namespace\}"/);
    assert.deepEqual(binding.spec, { policyName: policy.metadata.name, validationActions: ['Deny'] });
  });

  test('{name} becomes the object name; watched namespaces narrow the binding', async () => {
    const { policy, binding } = policyObjects(await renderChart({ watchNamespaces: ['team-a'], operator: { kvPrefixTemplate: '/vault/{namespace}/{name}/' } }));
    assert.ok(policy && binding);
    assert.equal(rootExpression(policy), "'vault' + '/' + request.namespace + '/' + object.metadata.name");
    assert.deepEqual((binding.spec as { matchResources?: unknown }).matchResources, {
      namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['team-a'] }] },
    });
  });

  test('no policy when the template is "*" or the policy is switched off', async () => {
    const any = policyObjects(await renderChart({ operator: { kvPrefixTemplate: '*' } }));
    assert.deepEqual(any, { policy: undefined, binding: undefined });
    const off = policyObjects(await renderChart({ admissionPolicy: { enabled: false } }));
    assert.deepEqual(off, { policy: undefined, binding: undefined });
  });
});
