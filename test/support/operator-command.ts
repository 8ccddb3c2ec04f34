// The command that runs the operator, written in five places that cannot import it (Dockerfile
// ENTRYPOINT, the chart's container command and so deploy/operator.yaml, `npm start`); the packaging
// tests hold each to this, the node agent accepts it, and the benchmark runs it.

/**
 * The operator's command line. `--optimize-for-size` keeps V8's heap small (docs/benchmarks.md: RSS with
 * 100 KMSDeployments ~335 -> ~140 MiB for ~15 % longer convergence); Node refuses it in NODE_OPTIONS.
 */
export const OPERATOR_COMMAND: readonly string[] = ['node', '--optimize-for-size', 'dist/main.js'];

/** The node flags of {@link OPERATOR_COMMAND}: what comes between `node` and the script. */
export const OPERATOR_NODE_FLAGS: readonly string[] = OPERATOR_COMMAND.slice(1, -1);
