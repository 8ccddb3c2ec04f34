// Memory and CPU of processes, read from /proc (Linux): VmRSS/VmHWM for memory, utime+stime for
// CPU. CPU seconds per phase tell which process bounds a phase (a process near 1 CPU-second per
// second is saturated: the operator's event loop is single-threaded).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/** VmRSS and VmHWM (peak) in bytes from a /proc/<pid>/status text. Pure. */
export function parseMemory(statusText: string): { rssBytes: number; peakBytes: number } {
  const kib = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(statusText);
    if (!match) throw new Error(`/proc status has no ${field} line`);
    return Number(match[1]) * 1024;
  };
  return { rssBytes: kib('VmRSS'), peakBytes: kib('VmHWM') };
}

/** Fields of /proc/<pid>/stat after the command (which may contain spaces and parentheses). Pure. */
export function parseStat(statText: string): { comm: string; ppid: number; cpuTicks: number } {
  const open = statText.indexOf('(');
  const close = statText.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error('unreadable /proc stat line');
  const rest = statText.slice(close + 2).split(' ');
  // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  return { comm: statText.slice(open + 1, close), ppid: Number(rest[1]),
    cpuTicks: Number(rest[11]) + Number(rest[12]) };
}

export function memoryOf(pid: number): { rssBytes: number; peakBytes: number } {
  return parseMemory(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

export interface RssBreakdown {
  /** The brk heap: the main thread's malloc (OpenSSL, Node's C++ objects; not the JS heap). */
  mallocBytes: number;
  /** Anonymous mappings: the V8 heap (JS objects, code), thread arenas, stacks. */
  anonymousBytes: number;
  /** File-backed: the node binary's pages, shared libraries. */
  fileBytes: number;
}

/** RSS split by kind of mapping, from a /proc/<pid>/smaps text. Pure. */
export function parseSmaps(text: string): RssBreakdown {
  const out: RssBreakdown = { mallocBytes: 0, anonymousBytes: 0, fileBytes: 0 };
  let kind: keyof RssBreakdown = 'anonymousBytes';
  for (const line of text.split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping) {
      const name = mapping[1] ?? '';
      kind = name === '[heap]' ? 'mallocBytes' : name.startsWith('/') ? 'fileBytes' : 'anonymousBytes';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB$/.exec(line);
    if (rss) out[kind] += Number(rss[1]) * 1024;
  }
  return out;
}

export function rssBreakdownOf(pid: number): RssBreakdown {
  return parseSmaps(readFileSync(`/proc/${pid}/smaps`, 'utf8'));
}

/** Open file descriptors (sockets included) of a process. */
export function openDescriptorsOf(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

export function cpuSecondsOf(pid: number): number {
  return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).cpuTicks / clockTicks();
}

/** Child processes of `parent` by command name (the test servers this process started). */
export function childrenByName(parent: number = process.pid): Map<string, number> {
  const found = new Map<string, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = parseStat(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if (stat.ppid === parent) found.set(stat.comm, Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return found;
}

/** CPU seconds used by named processes between start() and the returned function's call. */
export class CpuMeter {
  constructor(private readonly pids: () => Map<string, number>) {}

  start(): () => Record<string, { cpuSeconds: number; utilisation: number }> {
    const began = performance.now();
    const before = new Map<string, number>();
    for (const [name, pid] of this.pids()) before.set(name, safeCpu(pid));
    return () => {
      const wallSeconds = (performance.now() - began) / 1000;
      const result: Record<string, { cpuSeconds: number; utilisation: number }> = {};
      for (const [name, pid] of this.pids()) {
        const used = safeCpu(pid) - (before.get(name) ?? 0);
        result[name] = { cpuSeconds: used, utilisation: wallSeconds > 0 ? used / wallSeconds : 0 };
      }
      return result;
    };
  }
}

function safeCpu(pid: number): number {
  try {
    return cpuSecondsOf(pid);
  } catch {
    return 0;
  }
}
