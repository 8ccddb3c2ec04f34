// Reads the YAML manifests the API tests check (examples and invalid fixtures).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { repoRoot } from '../../hack/gen.ts';

export { repoRoot };

export interface Manifest {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec?: unknown;
}

export function loadManifests(relativePath: string): Manifest[] {
  return loadAll(readFileSync(join(repoRoot, relativePath), 'utf8')) as Manifest[];
}

export function yamlFilesIn(relativeDir: string): string[] {
  return readdirSync(join(repoRoot, relativeDir))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => join(relativeDir, f));
}
