// Where the tests find the real `kes` and `minio` programs. They are AGPL programs this project never
// builds or fetches: the tests only look them up — KMSSTACK_KES_BIN / KMSSTACK_MINIO_BIN, then PATH,
// then the test-binary cache (<cache>/kes, else <cache>/kes-<version>/kes; the same for minio) — and skip,
// saying so in one line, when a program is absent (docs/testing.md).
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

export const PINNED = { kes: '2025-03-12T09-35-18Z', minio: 'RELEASE.2025-09-07T16-13-09Z' } as const;
type Program = keyof typeof PINNED;

const envVar: Record<Program, string> = { kes: 'KMSSTACK_KES_BIN', minio: 'KMSSTACK_MINIO_BIN' };

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The path of `program`, or undefined when none of the places has it. */
export function findProgram(program: Program): string | undefined {
  const explicit = process.env[envVar[program]];
  if (explicit) return executable(explicit) ? explicit : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    if (executable(join(dir, program))) return join(dir, program);
  }
  const cache = process.env.KMSSTACK_TESTBIN_DIR ?? join(homedir(), '.cache', 'kmsstack', 'bin');
  return [join(cache, program), join(cache, `${program}-${PINNED[program]}`, program)].find(executable);
}

/** The path of `program`; throws (for a test that cannot run without it) when it is not installed. */
export function requireProgram(program: Program): string {
  const binary = findProgram(program);
  if (!binary) throw new Error(`no ${program} program: see test/env/programs.ts`);
  return binary;
}

/** The one-line reason a test that needs `program` is skipped, or false when it can run. */
export function missingProgram(program: Program): string | false {
  if (findProgram(program)) return false;
  return `skipped: no ${program} program (set ${envVar[program]}, put ${program} on PATH, or install the ${program} ${PINNED[program]} release binary; docs/testing.md)`;
}
