// The pure parts of the test cluster's node agent: which program an image runs and with which arguments,
// the environment a container gets, the /etc/hosts a Pod gets, the Services it warns about, and which claims it grows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { quantityBytes } from '../../env/node-agent/disks.ts';
import { containerEnv, containerProcess, imageName } from '../../env/node-agent/containers.ts';
import { hostsFiles, serviceWarnings } from '../../env/node-agent/hosts.ts';
import { expansionTarget } from '../../env/node-agent/resizer.ts';
import type { PodRuntime } from '../../env/node-agent/pod.ts';
import { roundRobinHost } from '../../env/node-agent/network.ts';
import { Refused } from '../../env/node-agent/volumes.ts';
import { findProgram } from '../../env/programs.ts';

describe('node agent: images and programs', () => {
  it('names an image by its last repository segment, without tag or digest', () => {
    assert.equal(imageName('quay.io/minio/kes:2025-03-12T09-35-18Z'), 'kes');
    assert.equal(imageName('minio/minio@sha256:' + 'a'.repeat(64)), 'minio');
    assert.equal(imageName('registry.local:5000/team/kmsstack-operator:1.0'), 'kmsstack-operator');
  });

  it('refuses an image it has no program for, naming the image', () => {
    assert.throws(() => containerProcess({ name: 'web', image: 'nginx:1.27' }), (err: unknown) => err instanceof Refused && /nginx:1\.27/.test(err.message));
  });

  it('runs the MinIO image as its entrypoint would (a leading `minio` is the image CMD)', { skip: findProgram('minio') ? false : 'skipped: no minio program' }, () => {
    assert.deepEqual(containerProcess({ name: 'm', image: 'minio/minio:x', args: ['minio', 'server', '/data'] }).argv, ['server', '/data']);
    assert.deepEqual(containerProcess({ name: 'm', image: 'minio/minio:x', args: ['server', '/data'] }).argv, ['server', '/data']);
    assert.throws(() => containerProcess({ name: 'm', image: 'minio/minio:x', command: ['/bin/sh', '-c', 'minio server /data'] }), Refused);
  });

  it('runs the KES image with command and args as given', { skip: findProgram('kes') ? false : 'skipped: no kes program' }, () => {
    assert.deepEqual(containerProcess({ name: 'k', image: 'minio/kes:x', command: ['/kes'], args: ['server', '--config', '/c.yaml'] }).argv, ['server', '--config', '/c.yaml']);
  });

  it('reads quantities the way the API writes them', () => {
    assert.equal(quantityBytes('1Gi'), 2 ** 30);
    assert.equal(quantityBytes('500M'), 5e8);
    assert.equal(quantityBytes('1.5Ki'), 1536);
    assert.equal(quantityBytes('lots'), undefined);
  });
});

describe('node agent: container environment', () => {
  const pod: k8s.V1Pod = { metadata: { name: 'p-0', namespace: 'ns', uid: 'u1', labels: { app: 'a' } }, spec: { containers: [], nodeName: 'n' }, status: { podIP: '10.244.0.7' } };
  const core = {
    readNamespacedSecret: async ({ name }: { name: string }) => {
      if (name !== 'creds') throw Object.assign(new Error('not found'), { code: 404 });
      return { data: { user: Buffer.from('root').toString('base64') } };
    },
    readNamespacedConfigMap: async () => ({ data: { mode: 'fast' } }),
  } as unknown as k8s.CoreV1Api;

  it('resolves values with $(VAR) expansion, Secret and ConfigMap keys, and downward-API fields', async () => {
    const env = await containerEnv({ core, pod }, {
      name: 'c',
      env: [
        { name: 'USER', valueFrom: { secretKeyRef: { name: 'creds', key: 'user' } } },
        { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'mode' } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'URL', value: 'http://$(USER)@$(IP):9000/$$(LITERAL)' },
        { name: 'OPT', valueFrom: { secretKeyRef: { name: 'absent', key: 'k', optional: true } } },
      ],
    });
    assert.deepEqual(env, { USER: 'root', MODE: 'fast', IP: '10.244.0.7', APP: 'a', URL: 'http://root@10.244.0.7:9000/$(LITERAL)' });
  });

  it('refuses what it cannot resolve, naming the variable', async () => {
    await assert.rejects(
      containerEnv({ core, pod }, { name: 'c', env: [{ name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } }] }),
      (err: unknown) => err instanceof Refused && /env\[0\] \(CPU\): valueFrom\.resourceFieldRef/.test(err.message),
    );
  });
});

