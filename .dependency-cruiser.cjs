/* global module */
// The import rules of src/ (docs/architecture.md): no cycle, and every import runs down the layers.
// `npm run lint` runs this with depcruise; a violation fails lint.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-cycle', severity: 'error', comment: 'an import cycle: the modules cannot be understood or tested one at a time', from: { path: '^src/' }, to: { circular: true } },
    { name: 'api-is-the-bottom', severity: 'error', comment: 'src/api/ is the schema and its types: it imports nothing else of src/', from: { path: '^src/api/' }, to: { path: '^src/(?!api/)' } },
    { name: 'runtime-is-a-framework', severity: 'error', comment: 'src/runtime/ knows no controller, no Vault/KES/MinIO and no KMSDeployment API', from: { path: '^src/runtime/' }, to: { path: '^src/(?!runtime/)' } },
    { name: 'pki-is-pure', severity: 'error', comment: 'src/pki/ issues certificates from plain inputs', from: { path: '^src/pki/' }, to: { path: '^src/(?!pki/|api/)' } },
    { name: 'workload-below-kes-and-minio', severity: 'error', comment: 'src/workload/ is what KES and MinIO share; it knows neither', from: { path: '^src/workload/' }, to: { path: '^src/(kes|minio|vault|controllers)/|^src/main\\.ts$' } },
    { name: 'vault-knows-no-workload', severity: 'error', comment: 'src/vault/ configures Vault; KES and MinIO build on it, not the other way round', from: { path: '^src/vault/' }, to: { path: '^src/(kes|minio|controllers)/|^src/main\\.ts$' } },
    { name: 'kes-knows-no-minio', severity: 'error', comment: 'kes/ and minio/ share through src/workload/, never through each other', from: { path: '^src/kes/' }, to: { path: '^src/minio/' } },
    { name: 'minio-knows-no-kes', severity: 'error', comment: 'kes/ and minio/ share through src/workload/, never through each other', from: { path: '^src/minio/' }, to: { path: '^src/kes/' } },
    { name: 'libraries-below-controllers', severity: 'error', comment: 'libraries return results; only controllers/, config.ts and main.ts put them together', from: { path: '^src/(api|runtime|pki|vault|kes|minio|workload)/' }, to: { path: '^src/(controllers/|main\\.ts$|config\\.ts$)' } },
    { name: 'steps-do-not-import-the-reconcile', severity: 'error', comment: 'steps import the context module, never the reconcile or the data path that import them', from: { path: '^src/controllers/[^/]+/steps/' }, to: { path: '^src/controllers/[^/]+/(reconcile|data-path)\\.ts$' } },
    { name: 'steps-do-not-import-each-other', severity: 'error', comment: 'a step hands values to later steps through the typed context, not through imports', from: { path: '^src/controllers/[^/]+/steps/([^/]+)\\.ts$' }, to: { path: '^src/controllers/[^/]+/steps/', pathNot: ['^src/controllers/[^/]+/steps/$1\\.ts$', '^src/controllers/[^/]+/steps/$1-[^/]+\\.ts$', '^src/controllers/[^/]+/steps/[^/]+-$1\\.ts$'] } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6'],
  },
};
