// Warm start of the test servers: etcd + kube-apiserver (with the CRD installed) and Vault, from
// process start to ready, measured over a few runs. Prints figures; asserts nothing.
//   npm run bench:startup [-- --runs 5]
import { parseArgs } from 'node:util';
import { startControlPlane } from '../test/env/controlplane.ts';
import { startVault } from '../test/env/vault.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const runs = Number(values.runs);

function summary(label: string, ms: number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `${label.padEnd(44)} median ${(median / 1000).toFixed(2)} s   min ${(sorted[0]! / 1000).toFixed(2)} s   max ${
    (sorted.at(-1)! / 1000).toFixed(2)
  } s`;
}

const controlPlane: number[] = [];
const vault: number[] = [];
const both: number[] = [];
for (let i = 0; i < runs; i++) {
  const start = performance.now();
  const [cp, v] = await Promise.all([
    startControlPlane().then((cp) => {
      controlPlane.push(performance.now() - start);
      return cp;
    }),
    startVault().then((v) => {
      vault.push(performance.now() - start);
      return v;
    }),
  ]);
  both.push(performance.now() - start);
  await Promise.all([cp.stop(), v.stop()]);
}
console.log(`warm start over ${runs} runs (binaries cached, ${process.platform} ${process.arch})`);
console.log(summary('etcd + kube-apiserver ready, CRD established', controlPlane));
console.log(summary('vault (dev) ready', vault));
console.log(summary('all three ready (started in parallel)', both));
