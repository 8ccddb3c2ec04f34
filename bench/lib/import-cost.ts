// What the operator's idle memory is made of: the RSS of a fresh Node process that only imports
// one of the operator's runtime dependencies, against a process that imports nothing. Loading
// code is most of an idle operator's RSS, so this shows which dependency bounds the idle target.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../test/env/process.ts';

/** Some packages need another imported first (x509 needs the reflect-metadata polyfill). */
const PRELUDE: Record<string, string[]> = { '@peculiar/x509': ['reflect-metadata'] };

function rssAfterImports(specifiers: readonly string[]): number {
  const script = `${specifiers.map((s) => `await import(${JSON.stringify(s)});`).join(' ')}
    await new Promise((resolve) => setTimeout(resolve, 300));
    const status = (await import('node:fs')).readFileSync('/proc/self/status', 'utf8');
    process.stdout.write(/VmRSS:\\s+(\\d+)/.exec(status)[1]);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot,
    encoding: 'utf8' });
  return Number(out) * 1024;
}

export interface ImportCost {
  module: string;
  rssBytes: number;
  addedBytes: number;
}

/** RSS of a bare process, then of one importing each runtime dependency (package.json "dependencies"). */
export function importCosts(): ImportCost[] {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const bare = rssAfterImports([]);
  const costs: ImportCost[] = [{ module: '(node alone)', rssBytes: bare, addedBytes: 0 }];
  for (const name of Object.keys(pkg.dependencies ?? {})) {
    const rss = rssAfterImports([...(PRELUDE[name] ?? []), name]);
    costs.push({ module: name, rssBytes: rss, addedBytes: rss - bare });
  }
  return costs.sort((a, b) => b.addedBytes - a.addedBytes);
}

export function importCostTable(costs: readonly ImportCost[]): string {
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return ['| imported alone in a fresh process | RSS | added to bare Node |', '|---|---|---|',
    ...costs.map((c) =>
      `| ${c.module} | ${mib(c.rssBytes)} | ${c.module.startsWith('(') ? '' : `+${mib(c.addedBytes)}`} |`
    )].join('\n');
}
