// `npm run bench:chain` — the whole chain on the local test cluster (test/env/cluster.ts): MinIO -> KES ->
// Vault with real KES and MinIO processes as Pods. The stack of the e2e suite is started once (a persistent
// TLS Vault set up as docs/vault.md says, the cluster, the operator installed with `helm install`); then for
// each N, N KMSDeployments (examples/kmsdeployment-minimal.yaml, each in its own namespace) are created at
// once and timed to each condition and to Ready, a certificate renewal is rolled through all of them and
// timed, and one SSE-S3 PUT/GET per object shows the chain works (bench/lib/chain-round.ts). Prints
// figures and a markdown table; asserts nothing. Without kes or minio (or root) it says so and exits 0.
//   npm run bench:chain [-- --n 1,5] [--timeout 900s] [--docs] [--keep-logs]
// --timeout bounds each wait (to Ready, to the renewal rolled); what is not reached by then is reported as such.
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/api/duration.ts';
import { clusterUnavailable } from '../test/env/cluster.ts';
import { type E2EStack, exposeVault, installOperator, prepareNamespace, setUpVault,
  startE2EStack } from '../test/env/e2e-stack.ts';
import { leftovers, repoRoot } from '../test/env/process.ts';
import { missingProgram, PINNED } from '../test/env/programs.ts';
import { chainTable } from './lib/chain-report.ts';
import { type ChainRound, roundNamespaces, runChainRound } from './lib/chain-round.ts';
import { writeMarkedSection } from './lib/docs-section.ts';
import { seconds } from './lib/stats.ts';

const DOCS = join(repoRoot, 'docs/benchmarks.md');
const BEGIN = '<!-- bench:chain:begin (written by npm run bench:chain -- --docs) -->';
const END = '<!-- bench:chain:end -->';

function parseOptions() {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '1,5' },
      timeout: { type: 'string', default: '900s' },
      docs: { type: 'boolean', default: false },
      'keep-logs': { type: 'boolean', default: false },
    },
  });
  const sizes = values.n.split(',').map((s) => Number(s.trim()));
  // Each object runs 2 KES and 4 MinIO processes on this one machine: a handful is what it holds.
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 20)) {
    throw new Error(`--n: a comma-separated list of whole numbers 1-20 (got "${values.n}")`);
  }
  const timeoutMs = parseDuration(values.timeout);
  if (timeoutMs === undefined || timeoutMs < 60_000) {
    throw new Error(`--timeout: a duration of at least 60s (got "${values.timeout}")`);
  }
  return { sizes, timeoutMs, docs: values.docs, keepLogs: values['keep-logs'] };
}

function section(rounds: ChainRound[], command: string, setUpMs: number, load: number[]): string {
  const list = cpus();
  return [
    `Run on ${new Date().toISOString().slice(0, 10)} with \`${command}\`.`,
    '',
    `- Machine: ${list.length} cores (${list[0]?.model.trim() ?? 'unknown CPU'}), ${
      (totalmem() / 2 ** 30).toFixed(0)
    } GiB RAM, Linux ${release()}; shared with a CI run and other work while it ran (load average in the table; ${
      load.map((l) => l.toFixed(1)).join(' / ')
    } over 1 / 5 / 15 min when the bench started).`,
    `- Node ${process.version}; kes ${PINNED.kes}, minio ${PINNED.minio}; each KMSDeployment runs 2 KES and 4 MinIO Pods (the example's defaults) as processes of the node agent.`,
    `- Set-up before the first round (npm run build, Vault, the cluster, Vault set-up, helm install): ${
      seconds(setUpMs)
    }.`,
    '',
    chainTable(rounds),
    ...(rounds.some((r) => r.notes.length) ? ['', ...rounds.flatMap((r) => r.notes.map((note) => `- ${note}`))] : []),
  ].join('\n');
}

async function main(): Promise<void> {
  const options = parseOptions();
  // Like the e2e tests' skip lines: one line per missing program, and nothing else to do.
  const missing = [missingProgram('kes'), missingProgram('minio'), clusterUnavailable()].filter((m): m is string =>
    Boolean(m)
  );
  if (missing.length > 0) {
    for (const line of missing) console.log(`bench:chain ${line}`);
    return;
  }
  const log = (line: string) => console.log(line);
  const loadAtStart = loadavg();
  const started = performance.now();
  log('building the operator (npm run build), starting a persistent Vault and the local cluster ...');
  let stack: E2EStack | undefined;
  const rounds: ChainRound[] = [];
  let failed = false;
  let setUpMs = 0;
  // Ctrl-C or a kill mid-run: tear down what was started (the node agent's Pods, the servers, Vault) before exiting.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`\n${signal}: tearing down`);
      void (stack?.stop({ keepLogs: options.keepLogs }) ?? Promise.resolve()).finally(() => process.exit(130));
    });
  }
  try {
    stack = await startE2EStack();
    await exposeVault(stack);
    await setUpVault(stack);
    // The chart grants the operator its rights in each watched namespace: all of them exist first.
    const namespaces = options.sizes.flatMap(roundNamespaces);
    for (const namespace of namespaces) await prepareNamespace(stack, namespace);
    await installOperator(stack, namespaces);
    setUpMs = performance.now() - started;
    log(`stack up and operator installed with helm in ${seconds(setUpMs)}`);
    for (const n of options.sizes) {
      log(`\nN = ${n}`);
      rounds.push(await runChainRound(stack, n, options.timeoutMs, log));
    }
  } catch (err) {
    failed = true;
    console.error(
      `bench:chain: FAILED: ${err instanceof Error ? err.stack : String(err)}${
        stack ? `\n${stack.diagnostics()}` : ''
      }`,
    );
  } finally {
    log('tearing down: node agent (Pods), controllers, API server, etcd, Vault');
    await stack?.stop({ keepLogs: failed || options.keepLogs });
  }
  if (rounds.length > 0) {
    const text = section(rounds, `npm run bench:chain -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, ''),
      setUpMs, loadAtStart);
    log(`\n${text}\n`);
    if (options.docs && !failed) {
      writeMarkedSection(DOCS, BEGIN, END, text);
      log(`wrote the results into ${DOCS}`);
    }
  }
  log(`total time ${seconds(performance.now() - started)}`);
  const left = leftovers();
  if (left.processes.length > 0) console.error(`left running: ${left.processes.join(', ')}`);
  if (failed || left.processes.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : String(err));
  process.exitCode = 1;
});
