// The chart's monitoring objects rendered by the real helm binary: the PrometheusRule carries the rule
// file promtool tests (plus the labels asked for), the dashboard ConfigMap carries the dashboard with
// the sidecar's label, both off by default, and values.schema.json names a misspelt key.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as yaml from 'js-yaml';
import { chartDir, findObject, helmTemplate, releaseNamespace, renderChart } from './helm.ts';

interface Rule {
  alert: string;
  labels: Record<string, string>;
}

const ruleFile = yaml.load(readFileSync(join(chartDir, 'files/prometheus-rules.yaml'), 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
const dashboardFile = readFileSync(join(chartDir, 'files/grafana-dashboard.json'), 'utf8');

describe('chart monitoring objects', () => {
  test('neither a PrometheusRule nor a dashboard by default', async () => {
    const objects = await renderChart();
    assert.deepEqual(objects.filter((o) => o.kind === 'PrometheusRule' || (o.kind === 'ConfigMap' && o.metadata.name.endsWith('-dashboard'))), []);
  });

  test('the PrometheusRule holds the rule file, with ruleLabels added where an alert has no such label', async () => {
    const objects = await renderChart({ metrics: { prometheusRule: { enabled: true, labels: { release: 'prom' }, ruleLabels: { team: 'storage', severity: 'page' } } } });
    const rule = findObject(objects, 'PrometheusRule', 'kmsstack-operator', releaseNamespace);
    assert.equal(rule.metadata.labels?.release, 'prom');
    const spec = rule.spec as typeof ruleFile;
    assert.deepEqual(spec.groups.map((g) => g.name), ruleFile.groups.map((g) => g.name));
    const rendered = spec.groups.flatMap((g) => g.rules);
    const original = ruleFile.groups.flatMap((g) => g.rules);
    assert.equal(rendered.length, original.length);
    for (const [i, want] of original.entries()) {
      assert.deepEqual(rendered[i], { ...want, labels: { ...want.labels, team: 'storage' } }, `${want.alert}: the file's rule, plus team; its own severity wins`);
    }
  });

  test('the dashboard ConfigMap carries the sidecar label and the dashboard, in the namespace asked for', async () => {
    const objects = await renderChart({ metrics: { grafanaDashboard: { enabled: true, namespace: 'monitoring', labels: { grafana_dashboard: '1' }, annotations: { grafana_folder: 'Storage' } } } });
    const configMap = findObject(objects, 'ConfigMap', 'kmsstack-operator-dashboard', 'monitoring');
    assert.equal(configMap.metadata.labels?.grafana_dashboard, '1');
    assert.equal(configMap.metadata.annotations?.grafana_folder, 'Storage');
    const data = (configMap as unknown as { data: Record<string, string> }).data;
    assert.deepEqual(JSON.parse(data['kmsstack-operator.json'] ?? ''), JSON.parse(dashboardFile));
    const inRelease = findObject(await renderChart({ metrics: { grafanaDashboard: { enabled: true, labels: { grafana_dashboard: '1' } } } }), 'ConfigMap', 'kmsstack-operator-dashboard');
    assert.equal(inRelease.metadata.namespace, releaseNamespace);
  });

  test('a misspelt key is refused with its name', async () => {
    const result = await helmTemplate({ metrics: { prometheusRule: { enabled: true, rulelabels: {} } } });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /rulelabels/);
  });
});
