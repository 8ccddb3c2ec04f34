import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ANY_ADDRESS, addressNotAllowed, allowedRoot, describeOverlap, isWithin, normalizeAddress, olderOverlap, parsePrefixTemplate, prefixesOverlap, prefixNotAllowed, sharesPrefix, type KeyLocation } from '../../../src/vault/tenancy.ts';

const teamB = { namespace: 'team-b', name: 'store' };
const kv = (prefix: string) => ({ mountPath: 'kv', version: 'v1' as const, prefix, create: true });

function location(namespace: string, name: string, prefix: string, createdAt: number, extra: Partial<KeyLocation> = {}): KeyLocation {
  return { deployment: { namespace, name }, createdAt, address: 'https://vault:8200', vaultNamespace: undefined, mountPath: 'kv', prefix, ...extra };
}

describe('prefix template', () => {
  it('parses whole-segment placeholders, trims slashes, and "*" switches the rule off', () => {
    assert.deepEqual(parsePrefixTemplate('/kmsstack/{namespace}/'), { kind: 'template', template: 'kmsstack/{namespace}', segments: ['kmsstack', '{namespace}'] });
    assert.deepEqual(parsePrefixTemplate('{namespace}'), { kind: 'template', template: '{namespace}', segments: ['{namespace}'] });
    assert.deepEqual(parsePrefixTemplate(' * '), { kind: 'any' });
  });

  it('refuses templates that cannot separate namespaces or would widen a policy path', () => {
    for (const [text, pattern] of [
      ['minio', /must contain the segment \{namespace\}/],
      ['{name}', /must contain the segment \{namespace\}/],
      ['kv/{namespace}-{name}', /placeholders must be whole segments/],
      ['kv/{tenant}/{namespace}', /only \{namespace\}, \{name\} and \{instance\} exist/],
      ['kv/x{instance}/{namespace}', /placeholders must be whole segments/],
      ['kv*/{namespace}', /no "\*"/],
      ['../{namespace}', /must not contain "\." or "\.\." segments/],
    ] as const) {
      assert.throws(() => parsePrefixTemplate(text), pattern, text);
    }
  });

  it('empty is the default of the instance, and no two instances\' default roots overlap', () => {
    assert.equal(allowedRoot(parsePrefixTemplate(''), teamB), 'kmsstack/team-b');
    assert.equal(allowedRoot(parsePrefixTemplate('', 'default'), teamB), 'kmsstack/team-b');
    const roots = ['default', 'staging', 'prod', 'kmsstack', 'team-b'].flatMap((instance) =>
      ['team-b', 'default', 'staging', 'kmsstack-instances'].map((namespace) => allowedRoot(parsePrefixTemplate('', instance), { namespace, name: 'x' }) as string));
    assert.equal(allowedRoot(parsePrefixTemplate('', 'staging'), teamB), 'kmsstack-instances/staging/team-b');
    for (const a of roots) for (const b of roots) if (a !== b) assert.ok(!prefixesOverlap(a, b), `${a} / ${b}`);
    assert.equal(allowedRoot(parsePrefixTemplate('t/{instance}/{namespace}', 'prod'), teamB), 't/prod/team-b');
  });

  it('expands to the root a deployment may use', () => {
    assert.equal(allowedRoot(parsePrefixTemplate('kmsstack/{namespace}'), teamB), 'kmsstack/team-b');
    assert.equal(allowedRoot(parsePrefixTemplate('t/{namespace}/{name}'), teamB), 't/team-b/store');
    assert.equal(allowedRoot(parsePrefixTemplate('*'), teamB), undefined);
  });
});

