// Vault's file audit device, read as it grows (the test Vault's auditedWrites() re-reads the whole
// file on every call, which at 500 KMSDeployments costs the benchmark more CPU than it measures).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TestVault } from '../../test/env/vault.ts';
import { JsonLinesTail } from './kube-audit.ts';

export interface VaultRequest {
  operation: string;
  path: string;
}

/** A request record of the audit log; undefined for responses and Vault's own test record. Pure. */
export function parseVaultAuditLine(line: string): VaultRequest | undefined {
  if (!line.trim()) return undefined;
  const record = JSON.parse(line) as { type?: string; request?: { operation?: string; path?: string } };
  if (record.type !== 'request' || record.request?.path === 'sys/audit/test') return undefined;
  return { operation: record.request?.operation ?? '', path: record.request?.path ?? '' };
}

export function isVaultWrite(request: VaultRequest): boolean {
  return request.operation !== 'read' && request.operation !== 'list';
}

/** The audit file test/env/vault.ts enables (audit.log beside vault.log), after enableAudit(). */
export function vaultAuditLog(vault: TestVault): JsonLinesTail<VaultRequest> {
  const path = join(dirname(vault.logFile), 'audit.log');
  if (!existsSync(path)) throw new Error(`no Vault audit log at ${path}: has test/env/vault.ts moved it?`);
  return new JsonLinesTail(path, parseVaultAuditLine);
}