describe('node agent: /etc/hosts and Services', () => {
  const service = (name: string, spec: k8s.V1ServiceSpec): k8s.V1Service => ({ metadata: { name, namespace: 'ns', uid: name }, spec });
  const slice = (serviceName: string, endpoints: k8s.V1Endpoint[], ports: k8s.DiscoveryV1EndpointPort[] = []): k8s.V1EndpointSlice => ({
    addressType: 'IPv4', metadata: { name: `${serviceName}-x`, namespace: 'ns', labels: { 'kubernetes.io/service-name': serviceName } }, endpoints, ports,
  });
  const runtime = (name: string, podIP: string, spec: Partial<k8s.V1PodSpec> = {}) =>
    ({ podIP, pod: { metadata: { name, namespace: 'ns' }, spec: { containers: [], ...spec } } }) as unknown as PodRuntime;

  it('resolves Service names to ready endpoints and per-pod names of a headless Service to their Pod', () => {
    const services = [service('kes', { selector: { app: 'kes' } }), service('minio-hl', { clusterIP: 'None' }), service('kubernetes', {})];
    const slices = [
      slice('kes', [{ addresses: ['10.244.0.2'], conditions: { ready: true } }, { addresses: ['10.244.0.3'], conditions: { ready: false } }]),
      slice('minio-hl', [{ addresses: ['10.244.0.4'], hostname: 'minio-0', conditions: { ready: true } }]),
    ];
    const me = runtime('minio-0', '10.244.0.4', { hostname: 'minio-0', subdomain: 'minio-hl' });
    const other = { ...runtime('client', '10.244.0.9'), pod: { metadata: { name: 'client', namespace: 'elsewhere' }, spec: { containers: [] } } } as unknown as PodRuntime;
    const files = hostsFiles([me, other], services, slices);
    const mine = files.get(me)!;
    assert.match(mine, /^10\.244\.0\.4\tminio-0\.minio-hl\.ns\.svc\.cluster\.local minio-0$/m);
    assert.match(mine, /^10\.244\.0\.2\tkes kes\.ns kes\.ns\.svc kes\.ns\.svc\.cluster\.local$/m);
    assert.doesNotMatch(mine, /10\.244\.0\.3/, 'a not-ready endpoint is not resolved');
    assert.match(mine, /^10\.244\.0\.4\tminio-0\.minio-hl minio-0\.minio-hl\.ns /m);
    assert.match(mine, /^10\.244\.0\.1\tkubernetes\.default kubernetes\.default\.svc /m, 'the API server is at the node gateway');
    const theirs = files.get(other)!;
    assert.match(theirs, /^10\.244\.0\.2\tkes\.ns kes\.ns\.svc kes\.ns\.svc\.cluster\.local$/m, 'from another namespace, no short name');
  });

  it('warns about a Service whose port differs from its target port, and about ExternalName', () => {
    const warnings = serviceWarnings(
      [service('web', { ports: [{ name: 'http', port: 80 }] }), service('same', { ports: [{ name: 's3', port: 9000 }] }), service('ext', { type: 'ExternalName' })],
      [slice('web', [], [{ name: 'http', port: 8080 }]), slice('same', [], [{ name: 's3', port: 9000 }])],
    );
    assert.deepEqual(warnings.map((w) => w.service.metadata!.name), ['web', 'ext']);
    assert.match(warnings[0]!.message, /port 80 targets 8080/);
  });
});

describe('node agent: volume expansion', () => {
  const claim = (requested: string, status: k8s.V1PersistentVolumeClaimStatus, volumeName = 'pvc-1'): k8s.V1PersistentVolumeClaim => ({
    metadata: { name: 'data-0', namespace: 'ns', uid: '1' },
    spec: { volumeName, resources: { requests: { storage: requested } } },
    status,
  });

  it('grows a bound claim that asks for more than its capacity, compared as quantities', () => {
    assert.equal(expansionTarget(claim('2Gi', { phase: 'Bound', capacity: { storage: '1Gi' } })), '2Gi');
    assert.equal(expansionTarget(claim('1024Mi', { phase: 'Bound', capacity: { storage: '1Gi' } })), undefined, 'the same size written otherwise');
    assert.equal(expansionTarget(claim('1Gi', { phase: 'Bound', capacity: { storage: '2Gi' } })), undefined, 'a request below the capacity shrinks nothing');
  });

  it('leaves claims that are not bound', () => {
    assert.equal(expansionTarget(claim('2Gi', { phase: 'Pending', capacity: { storage: '1Gi' } })), undefined);
    assert.equal(expansionTarget(claim('2Gi', { phase: 'Bound', capacity: { storage: '1Gi' } }, '')), undefined);
  });

  it('finishes an expansion under way at its allocated size, even when the request was lowered since (KEP 1790)', () => {
    const underWay = (state: string) => claim('3Gi', { phase: 'Bound', capacity: { storage: '1Gi' }, allocatedResources: { storage: '5Gi' }, allocatedResourceStatuses: { storage: state } });
    assert.equal(expansionTarget(underWay('ControllerResizeInProgress')), '5Gi');
    assert.equal(expansionTarget(underWay('NodeResizePending')), '5Gi');
    assert.equal(expansionTarget(claim('3Gi', { phase: 'Bound', capacity: { storage: '2Gi' }, allocatedResources: { storage: '2Gi' } })), '3Gi', 'a finished one is history');
  });
});

describe('node agent: Pod addresses', () => {
  it('hands out addresses round-robin after the last one, as host-local IPAM does, not the one just freed', () => {
    assert.equal(roundRobinHost(new Set(), 1), 2, 'the first Pod gets .2 (the gateway is .1)');
    assert.equal(roundRobinHost(new Set([2, 3, 4]), 4), 5);
    assert.equal(roundRobinHost(new Set([2, 4]), 4), 5, '.3 was just freed: the next Pod does not get it');
    assert.equal(roundRobinHost(new Set([254]), 254), 2, 'wraps around after .254');
    assert.equal(roundRobinHost(new Set([2, 3, 254]), 254), 4, 'skips addresses in use after wrapping');
    const full = new Set(Array.from({ length: 253 }, (_, i) => i + 2));
    assert.equal(roundRobinHost(full, 100), undefined, 'none left');
    full.delete(7);
    assert.equal(roundRobinHost(full, 100), 7, 'the only free one, wherever it is');
  });
});
