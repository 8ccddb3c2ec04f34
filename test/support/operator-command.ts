// The command that runs the operator, written in five places that cannot import it (Dockerfile
// ENTRYPOINT, the chart's container command and so deploy/operator.yaml, `npm start`); the packaging
// tests hold each to this, the node agent accepts it, and the benchmark runs it.

/**
 * The operator's command line. `--optimize-for-size` keeps V8's heap small (docs/benchmarks.md: RSS with
 * 100 KMSDeployments ~335 -> ~140 MiB for ~15 % longer convergence); `--lite-mode` runs without V8's
 * optimizing compilers (session 8, N = 500: idle 87.9 -> 80.7 MiB, 205 -> 142 MiB converged, convergence
 * within the noise). Node refuses both in NODE_OPTIONS.
 */
export const OPERATOR_COMMAND: readonly string[] = ['node', '--optimize-for-size', '--lite-mode', 'dist/main.js'];

/** The node flags of {@link OPERATOR_COMMAND}: what comes between `node` and the script. */
export const OPERATOR_NODE_FLAGS: readonly string[] = OPERATOR_COMMAND.slice(1, -1);
