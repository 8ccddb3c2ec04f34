// `npm run demo -- --check` (test/tools/demo.ts) names a missing kes or minio program and every way to provide
// it, and starts nothing; the demo itself runs the e2e set-up (test/env/e2e-stack.ts) that
// test/integration/cluster/e2e.test.ts covers.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../../env/process.ts';

const execFileAsync = promisify(execFile);

async function demoCheck(env: Record<string, string>): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/tools/demo.ts'), '--check'], {
      cwd: repoRoot, env: { ...process.env, ...env }, timeout: 60_000,
    });
    return { code: 0, stdout };
  } catch (err) {
    const failure = err as { code?: number; stdout?: string };
    if (typeof failure.code !== 'number') throw err;
    return { code: failure.code, stdout: failure.stdout ?? '' };
  }
}

describe('npm run demo -- --check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmsstack-demo-check-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names the missing kes program, the release it needs and each way to provide it, and fails', async () => {
    const notExecutable = join(dir, 'kes');
    writeFileSync(notExecutable, 'not a program');
    const fakeMinio = join(dir, 'minio');
    writeFileSync(fakeMinio, '#!/bin/sh\n');
    chmodSync(fakeMinio, 0o755);
    const { code, stdout } = await demoCheck({ KMSSTACK_KES_BIN: notExecutable, KMSSTACK_MINIO_BIN: fakeMinio });
    assert.equal(code, 1, stdout);
    const lines = stdout.split('\n').filter((line) => line.startsWith('demo: missing program'));
    assert.equal(lines.length, 1, `one line, for kes only:\n${stdout}`);
    for (const part of [`missing program: kes (KMSSTACK_KES_BIN=${notExecutable} is not an executable file)`, 'kes 2025-03-12T09-35-18Z release binary',
      'KMSSTACK_KES_BIN=/path/to/kes', 'a directory on PATH', '~/.cache/kmsstack/bin/kes', 'docs/testing.md']) {
      assert.ok(lines[0]!.includes(part), `${JSON.stringify(part)} in ${lines[0]}`);
    }
  });

  it('names both programs when both are missing', async () => {
    const { code, stdout } = await demoCheck({ KMSSTACK_KES_BIN: join(dir, 'absent-kes'), KMSSTACK_MINIO_BIN: join(dir, 'absent-minio') });
    assert.equal(code, 1, stdout);
    assert.match(stdout, /^demo: missing program: kes /m);
    assert.match(stdout, /^demo: missing program: minio .*minio RELEASE\.2025-09-07T16-13-09Z release binary.*KMSSTACK_MINIO_BIN=\/path\/to\/minio/m);
  });
});
