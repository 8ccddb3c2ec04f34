// The results as a markdown table (pasted into docs/benchmarks.md between markers) and the write
// breakdowns that show the floor made the same writes as the operator. Pure.
import type { RoundResult } from './round.ts';
import { mebibytes, ratio, seconds } from './stats.ts';
import { OPERATOR_COMMAND } from '../../test/support/operator-command.ts';

export interface Machine {
  cpus: string;
  memory: string;
  node: string;
  os: string;
  servers: string;
}

export interface RunSettings {
  command: string;
  workers: number;
  resyncPeriodMs: number;
  clientConcurrency: number;
  date: string;
}

function perObject(total: number, n: number): string {
  return n > 0 ? (total / n).toFixed(1) : 'n/a';
}

function cpuLine(cpu: Record<string, { utilisation: number }>): string {
  const order = ['operator', 'kube-apiserver', 'etcd', 'vault', 'bench'];
  return order.filter((k) => cpu[k]).map((k) =>
    `${k === 'kube-apiserver' ? 'apiserver' : k} ${(cpu[k] as { utilisation: number }).utilisation.toFixed(2)}`
  ).join(', ');
}

type Row = [label: string, cell: (r: RoundResult) => string, target: string];

const ROWS: Row[] = [
  ['convergence, operator: all N', (r) => seconds(r.operator.totalMs), ''],
  ['convergence, operator: per object p50 / p95',
    (r) => `${seconds(r.operator.latency.p50Ms)} / ${seconds(r.operator.latency.p95Ms)}`, ''],
  ['floor (same writes, plain keep-alive script): all N', (r) => seconds(r.floor.totalMs), ''],
  ['floor: per object p50 / p95', (r) => `${seconds(r.floor.latency.p50Ms)} / ${seconds(r.floor.latency.p95Ms)}`, ''],
  ['**operator / floor**', (r) => `**${ratio(r.operator.totalMs, r.floor.totalMs)}**`, '≤ 1.5 at N = 500'],
  ["same writes through the operator's clients: all N", (r) => seconds(r.floorOperatorClients.totalMs), ''],
  ["operator / same writes through the operator's clients",
    (r) => ratio(r.operator.totalMs, r.floorOperatorClients.totalMs), ''],
  ['writes per object to converge, operator: Kubernetes / Vault',
    (r) => `${perObject(r.operator.writes.kube, r.n)} / ${perObject(r.operator.writes.vault, r.n)}`, ''],
  ['writes per object, floor: Kubernetes / Vault',
    (r) => `${perObject(r.floor.writes.kube, r.n)} / ${perObject(r.floor.writes.vault, r.n)}`, ''],
  ['reconciles to converge (per object)', (r) => `${r.operator.reconciles} (${perObject(r.operator.reconciles, r.n)})`,
    ''],
  ['CPU while converging, CPU-seconds per second', (r) => cpuLine(r.operator.cpu), ''],
  ['CPU of the floor, CPU-seconds per second', (r) => cpuLine(r.floor.cpu), ''],
  ["CPU, same writes through the operator's clients", (r) => cpuLine(r.floorOperatorClients.cpu), ''],
  ['steady state, every object annotated once: reconciles',
    (r) => `${r.steady.reconciles} in ${seconds(r.steady.windowMs)}`, ''],
  ['**steady state: writes Kubernetes / Vault**', (r) => `**${r.steady.writes.kube} / ${r.steady.writes.vault}**`,
    '0 / 0'],
  ['steady state: Lease renewals (leader election)', (r) => String(r.steady.writes.lease), 'one per retry period'],
  ['restart: ready / caught up (all N reconciled once)',
    (r) => `${seconds(r.restart.readyMs)} / ${seconds(r.restart.caughtUpMs)}`, ''],
  ['restart: keys still queued when caught up', (r) => String(r.restart.depthWhenCaughtUp), ''],
  ['**restart: writes Kubernetes / Vault**', (r) => `**${r.restart.writes.kube} / ${r.restart.writes.vault}**`,
    '0 / 0'],
  ['**RSS idle, no KMSDeployment**', (r) => `**${mebibytes(r.idle.rssBytes)}**`, '≤ 80 MB (76.3 MiB)'],
  ['**RSS with N converged** (peak)',
    (r) => `**${mebibytes(r.memory.converged.rssBytes)}** (${mebibytes(r.memory.converged.peakBytes)})`,
    '≤ 150 MB (143.1 MiB) at N = 500'],
  ['of which JS heap used / external; open descriptors',
    (r) =>
      `${mebibytes(r.memory.converged.heapUsedBytes)} / ${
        mebibytes(r.memory.converged.externalBytes)
      }; ${r.memory.converged.openFds}`, ''],
  ['RSS of a restarted operator with N converged', (r) => mebibytes(r.memory.restarted.rssBytes), ''],
  ['burst of N spec changes: all converged again', (r) => seconds(r.throughput.windowMs), ''],
  ['**burst: reconciles per second**',
    (r) => `**${r.throughput.reconcilesPerSecond.toFixed(1)}** (${r.throughput.reconciles} reconciles)`, ''],
  ['CPU during the burst, CPU-seconds per second', (r) => cpuLine(r.throughput.cpu), ''],
];

export function resultsTable(results: readonly RoundResult[]): string {
  const header = `| measure | ${results.map((r) => `N = ${r.n}`).join(' | ')} | target |`;
  const rule = `|---|${results.map(() => '---').join('|')}|---|`;
  const rows = ROWS.map(([label, cell, target]) => `| ${label} | ${results.map(cell).join(' | ')} | ${target} |`);
  return [header, rule, ...rows].join('\n');
}

/** Per-resource writes of operator and floor for one round, to check they made the same writes. */
export function writeComparison(result: RoundResult): string {
  const keys = new Set([...Object.keys(result.operator.writes.kubeBreakdown),
    ...Object.keys(result.floor.writes.kubeBreakdown)]);
  const lines = ['| Kubernetes write (resource, verb) | operator | floor |', '|---|---|---|'];
  for (const key of [...keys].sort()) {
    lines.push(
      `| ${key} | ${result.operator.writes.kubeBreakdown[key] ?? 0} | ${result.floor.writes.kubeBreakdown[key] ?? 0} |`,
    );
  }
  const vaultKeys = new Set([...Object.keys(result.operator.writes.vaultBreakdown),
    ...Object.keys(result.floor.writes.vaultBreakdown)]);
  lines.push('', '| Vault write (operation, path) | operator | floor |', '|---|---|---|');
  for (const key of [...vaultKeys].sort()) {
    lines.push(
      `| ${key.replaceAll('|', '\\|')} | ${result.operator.writes.vaultBreakdown[key] ?? 0} | ${
        result.floor.writes.vaultBreakdown[key] ?? 0
      } |`,
    );
  }
  return lines.join('\n');
}

export function machineText(machine: Machine, settings: RunSettings): string {
  return [
    `Run on ${settings.date} with \`${settings.command}\`.`,
    '',
    `- Machine: ${machine.cpus}, ${machine.memory} RAM, ${machine.os}; shared with other work while it ran.`,
    `- Node ${machine.node}; servers: ${machine.servers}.`,
    `- Operator: \`${
      OPERATOR_COMMAND.join(' ')
    }\` (the image's command) as a separate process, ${settings.workers} workers (the default), resync period ${
      settings.resyncPeriodMs / 1000
    } s, leader election on; the benchmark creates and patches with ${settings.clientConcurrency} requests in flight.`,
  ].join('\n');
}
