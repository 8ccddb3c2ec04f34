// What the operator trusts in Vault's answers and about Vault servers (issue 17, holes 2, 4 and 5),
// each attack performed by a tenant against the real operator process, API server and Vault:
// - key names from Vault's LIST: a tenant writes, under its own prefix, an entry whose name decodes
//   to "../../<other prefix>/<key>", sets keyDeletionPolicy Delete and deletes its KMSDeployment.
//   Before, the operator pasted the name into its DELETE path with its own broad token and Vault
//   (cleaning the path, redirecting) deleted the other tenant's key. Now names are checked against
//   KES's rules, path segments are encoded and keys are deleted with the deployment's own AppRole.
// - redirects: a listed Vault answers 307 to another origin. Before, the operator re-sent its token
//   (and, for Kubernetes auth, the login body with its ServiceAccount JWT) there; now nothing goes.
// - unlisted servers: with no --vault-addresses, token auth sent the value of any Secret the tenant
//   named to any host; now every Vault must be listed ("*" opts token auth out, single-tenant only).
// - pinned CAs: a listed address served by an impostor whose CA the tenant supplies in
//   spec.vault.tls.caSecretRef. The administrator's --vault-ca-files wins, so the impostor gets nothing.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resources, type KubeObject } from '../../../src/runtime/kube/resources.ts';
import { waitFor } from '../../env/process.ts';
import { selfSignedCertificate } from '../../env/vault.ts';
import { conditionOf, readMarker, waitConverged, writeMarker, type Tracked } from '../../faults/checks.ts';
import { type FaultStack, getDeployment, startFaultStack, vaultDeployment } from '../../faults/stack.ts';
import { kvPrefixOf } from '../../support/kmsdeployment.ts';
import { KesLikeClient, readAppRoleCredentials } from '../vault/fixture.ts';
import { putSecret } from '../../support/kube.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A server that records every request it gets (the place stolen credentials would end up). */
async function listen(server: Server, seen: Seen[], answer: (req: IncomingMessage) => { status: number; headers?: Record<string, string> }): Promise<number> {
  server.on('request', (req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const { status, headers } = answer(req);
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const FAKE_JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6a21zc3RhY2stc3lzdGVtOmttc3N0YWNrLW9wZXJhdG9yIn0.c2lnbmF0dXJl';

describe('Vault trust: listed key names, redirects, listed servers, pinned CAs', { timeout: 300_000 }, () => {
  let stack: FaultStack;
  const servers: Server[] = [];
  /** Where a redirect points, and the unlisted impostor: must never receive anything. */
  const thief: Seen[] = [];
  let thiefAddress: string;
  let redirectorAddress: string;
  /** An https impostor on a listed address, with a certificate of the tenant's own CA. */
  const impostor: Seen[] = [];
  let impostorAddress: string;
  let impostorCa: string;

  before(async () => {
    stack = await startFaultStack();
    const thiefServer = createServer();
    servers.push(thiefServer);
    thiefAddress = `http://127.0.0.1:${await listen(thiefServer, thief, () => ({ status: 200 }))}`;
    const redirector = createServer();
    servers.push(redirector);
    const redirectorSeen: Seen[] = [];
    redirectorAddress = `http://127.0.0.1:${await listen(redirector, redirectorSeen, (req) => ({ status: 307, headers: { Location: `${thiefAddress}${req.url ?? '/'}` } }))}`;

    const tenantDir = join(stack.dir, 'tenant-ca');
    const adminDir = join(stack.dir, 'genuine-ca');
    mkdirSync(tenantDir);
    mkdirSync(adminDir);
    const tenantCert = selfSignedCertificate(tenantDir);
    const genuine = selfSignedCertificate(adminDir);
    impostorCa = readFileSync(tenantCert.cert, 'utf8');
    const tlsServer = createTlsServer({ cert: impostorCa, key: readFileSync(tenantCert.key) });
    servers.push(tlsServer);
    impostorAddress = `https://127.0.0.1:${await listen(tlsServer, impostor, () => ({ status: 200 }))}`;

    for (const namespace of ['team-a', 'team-b', 'team-r', 'team-x']) await stack.prepareNamespace(namespace);
    const jwtPath = join(stack.dir, 'sa-token');
    writeFileSync(jwtPath, FAKE_JWT, { mode: 0o600 });
    const strict = stack.startOperator({
      leaseNamespace: 'team-a', leaseName: 'strict', extraArgs: ['--watch-namespaces', 'team-a,team-b,team-r'],
      env: {
        KMSSTACK_VAULT_ADDRESSES: [stack.vault.address, redirectorAddress, impostorAddress].join(','),
        KMSSTACK_VAULT_CA_FILES: `${impostorAddress}=${genuine.cert}`,
        KMSSTACK_VAULT_TOKEN_PATH: jwtPath,
      },
    });
    // An operator as installed with the defaults: no Vault server listed.
    const defaults = stack.startOperator({ leaseNamespace: 'team-x', leaseName: 'defaults', extraArgs: ['--watch-namespaces', 'team-x'], env: { KMSSTACK_VAULT_ADDRESSES: '' } });
    await Promise.all([strict.waitUntilReconciling(), defaults.waitUntilReconciling()]);
  });

  after(async () => {
    for (const server of servers) server.close();
    await stack?.stop();
  });

  const decided = (namespace: string, name: string) => waitFor(`${namespace}/${name} to be handled`, async () => {
    const condition = conditionOf(await getDeployment(stack, namespace, name), 'VaultConfigured');
    return condition?.status === 'True' || condition?.status === 'False' ? condition : undefined;
  }, 60_000, 200);

  async function warnings(namespace: string, name: string): Promise<KubeObject[]> {
    const events = await stack.kube.list(resources.Event, namespace);
    return events.items.filter((e: KubeObject) => e.type === 'Warning' && (e.regarding as { name?: string } | undefined)?.name === name);
  }

  /** A Vault-mode deployment of `namespace/name` whose spec.vault gets `vault` merged in. */
  function deploymentWith(namespace: string, name: string, vault: Record<string, unknown>): KubeObject {
    const obj = vaultDeployment(stack, namespace, name);
    Object.assign((obj.spec as { vault: Record<string, unknown> }).vault, vault);
    return obj;
  }

  it('an entry named to climb into another prefix is skipped and reported, and the other tenant\'s key survives the deletion', async () => {
    const attacker: Tracked = { namespace: 'team-a', name: 'store' };
    const victim: Tracked = { namespace: 'team-b', name: 'victim' };
    await stack.kube.create(vaultDeployment(stack, attacker.namespace, attacker.name, { keyDeletionPolicy: 'Delete' }));
    await stack.kube.create(vaultDeployment(stack, victim.namespace, victim.name));
    await waitConverged(stack, [attacker, victim]);
    await writeMarker(stack, victim, 'team-b-master-key');

    // With its own AppRole credentials (from its namespace), team-a writes under its own prefix an
    // entry whose name, pasted into a path unencoded, becomes kv/kmsstack/team-a/store/../../team-b/victim/marker.
    const { roleId, secretId } = await readAppRoleCredentials(stack.kube, attacker.namespace, attacker.name);
    const kes = await KesLikeClient.login(stack.vault, roleId, secretId, 'kv', 'v1');
    // Vault's storage refuses a literal "..", but not "%2e%2e"; node-vault turns "&#x2F;" into "/"
    // and URL parsing then reads "%2e%2e" segments as "..".
    const climbing = '%2e%2e&#x2F;%2e%2e&#x2F;team-b&#x2F;victim&#x2F;marker';
    await kes.create(`${kvPrefixOf(attacker.namespace, attacker.name)}/${encodeURIComponent(climbing)}`, 'bait');
    await kes.create(`${kvPrefixOf(attacker.namespace, attacker.name)}/own-key`, 'own');
    assert.deepEqual((await kes.list(kvPrefixOf(attacker.namespace, attacker.name))).sort(), [climbing, 'own-key'], 'Vault lists the entry under the name the attack needs');

    await stack.kube.delete(resources.KMSDeployment, attacker.namespace, attacker.name);
    await waitFor('team-a/store to be deleted', async () => ((await getDeployment(stack, attacker.namespace, attacker.name)) ? undefined : true), 60_000, 200);

    assert.equal(await readMarker(stack, victim), 'team-b-master-key', 'team-b\'s master key survives');
    const skipped = (await warnings(attacker.namespace, attacker.name)).find((e) => e.reason === 'KeysSkipped');
    assert.ok(skipped, 'a Warning event reports the skipped entry');
    assert.match(String(skipped.note), /^1 entry under kv\/kmsstack\/team-a\/store is not named like KES keys and was left in place \("%2e%2e&#x2F;%2e%2e&#x2F;team-b&#x2F;victim&#x2F;marker"\)/);
    assert.equal((await stack.vault.request('GET', `kv/${kvPrefixOf(attacker.namespace, attacker.name)}/own-key`)).status, 404, 'team-a\'s own key is deleted');
    assert.equal(conditionOf(await getDeployment(stack, victim.namespace, victim.name), 'VaultConfigured')?.status, 'True', 'team-b is untouched');
  });

  it('a listed Vault that redirects gets no token and no ServiceAccount JWT carried elsewhere', async () => {
    await stack.kube.create(deploymentWith('team-r', 'via-token', { address: redirectorAddress }));
    await stack.kube.create(deploymentWith('team-r', 'via-kubernetes', { address: redirectorAddress, auth: { kubernetes: { role: 'kmsstack' } } }));
    for (const name of ['via-token', 'via-kubernetes']) {
      const condition = await decided('team-r', name);
      assert.equal(condition.status, 'False');
      assert.equal(condition.reason, 'VaultRedirectRefused', condition.message);
      assert.match(condition.message, /answered 307, a redirect; the operator never follows redirects/);
    }
    assert.deepEqual(thief, [], 'the origin the redirect named received nothing');
  });

  it('with no server listed, token auth to a host of the tenant\'s choice is refused: no Secret value leaves', async () => {
    await putSecret(stack.kube, 'team-x', 'app-db', { password: 'db-password-of-another-app' });
    await stack.kube.create(deploymentWith('team-x', 'exfiltrate', { address: thiefAddress, tls: undefined, auth: { token: { secretRef: { name: 'app-db', key: 'password' } } } }));
    const condition = await decided('team-x', 'exfiltrate');
    assert.equal(condition.reason, 'VaultAddressNotAllowed');
    assert.match(condition.message, /^spec\.vault\.address: "http:\/\/127\.0\.0\.1:\d+" is not a Vault server this operator may contact; its administrator allows: none yet/);
    assert.deepEqual(thief, [], 'the unlisted host received no request, so no Secret value');
  });

  it('a CA the administrator pinned for a listed address wins over the tenant\'s: the impostor gets nothing', async () => {
    await putSecret(stack.kube, 'team-b', 'own-ca', { 'ca.crt': impostorCa });
    await stack.kube.create(deploymentWith('team-b', 'impostor', { address: impostorAddress, tls: { caSecretRef: { name: 'own-ca' } } }));
    const condition = await decided('team-b', 'impostor');
    assert.equal(condition.status, 'False');
    assert.equal(condition.reason, 'Unreachable', condition.message);
    assert.match(condition.message, /TLS verification of the Vault server failed/);
    assert.deepEqual(impostor, [], 'the impostor received no request, so no token');
  });
});
