// The chart's monitoring objects against a real kube-apiserver: with the ServiceMonitor, the
// PrometheusRule and the dashboard ConfigMap on, `helm template` passes a server-side dry run with
// strict field validation, the monitoring CRDs (reduced, test/integration/packaging/fixtures) installed.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startControlPlane, type ControlPlane } from '../../env/controlplane.ts';
import { parseManifest, renderManifest } from '../../unit/packaging/helm.ts';

const here = dirname(fileURLToPath(import.meta.url));
const NS = 'kmsstack-monitoring';
let cp: ControlPlane;

before(async () => {
  cp = await startControlPlane();
  for (const crd of ['servicemonitor', 'prometheusrule']) await cp.kubectl(['apply', '-f', join(here, `fixtures/${crd}-crd.yaml`)]);
  await cp.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/servicemonitors.monitoring.coreos.com', 'crd/prometheusrules.monitoring.coreos.com']);
  await cp.kubectl(['create', 'namespace', NS]);
  await cp.kubectl(['create', 'namespace', 'monitoring']);
});
after(async () => {
  await cp?.stop();
});

const everything = {
  metrics: {
    serviceMonitor: { enabled: true, interval: '30s', scrapeTimeout: '10s', labels: { release: 'prom' } },
    prometheusRule: { enabled: true, labels: { release: 'prom' }, ruleLabels: { team: 'storage' } },
    grafanaDashboard: { enabled: true, namespace: 'monitoring', labels: { grafana_dashboard: '1' }, annotations: { grafana_folder: 'Storage' } },
  },
};

describe('chart monitoring objects on a real API server', () => {
  test('helm template with ServiceMonitor, PrometheusRule and dashboard passes the server-side dry run', async () => {
    const manifest = await renderManifest(everything, NS);
    const kinds = parseManifest(manifest).map((o) => o.kind);
    for (const kind of ['ServiceMonitor', 'PrometheusRule', 'ConfigMap']) assert.ok(kinds.includes(kind), `${kind} rendered`);
    const { stdout, stderr } = await cp.kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], manifest);
    const lines = stdout.trim().split('\n');
    assert.equal(lines.length, kinds.length, stdout);
    for (const line of lines) assert.match(line, /\(server dry run\)$/);
    assert.match(stdout, /prometheusrule\.monitoring\.coreos\.com\/kmsstack-operator created \(server dry run\)/);
    assert.match(stdout, /configmap\/kmsstack-operator-dashboard created \(server dry run\)/);
    assert.equal(stderr.trim(), '', `warnings: ${stderr}`);
  });

  test('the PrometheusRule is stored as rendered (a real apply, read back)', async () => {
    const rule = parseManifest(await renderManifest(everything, NS)).find((o) => o.kind === 'PrometheusRule');
    await cp.kubectl(['apply', '--validate=strict', '-f', '-'], JSON.stringify(rule));
    const stored = JSON.parse((await cp.kubectl(['get', 'prometheusrule', '-n', NS, 'kmsstack-operator', '-o', 'json'])).stdout) as { spec: unknown };
    assert.deepEqual(stored.spec, rule?.spec);
  });

  test('a field the CRD does not know is refused (control: the dry run validates strictly)', async () => {
    const rule = parseManifest(await renderManifest(everything, NS)).find((o) => o.kind === 'PrometheusRule') as unknown as { spec: { groups: { rules: Record<string, unknown>[] }[] } };
    (rule.spec.groups[0]?.rules[0] as Record<string, unknown>)['fors'] = '5m';
    await assert.rejects(cp.kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], JSON.stringify(rule)), /unknown field "spec\.groups\[0\]\.rules\[0\]\.fors"/);
  });
});