describe('prefixNotAllowed', () => {
  const rule = parsePrefixTemplate('kmsstack/{namespace}');

  it('allows the root and paths below it, by whole segments', () => {
    for (const prefix of ['kmsstack/team-b', 'kmsstack/team-b/store', 'kmsstack/team-b/a/b']) {
      assert.equal(prefixNotAllowed(rule, { deployment: teamB, kv: kv(prefix) }), undefined, prefix);
    }
  });

  it('refuses another namespace\'s prefix, a sibling sharing the first characters, and the parent, naming the field', () => {
    for (const prefix of ['kmsstack/team-a', 'kmsstack/team-a/store', 'kmsstack/team-bx', 'kmsstack', 'minio/team-b']) {
      const message = prefixNotAllowed(rule, { deployment: teamB, kv: kv(prefix) });
      assert.ok(message, `${prefix} must be refused`);
      assert.match(message, new RegExp(`^spec\\.vault\\.kv\\.prefix: "${prefix}" is outside "kmsstack/team-b"`));
      assert.match(message, /--kv-prefix-template "kmsstack\/\{namespace\}"/);
    }
  });

  it('allows anything with "*"', () => {
    assert.equal(prefixNotAllowed(parsePrefixTemplate('*'), { deployment: teamB, kv: kv('kmsstack/team-a') }), undefined);
  });
});

describe('one owner per prefix compares locations, not spellings', () => {
  const owner = location('team-a', 'store', 'kmsstack/team-a', 1000);

  it('normalizes scheme and host case, default ports, trailing slash and a trailing dot', () => {
    assert.equal(normalizeAddress('HTTPS://Vault.Example.:443/'), 'https://vault.example');
    assert.equal(normalizeAddress('https://vault:8200'), 'https://vault:8200');
    for (const address of ['HTTPS://VAULT:8200', 'https://vault.:8200/', 'https://vault:08200']) {
      const young = location('team-b', 'copy', 'kmsstack/team-a', 2000, { address });
      assert.equal(olderOverlap(young, [owner, young]), owner, address);
    }
    assert.equal(olderOverlap(location('team-b', 'copy', 'kmsstack/team-a', 2000, { address: 'https://other:8200' }), [owner]), undefined);
  });

  it('a Vault namespace written into the mount path is the same place', () => {
    const nsOwner = location('team-a', 'store', 'kmsstack/team-a', 1000, { vaultNamespace: 'eng/team', mountPath: 'kv' });
    for (const extra of [{ vaultNamespace: 'eng', mountPath: 'team/kv' }, { vaultNamespace: undefined, mountPath: 'eng/team/kv' }]) {
      const young = location('team-b', 'copy', 'kmsstack/team-a', 2000, extra);
      assert.equal(olderOverlap(young, [nsOwner]), nsOwner, JSON.stringify(extra));
      assert.equal(sharesPrefix(young, [nsOwner]), nsOwner);
    }
    assert.equal(olderOverlap(location('team-b', 'copy', 'kmsstack/team-b', 2000, { vaultNamespace: 'other', mountPath: 'kv' }), [nsOwner]), undefined);
  });

  it('a Vault namespace that the server may ignore (Vault OSS) does not make a prefix another one', () => {
    const young = location('team-b', 'copy', 'kmsstack/team-a', 2000, { vaultNamespace: 'x' });
    assert.equal(olderOverlap(young, [owner, young]), owner);
    assert.equal(sharesPrefix(young, [owner]), owner);
  });
});

