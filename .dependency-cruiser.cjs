/* global module */
// The import rules of src/ (docs/architecture.md): no cycle, and every import runs down the layers.
// `npm run lint` runs this with depcruise; a violation fails lint.
/** A rule that fails lint: modules whose path matches `from` may not import what `to` matches (a path pattern, or a rule's `to`). */
const forbid = (name, comment, from, to) => ({ name, severity: 'error', comment, from: { path: from }, to: typeof to === 'string' ? { path: to } : to });

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    forbid('no-cycle', 'an import cycle: the modules cannot be understood or tested one at a time', '^src/', { circular: true }),
    forbid('api-is-the-bottom', 'src/api/ is the schema and its types: it imports nothing else of src/', '^src/api/', '^src/(?!api/)'),
    forbid('runtime-is-a-framework', 'src/runtime/ knows no controller, no Vault/KES/MinIO and no KMSDeployment API', '^src/runtime/', '^src/(?!runtime/)'),
    forbid('pki-is-pure', 'src/pki/ issues certificates from plain inputs', '^src/pki/', '^src/(?!pki/|api/)'),
    forbid('workload-below-kes-and-minio', 'src/workload/ is what KES and MinIO share; it knows neither', '^src/workload/', '^src/(kes|minio|vault|controllers)/|^src/main\\.ts$'),
    forbid('vault-knows-no-workload', 'src/vault/ configures Vault; KES and MinIO build on it, not the other way round', '^src/vault/', '^src/(kes|minio|controllers)/|^src/main\\.ts$'),
    forbid('kes-knows-no-minio', 'kes/ and minio/ share through src/workload/, never through each other', '^src/kes/', '^src/minio/'),
    forbid('minio-knows-no-kes', 'kes/ and minio/ share through src/workload/, never through each other', '^src/minio/', '^src/kes/'),
    forbid('libraries-below-controllers', 'libraries return results; only controllers/, config.ts and main.ts put them together', '^src/(api|runtime|pki|vault|kes|minio|workload)/', '^src/(controllers/|main\\.ts$|config\\.ts$)'),
    forbid('steps-do-not-import-the-reconcile', 'steps import the context module, never the reconcile or the data path that import them', '^src/controllers/[^/]+/steps/', '^src/controllers/[^/]+/(reconcile|data-path)\\.ts$'),
    forbid('steps-do-not-import-each-other', 'a step hands values to later steps through the typed context, not through imports', '^src/controllers/[^/]+/steps/([^/]+)\\.ts$', { path: '^src/controllers/[^/]+/steps/', pathNot: ['^src/controllers/[^/]+/steps/$1\\.ts$', '^src/controllers/[^/]+/steps/$1-[^/]+\\.ts$', '^src/controllers/[^/]+/steps/[^/]+-$1\\.ts$'] }),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6'],
  },
};
