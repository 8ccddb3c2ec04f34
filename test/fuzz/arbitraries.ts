// fast-check generators of KMSDeployments for the fuzz test: valid ones (every field the API has,
// within its rules, including pass-through pod settings the API server does not check), and invalid
// ones made by breaking exactly one rule of a valid one. Each invalid sample knows, by construction,
// the field path an error must name and the layer that must catch it (as the fixtures of
// test/fixtures/invalid record it): the schema or a CEL rule (admission), or the operator (SpecValid).
import fc from 'fast-check';

export type Layer = 'schema' | 'cel' | 'unknownField' | 'operator';
export type Spec = Record<string, unknown> & { mode?: string };

export interface Sample {
  name: string;
  spec: Spec;
  /** Undefined for a valid sample. */
  invalid?: { rule: string; path: string; layer: Layer };
}

const segment = fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,11}$/);
const vaultPath = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
const keyName = fc.stringMatching(/^[A-Za-z0-9]([A-Za-z0-9_-]{0,14}[A-Za-z0-9_])?$/);
const dnsName = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?$/);
const seconds = (min: number, max: number) => fc.integer({ min, max });
/** A duration of `s` seconds written in a random unit mix that means exactly that. */
const duration = (s: number) => fc.constantFrom(`${s}s`, ...(s % 60 === 0 ? [`${s / 60}m`] : []), ...(s % 3600 === 0 ? [`${s / 3600}h`] : []), ...(s >= 3600 ? [`${Math.floor(s / 3600)}h${s % 3600}s`] : []));
/** Two durations, the first strictly shorter. */
const ordered = (min: number, max: number) => fc.tuple(seconds(min, max), seconds(1, max)).chain(([a, d]) => fc.tuple(duration(a), duration(a + d)));
/** A quantity-like value or arbitrary JSON: the API server keeps these objects as they are. */
const passThroughJson = fc.oneof(
  fc.record({ requests: fc.record({ cpu: fc.constantFrom('100m', '1', '250m'), memory: fc.constantFrom('64Mi', '1Gi') }) }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
);
const podAnnotations = fc.dictionary(
  fc.oneof(fc.stringMatching(/^[a-z0-9]([a-z0-9.-]{0,10}[a-z0-9])?\/[a-z]{1,10}$/), fc.string({ maxLength: 12 })),
  fc.string({ maxLength: 40, unit: 'grapheme' }),
  { maxKeys: 3 },
);
/** MinIO layouts the operator accepts (one server, or erasure sets of 2-16 drives spread evenly). */
const goodLayout = fc.constantFrom([1, 1], [1, 3], [2, 2], [2, 4], [4, 1], [4, 2], [3, 2], [8, 1], [16, 1]);

function vaultSpec(closedPort: number) {
  return fc.record({
    address: fc.constantFrom(`http://127.0.0.1:${closedPort}`, `https://127.0.0.1:${closedPort}/`),
    namespace: fc.option(fc.array(fc.stringMatching(/^[A-Za-z0-9_.-]{1,8}$/), { minLength: 1, maxLength: 2 }).map((p) => p.join('/')), { nil: undefined }),
    auth: fc.oneof(
      fc.record({ token: fc.record({ secretRef: fc.record({ name: dnsName, key: fc.option(fc.stringMatching(/^[-._a-zA-Z0-9]{1,12}$/), { nil: undefined }) }) }) }),
      fc.record({ kubernetes: fc.record({ role: fc.stringMatching(/^[A-Za-z0-9_.-]{1,16}$/), mountPath: fc.option(vaultPath, { nil: undefined }) }) }),
    ),
    kv: fc.record({ mountPath: fc.option(vaultPath, { nil: undefined }), version: fc.constantFrom('v1', 'v2'), prefix: vaultPath, create: fc.boolean() }),
    appRole: fc.tuple(ordered(60, 7200), ordered(60, 86_400)).map(([[tokenTTL, tokenMaxTTL], [secretIDRenewBefore, secretIDTTL]]) => ({ tokenTTL, tokenMaxTTL, secretIDRenewBefore, secretIDTTL })),
  }, { requiredKeys: ['address', 'auth', 'kv', 'appRole'] });
}

function minioSpec(keyNames: string[]) {
  return fc.record({
    keyName: fc.constantFrom(...keyNames),
    storage: fc.record({ size: fc.constantFrom('1Gi', '500Mi', '10Gi', '1.5Ti') }),
    autoEncryption: fc.boolean(),
    resources: passThroughJson,
    podAnnotations,
    nodeSelector: fc.dictionary(fc.stringMatching(/^[a-z]{1,10}$/), fc.stringMatching(/^[a-z0-9]{0,10}$/), { maxKeys: 2 }),
  }, { requiredKeys: ['keyName'] });
}

/** Valid specs of both modes. `closedPort` is a loopback port nothing listens on (Vault is unreachable). */
export function validSpec(closedPort: number): fc.Arbitrary<Spec> {
  const keys = fc.uniqueArray(keyName, { minLength: 1, maxLength: 4, comparator: (a, b) => a === b });
  const tls = ordered(3600, 100_000).map(([renewBefore, validity]) => ({ renewBefore, validity }));
  const vaultMode = fc.tuple(keys, vaultSpec(closedPort), goodLayout, fc.integer({ min: 1, max: 10 }), fc.option(tls, { nil: undefined }), fc.constantFrom('Retain', 'Delete'))
    .chain(([names, vault, [replicas, drives], kesReplicas, tlsSpec, policy]) =>
      minioSpec(names).map((minio) => ({
        vault,
        kes: { replicas: kesReplicas, keys: names.map((name) => ({ name })), podAnnotations: {} },
        minio: { ...minio, replicas, drivesPerServer: drives },
        ...(tlsSpec ? { tls: tlsSpec } : {}),
        keyDeletionPolicy: policy,
      })));
  const staticMode = fc.tuple(keyName, goodLayout).chain(([name, [replicas, drives]]) =>
    minioSpec([name]).map((minio) => ({ mode: 'StaticKey', minio: { ...minio, replicas, drivesPerServer: drives } })));
  return fc.oneof(vaultMode, staticMode).map((spec) => JSON.parse(JSON.stringify(spec)) as Spec);
}

type Mutation = { rule: string; layer: Layer; applies: (spec: Spec) => boolean; apply: (spec: Spec) => fc.Arbitrary<{ spec: Spec; path: string }> };

const at = (spec: Spec, ...keys: string[]): Record<string, unknown> => keys.reduce((obj, key) => (obj[key] ??= {}) as Record<string, unknown>, spec as Record<string, unknown>);
const isVault = (spec: Spec) => spec.mode !== 'StaticKey';
const change = (spec: Spec, edit: (copy: Spec) => string) => {
  const copy = JSON.parse(JSON.stringify(spec)) as Spec;
  return { spec: copy, path: edit(copy) };
};

/** One rule broken per mutation; the path is the one the error must name. */
export const mutations: Mutation[] = [
  { rule: 'KV prefix with ".." segment', layer: 'schema', applies: isVault, apply: (s) => vaultPath.map((p) => change(s, (c) => { at(c, 'vault', 'kv').prefix = `${p}/../x`; return 'spec.vault.kv.prefix'; })) },
  { rule: 'unknown KV version', layer: 'schema', applies: isVault, apply: (s) => fc.stringMatching(/^[a-z0-9]{1,4}$/).filter((v) => v !== 'v1' && v !== 'v2').map((v) => change(s, (c) => { at(c, 'vault', 'kv').version = v; return 'spec.vault.kv.version'; })) },
  { rule: 'duration not in Go syntax', layer: 'schema', applies: isVault, apply: (s) => fc.constantFrom('1d', '1.5h', 'PT5M', '5 m', 'forever').map((v) => change(s, (c) => { at(c, 'vault', 'appRole').secretIDTTL = v; return 'spec.vault.appRole.secretIDTTL'; })) },
  { rule: 'tokenTTL above tokenMaxTTL', layer: 'cel', applies: isVault, apply: (s) => ordered(60, 3600).map(([short, long]) => change(s, (c) => { Object.assign(at(c, 'vault', 'appRole'), { tokenTTL: long, tokenMaxTTL: short }); return 'spec.vault.appRole.tokenTTL'; })) },
  { rule: 'secretIDRenewBefore not below secretIDTTL', layer: 'cel', applies: isVault, apply: (s) => ordered(60, 3600).map(([short, long]) => change(s, (c) => { Object.assign(at(c, 'vault', 'appRole'), { secretIDTTL: short, secretIDRenewBefore: long }); return 'spec.vault.appRole.secretIDRenewBefore'; })) },
  { rule: 'KES replicas out of 1-10', layer: 'schema', applies: isVault, apply: (s) => fc.oneof(fc.integer({ min: -5, max: 0 }), fc.integer({ min: 11, max: 10_000 })).map((n) => change(s, (c) => { at(c, 'kes').replicas = n; return 'spec.kes.replicas'; })) },
  { rule: 'key name with "."', layer: 'schema', applies: isVault, apply: (s) => fc.tuple(keyName, keyName).map(([a, b]) => change(s, (c) => { const keys = at(c, 'kes').keys as { name: string }[]; keys.push({ name: `${a}.${b}` }); return `spec.kes.keys[${keys.length - 1}].name`; })) },
  { rule: 'duplicate key name', layer: 'schema', applies: isVault, apply: (s) => fc.constant(change(s, (c) => { const keys = at(c, 'kes').keys as { name: string }[]; keys.push({ ...(keys[0] as { name: string }) }); return `spec.kes.keys[${keys.length - 1}]`; })) },
  { rule: 'minio.keyName not in kes.keys', layer: 'cel', applies: isVault, apply: (s) => keyName.filter((k) => !(at(s, 'kes').keys as { name: string }[]).some((x) => x.name === k)).map((k) => change(s, (c) => { at(c, 'minio').keyName = k; return 'spec.minio.keyName'; })) },
  { rule: 'two Vault auth methods', layer: 'cel', applies: isVault, apply: (s) => fc.constant(change(s, (c) => { Object.assign(at(c, 'vault', 'auth'), { token: { secretRef: { name: 't' } }, kubernetes: { role: 'r' } }); return 'spec.vault.auth'; })) },
  { rule: 'no Vault auth method', layer: 'cel', applies: isVault, apply: (s) => fc.constant(change(s, (c) => { at(c, 'vault').auth = {}; return 'spec.vault.auth'; })) },
  { rule: 'vault set in StaticKey mode', layer: 'cel', applies: (s) => !isVault(s), apply: (s) => fc.constant(change(s, (c) => { c.vault = { address: 'https://vault:8200', auth: { kubernetes: { role: 'r' } }, kv: { prefix: 'p' } }; return 'spec.vault'; })) },
  { rule: 'Vault address not an http(s) URL', layer: 'schema', applies: isVault, apply: (s) => fc.constantFrom('vault:8200', 'ftp://vault', 'https://user@vault:8200', 'https://vault:8200/?x=1', '').map((v) => change(s, (c) => { at(c, 'vault').address = v; return 'spec.vault.address'; })) },
  { rule: 'unknown keyDeletionPolicy', layer: 'schema', applies: () => true, apply: (s) => fc.string({ minLength: 1, maxLength: 10 }).filter((v) => v !== 'Retain' && v !== 'Delete').map((v) => change(s, (c) => { c.keyDeletionPolicy = v; return 'spec.keyDeletionPolicy'; })) },
  { rule: 'MinIO layout without equal erasure sets', layer: 'operator', applies: () => true, apply: (s) => fc.constantFrom([2, 1], [3, 1], [17, 1], [17, 2]).map(([r, d]) => change(s, (c) => { Object.assign(at(c, 'minio'), { replicas: r, drivesPerServer: d }); return 'spec.minio.replicas'; })) },
  { rule: 'unknown field', layer: 'unknownField', applies: () => true, apply: (s) => fc.constantFrom('autoEncrypt', 'replica', 'keyname', 'storageSize').map((f) => change(s, (c) => { at(c, 'minio')[f] = true; return `spec.minio.${f}`; })) },
  { rule: 'tls.renewBefore not below validity', layer: 'cel', applies: () => true, apply: (s) => ordered(3600, 100_000).map(([short, long]) => change(s, (c) => { c.tls = { validity: short, renewBefore: long }; return 'spec.tls.renewBefore'; })) },
  { rule: 'storage size not a quantity', layer: 'schema', applies: () => true, apply: (s) => fc.constantFrom('10 GB', '1gi', 'lots', '-1Gi').map((v) => change(s, (c) => { at(c, 'minio', 'storage').size = v; return 'spec.minio.storage.size'; })) },
  { rule: 'KES image not a reference', layer: 'schema', applies: isVault, apply: (s) => fc.constantFrom('Minio/KES:latest', 'kes image', 'kes:tag@sha256:xyz').map((v) => change(s, (c) => { at(c, 'kes').image = v; return 'spec.kes.image'; })) },
  { rule: 'Vault namespace with a leading "/"', layer: 'schema', applies: isVault, apply: (s) => fc.stringMatching(/^[a-z]{1,6}$/).map((v) => change(s, (c) => { at(c, 'vault').namespace = `/${v}`; return 'spec.vault.namespace'; })) },
];

let counter = 0;

/** Valid samples (40 %) and invalid ones, each breaking one rule (60 %, one in six of them by the object's name). */
export function sample(closedPort: number): fc.Arbitrary<Sample> {
  const valid = validSpec(closedPort);
  const invalid = valid.chain((spec) => {
    const usable = mutations.filter((m) => m.applies(spec));
    return fc.constantFrom(...usable).chain((m) => m.apply(spec).map(({ spec: broken, path }) => ({ spec: broken, invalid: { rule: m.rule, path, layer: m.layer } })));
  });
  const longName = fc.integer({ min: 41, max: 63 }).map((n) => `n${'x'.repeat(n - 1)}`);
  const named = (spec: Spec, invalid?: Sample['invalid'], name?: string): Sample => ({ name: name ?? `fz-${++counter}`, spec, ...(invalid ? { invalid } : {}) });
  return fc.oneof(
    { arbitrary: valid.map((spec) => named(spec)), weight: 4 },
    { arbitrary: invalid.map((s) => named(s.spec, s.invalid)), weight: 5 },
    { arbitrary: fc.tuple(valid, longName).map(([spec, name]) => named(spec, { rule: 'name too long for the children', path: 'metadata.name', layer: 'schema' }, name)), weight: 1 },
  );
}