describe('prefix overlap between deployments', () => {
  const owner = location('team-a', 'store', 'kmsstack/team-a', 1000);

  it('segment-wise containment', () => {
    const cases: [path: string, root: string, within: boolean][] = [['a/b', 'a', true], ['a', 'a', true], ['a/bc', 'a/b', false], ['a', 'a/b', false]];
    for (const [path, root, within] of cases) assert.equal(isWithin(path, root), within, `${path} within ${root}`);
  });

  it('the older deployment keeps a prefix that equals, contains or lies inside the younger one\'s', () => {
    for (const prefix of ['kmsstack/team-a', 'kmsstack/team-a/x', 'kmsstack']) {
      const young = location('team-a', 'young', prefix, 2000);
      assert.equal(olderOverlap(young, [owner, young]), owner, prefix);
      assert.equal(olderOverlap(owner, [owner, young]), undefined, `the older one is never refused (${prefix})`);
    }
  });

  it('equal creation times fall back to namespace/name, so exactly one of two keeps the prefix', () => {
    const a = location('ns', 'a', 'p', 5);
    const b = location('ns', 'b', 'p', 5);
    assert.equal(olderOverlap(a, [a, b]), undefined);
    assert.equal(olderOverlap(b, [a, b]), a);
  });

  it('prefixes on another mount or server do not overlap (another Vault namespace may: see above)', () => {
    const young = location('team-a', 'young', 'kmsstack/team-a', 2000);
    for (const other of [{ mountPath: 'kv2' }, { address: 'https://other:8200' }]) {
      assert.equal(olderOverlap(young, [{ ...owner, ...other }]), undefined, JSON.stringify(other));
    }
    assert.equal(olderOverlap(location('team-a', 'young', 'kmsstack/team-ab', 2000), [owner]), undefined, 'a sibling sharing the first characters');
  });

  it('describes the overlap with both paths and the owner', () => {
    assert.match(describeOverlap(location('team-a', 'young', 'kmsstack/team-a', 2), owner), /^spec\.vault\.kv\.prefix: "kv\/kmsstack\/team-a" is already used by KMSDeployment team-a\/store \("kv\/kmsstack\/team-a", created earlier\)/);
    assert.match(describeOverlap(location('team-a', 'young', 'kmsstack/team-a/x', 2), owner), /lies inside the prefix of KMSDeployment team-a\/store/);
    assert.match(describeOverlap(location('team-a', 'young', 'kmsstack', 2), owner), /contains the prefix of KMSDeployment team-a\/store/);
  });

  it('sharesPrefix finds only an exact match, whatever the age', () => {
    const same = location('team-a', 'young', 'kmsstack/team-a', 2000);
    assert.equal(sharesPrefix(owner, [owner, same]), same);
    assert.equal(sharesPrefix(owner, [owner, location('team-a', 'x', 'kmsstack/team-a/x', 3000)]), undefined);
  });
});

describe('addressNotAllowed', () => {
  const kubernetes = { method: 'kubernetes' as const, role: 'kmsstack-operator', mountPath: 'kubernetes' };
  const token = { method: 'token' as const, secretName: 'vault-token', secretKey: 'token' };
  const listed = ['https://vault.vault.svc:8200'];

  it('Kubernetes auth only to a listed server: the operator\'s own ServiceAccount token is at stake', () => {
    assert.equal(addressNotAllowed(listed, { address: 'https://vault.vault.svc:8200', auth: kubernetes }), undefined);
    assert.match(addressNotAllowed(listed, { address: 'https://evil.example:8200', auth: kubernetes }) ?? '', /^spec\.vault\.address: "https:\/\/evil\.example:8200" is not a Vault server this operator sends its own ServiceAccount token to .*allows: https:\/\/vault\.vault\.svc:8200 \(operator setting --vault-addresses\)/);
    assert.match(addressNotAllowed([], { address: 'https://vault.vault.svc:8200', auth: kubernetes }) ?? '', /allows: none yet/);
  });

  it('token auth only to a listed server too: the token is a Secret\'s value the tenant chose', () => {
    assert.equal(addressNotAllowed(listed, { address: 'https://vault.vault.svc:8200', auth: token }), undefined);
    assert.match(addressNotAllowed([], { address: 'https://anywhere:8200', auth: token }) ?? '', /^spec\.vault\.address: "https:\/\/anywhere:8200" is not a Vault server this operator may contact; its administrator allows: none yet/);
    assert.match(addressNotAllowed(listed, { address: 'https://anywhere:8200', auth: token }) ?? '', /^spec\.vault\.address: "https:\/\/anywhere:8200" is not a Vault server this operator may contact/);
  });

  it('"*" lets token auth use any server, but never sends the operator\'s ServiceAccount token to an unnamed one', () => {
    assert.equal(addressNotAllowed([ANY_ADDRESS], { address: 'https://anywhere:8200', auth: token }), undefined);
    assert.match(addressNotAllowed([ANY_ADDRESS], { address: 'https://anywhere:8200', auth: kubernetes }) ?? '', /sends its own ServiceAccount token to .*allows: none yet/);
    assert.equal(addressNotAllowed([ANY_ADDRESS, ...listed], { address: 'https://vault.vault.svc:8200', auth: kubernetes }), undefined);
    assert.match(addressNotAllowed([ANY_ADDRESS, ...listed], { address: 'https://anywhere:8200', auth: kubernetes }) ?? '', /allows: https:\/\/vault\.vault\.svc:8200 \(/);
  });
});
