// Certificates of the test control plane, made with the openssl CLI: a throwaway CA, the API
// server's serving certificate, an admin client certificate in system:masters, and the
// ServiceAccount signing key pair. This is test infrastructure, not the operator's PKI (src/pki).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface ControlPlanePKI {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function issue(dir: string, name: string, subject: string, extensions: string[]): void {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
  openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], dir);
  writeFileSync(join(dir, `${name}.ext`), extensions.join('\n') + '\n');
  openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
      '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`],
    dir,
  );
}

/** A client certificate signed by the control plane's CA (e.g. for the controller-manager and the scheduler). */
export function issueClientCert(pki: ControlPlanePKI, name: string, commonName: string, organization?: string): { cert: string; key: string } {
  const dir = dirname(pki.caCert);
  issue(dir, name, `${organization ? `/O=${organization}` : ''}/CN=${commonName}`, [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=clientAuth',
  ]);
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

/** Writes the control plane's certificates and keys into `dir` and returns their paths. */
export function createControlPlanePKI(dir: string, extraAddresses: string[] = []): ControlPlanePKI {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
  openssl(
    ['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=kmsstack-test-control-plane-ca', '-days', '2', '-sha256',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ca.crt'],
    dir,
  );
  issue(dir, 'apiserver', '/CN=kube-apiserver', [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=IP:127.0.0.1,${extraAddresses.map((a) => `IP:${a},`).join('')}DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc`,
  ]);
  issue(dir, 'admin', '/O=system:masters/CN=kmsstack-test-admin', [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=clientAuth',
  ]);
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'sa.key'], dir);
  openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  const path = (file: string) => join(dir, file);
  return {
    caCert: path('ca.crt'),
    caKey: path('ca.key'),
    serverCert: path('apiserver.crt'),
    serverKey: path('apiserver.key'),
    adminCert: path('admin.crt'),
    adminKey: path('admin.key'),
    serviceAccountKey: path('sa.key'),
    serviceAccountPub: path('sa.pub'),
  };
}

export function readPem(path: string): string {
  return readFileSync(path, 'utf8');
}
