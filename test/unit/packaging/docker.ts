// Reads the Dockerfile and .dockerignore for the packaging tests. There is no Docker engine on the
// test machines, so the image is checked by construction: these helpers parse the two files (only the
// plain forms the project uses; anything else fails loudly rather than being misread).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './helm.ts';

export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

export interface Dockerfile {
  args: Map<string, string>;
  stages: Stage[];
}

export function readDockerfile(path = join(repoRoot, 'Dockerfile')): Dockerfile {
  const logical = readFileSync(path, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of logical) {
    const match = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match) throw new Error(`Dockerfile line not understood: ${line}`);
    const keyword = (match[1] as string).toUpperCase();
    const rest = (match[2] as string).trim();
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!from) throw new Error(`FROM not understood: ${line}`);
      stages.push({ from: expand(from[1] as string, args), name: from[2], instructions: [] });
    } else if (keyword === 'ARG' && stages.length === 0) {
      const [name, value = ''] = rest.split('=', 2);
      args.set(name as string, value);
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${keyword} before the first FROM`);
      stage.instructions.push({ keyword, args: rest });
    }
  }
  return { args, stages };
}

function expand(text: string, args: Map<string, string>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare) as string;
    const value = args.get(name);
    if (value === undefined) throw new Error(`Dockerfile uses undeclared ARG ${name}`);
    return value;
  });
}

/** The .dockerignore patterns; only root-anchored names and single-segment globs are supported. */
export function readDockerignore(path = join(repoRoot, '.dockerignore')): string[] {
  const patterns = readFileSync(path, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  for (const pattern of patterns) {
    if (/[/!?[\]]|\*\*/.test(pattern)) throw new Error(`.dockerignore pattern ${pattern} is beyond what the packaging tests understand`);
  }
  return patterns;
}

/** Whether Docker leaves `path` (relative, '/'-separated) out of the build context. */
export function isIgnored(path: string, patterns: readonly string[]): boolean {
  const top = path.split('/')[0] as string;
  return patterns.some((pattern) => new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`).test(top));
}
