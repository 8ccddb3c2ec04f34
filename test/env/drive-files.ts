/** Reading MinIO's drives from the outside, as a test checks what reached the disk. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every file under `dir` (the node agent's PV directories: MinIO's drives). MinIO keeps writing while we walk
 * (its writable checks and trash come and go in `.minio.sys/tmp`), so an entry that is gone by the time we
 * reach it is skipped, not an error.
 */
export function filesUnder(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if (isGone(error)) return [];
    throw error;
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return entry.isFile() ? [path] : [];
  });
}

function isGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The `files` (from filesUnder) that hold `needle` (plaintext must never reach a drive); a file gone meanwhile holds nothing. */
export function filesContaining(files: readonly string[], needle: Buffer): string[] {
  return files.filter((path) => {
    try {
      return readFileSync(path).includes(needle);
    } catch (error) {
      if (isGone(error)) return false;
      throw error;
    }
  });
}
