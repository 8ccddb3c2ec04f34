// CA bundles the administrator pins per listed Vault server (--vault-ca-files address=path). The
// certificate that decides whether a listed Vault is genuine would otherwise come from
// spec.vault.tls.caSecretRef, a Secret in the tenant's namespace: a tenant who can also steer traffic
// for the listed name (DNS, a Service in the path, a compromised proxy) could present its own CA and
// receive the operator's credentials. A pinned CA is used instead of the tenant's, for every call to
// that address. CA certificates are public, so the chart mounts them from a ConfigMap.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { checkAddress } from './settings.ts';
import { ANY_ADDRESS } from './tenancy.ts';

export interface PinnedCAFile {
  /** Origin (scheme://host:port), as in --vault-addresses. */
  address: string;
  path: string;
}

/**
 * Parses the entries of --vault-ca-files ("https://vault.vault.svc:8200=/etc/kmsstack/vault-ca/vault.pem").
 * Each address must be an https origin the operator may contact (`allowed`, --vault-addresses).
 */
export function parsePinnedCAFiles(entries: readonly string[], allowed: readonly string[]): PinnedCAFile[] {
  const seen = new Set<string>();
  return entries.map((entry) => {
    const split = entry.indexOf('=');
    if (split <= 0 || split === entry.length - 1) {
      throw new Error(
        `each entry is address=path, such as https://vault.vault.svc:8200=/etc/kmsstack/vault-ca/vault.pem; got ${
          JSON.stringify(entry)
        }`,
      );
    }
    const address = checkAddress(entry.slice(0, split).trim());
    const path = entry.slice(split + 1).trim();
    if (!address.startsWith('https:')) throw new Error(`${address}: a CA only matters for an https address`);
    if (!path.startsWith('/')) {
      throw new Error(`${address}: the CA file must be an absolute path, got ${JSON.stringify(path)}`);
    }
    if (!allowed.includes(address) && !allowed.includes(ANY_ADDRESS)) {
      throw new Error(`${address} is not in --vault-addresses, so the operator never contacts it; list it there too`);
    }
    if (seen.has(address)) throw new Error(`${address} is given twice`);
    seen.add(address);
    return { address, path };
  });
}

/** Reads and checks the pinned CA files once, at start-up: address -> PEM bundle. */
export function readPinnedCAs(files: readonly PinnedCAFile[]): Map<string, string> {
  const pinned = new Map<string, string>();
  for (const { address, path } of files) {
    let pem: string;
    try {
      pem = readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(
        `the CA file ${path} for ${address} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) throw new Error(`the CA file ${path} for ${address} holds no PEM certificate`);
    for (const block of blocks) {
      try {
        new X509Certificate(block);
      } catch {
        throw new Error(`the CA file ${path} for ${address} holds a certificate that does not parse`);
      }
    }
    pinned.set(address, blocks.join('\n'));
  }
  return pinned;
}
