// Golden-file assertions: the rendered value is compared with test/golden/<name>.
// Run with UPDATE_GOLDEN=1 to (re)write the files after an intended change, then review the diff.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as yaml from 'js-yaml';

const goldenRoot = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden');

/** Compares `actual` (a string, or any value serialized as YAML) with the golden file `name`. */
export function assertGolden(name: string, actual: unknown): void {
  const text = typeof actual === 'string' ? actual : yaml.dump(actual, { noRefs: true, lineWidth: 120, sortKeys: false });
  const file = join(goldenRoot, name);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    return;
  }
  assert.ok(existsSync(file), `golden file ${file} is missing: run the test with UPDATE_GOLDEN=1 and review it`);
  assert.equal(text, readFileSync(file, 'utf8'), `${name} differs from its golden file (UPDATE_GOLDEN=1 rewrites it)`);
}
