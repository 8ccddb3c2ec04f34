import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  certificateChecksum,
  keyMatchesCertificate,
  renderPkiSecrets,
  secretsChecksum,
  type PkiMaterial,
} from '../../../src/pki/index.ts';
import { decodeSecretData, encodeSecretData as toSecretData } from '../../../src/runtime/kube/secret-data.ts';
import { T0, at, day, names, reconcile, type SecretStore } from './support.ts';

describe('PKI Secrets', () => {
  let material: PkiMaterial;
  let store: SecretStore;
  before(async () => {
    const first = await reconcile({ ca: undefined, leaves: {} }, { now: T0 });
    material = first.material as PkiMaterial;
    store = first.store;
  });

  it('renders the CA Secret and three kubernetes.io/tls leaf Secrets with the trust bundle as ca.crt', () => {
    const rendered = renderPkiSecrets(material, names);
    assert.equal(rendered.ca?.name, 'tenant-a-ca');
    assert.deepEqual(
      [rendered.leaves.kesServer?.name, rendered.leaves.minioClient?.name, rendered.leaves.operatorClient?.name],
      ['tenant-a-kes-tls', 'tenant-a-minio-kes-identity', 'tenant-a-operator-kes-identity'],
    );
    for (const secret of [rendered.ca!, ...Object.values(rendered.leaves)]) {
      assert.equal(secret.type, 'kubernetes.io/tls');
      assert.deepEqual(Object.keys(secret.stringData).sort(), ['ca.crt', 'tls.crt', 'tls.key']);
      assert.equal(secret.stringData['ca.crt'], material.trustBundlePem);
      assert.ok(keyMatchesCertificate(secret.stringData['tls.key']!, secret.stringData['tls.crt']!), secret.name);
    }
    assert.equal(rendered.ca?.stringData['tls.crt'], material.ca.certPem);
  });

  it('renders no CA Secret when the CA is the user\'s', () => {
    const { keyPem: _dropped, ...userCA } = material.ca;
    assert.equal(renderPkiSecrets({ ...material, ca: userCA }, names).ca, undefined);
  });

  it('encodes data as base64 in key order, and decodes it back', () => {
    const data = toSecretData({ 'tls.key': 'k', 'ca.crt': 'c\n', 'tls.crt': 'é' });
    assert.deepEqual(Object.keys(data), ['ca.crt', 'tls.crt', 'tls.key']);
    assert.deepEqual(data, { 'ca.crt': 'Ywo=', 'tls.crt': 'w6k=', 'tls.key': 'aw==' });
    assert.deepEqual(decodeSecretData(data), { 'ca.crt': 'c\n', 'tls.crt': 'é', 'tls.key': 'k' });
    assert.equal(decodeSecretData(undefined), undefined);
  });

  it('has a checksum that follows certificates and bundle, not keys or order', async () => {
    const sum = certificateChecksum(material);
    assert.match(sum, /^[0-9a-f]{64}$/);
    assert.equal(certificateChecksum(material, ['operatorClient', 'minioClient', 'kesServer']), sum);
    const unchanged = await reconcile(store, { now: at(day) });
    assert.equal(certificateChecksum(unchanged.material as PkiMaterial), sum, 'an unchanged reconcile keeps the checksum');

    const kesOnly = certificateChecksum(material, ['kesServer']);
    assert.notEqual(kesOnly, sum);
    const otherMinio = { ...material, leaves: { ...material.leaves, minioClient: { ...material.leaves.minioClient!, certPem: 'x' } } };
    assert.equal(certificateChecksum(otherMinio, ['kesServer']), kesOnly, 'a MinIO certificate does not roll KES');
    assert.notEqual(certificateChecksum(otherMinio), sum);
    assert.notEqual(certificateChecksum({ ...material, trustBundlePem: `${material.trustBundlePem}x` }, ['kesServer']), kesOnly);
    assert.equal(secretsChecksum(store.leaves), sum, 'the Secrets a material wrote have its checksum');
    assert.equal(secretsChecksum(store.leaves, ['kesServer']), kesOnly);
    assert.notEqual(secretsChecksum({ ...store.leaves, kesServer: undefined }), sum);
    const otherKey = { ...material, leaves: { ...material.leaves, kesServer: { ...material.leaves.kesServer!, keyPem: 'different' } } };
    assert.equal(certificateChecksum(otherKey), sum);
  });
});
