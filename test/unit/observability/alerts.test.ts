// The chart's alerts and dashboard: `promtool check rules` and `promtool test rules` (promtool built by
// `npm run testbin` from Prometheus's Go module) on the rule file the PrometheusRule carries, and every
// metric an alert or a dashboard panel names is one the operator exports (a renamed metric would
// otherwise leave an alert that can never fire).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import * as yaml from 'js-yaml';
import '../../../src/controllers/kmsdeployment/status-metrics.ts';
import { registry } from '../../../src/runtime/metrics.ts';
import { testBinary } from '../../env/process.ts';
import { chartDir } from '../packaging/helm.ts';

const execFileAsync = promisify(execFile);
const rulesFile = join(chartDir, 'files/prometheus-rules.yaml');
const dashboardFile = join(chartDir, 'files/grafana-dashboard.json');
const rulesTests = join(import.meta.dirname, 'prometheus-rules.promtool.yaml');

async function promtool(args: string[]): Promise<string> {
  const { stdout, stderr } = await execFileAsync(testBinary('promtool'), args);
  return `${stdout}${stderr}`;
}

/** Names of the operator's metrics in a PromQL expression (histogram series named by their family). */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\bkmsstack_[a-z0-9_]+/g)].map(([name]) => name.replace(/_(bucket|count|sum)$/, ''));
}

interface RuleFile {
  groups: { name: string; rules: { alert?: string; expr: string; labels?: Record<string, string>; annotations?: Record<string, string> }[] }[];
}

interface Dashboard {
  uid: string;
  panels: { id: number; title: string; targets: { expr: string }[] }[];
}

describe('alerts and dashboard of the chart', () => {
  const rules = yaml.load(readFileSync(rulesFile, 'utf8')) as RuleFile;
  const alerts = rules.groups.flatMap((g) => g.rules);

  it('pass promtool check rules', async () => {
    assert.match(await promtool(['check', 'rules', rulesFile]), new RegExp(`SUCCESS: ${alerts.length} rules found`));
  });

  it('pass their promtool unit tests, and every alert has a test', async () => {
    assert.match(await promtool(['test', 'rules', rulesTests]), /SUCCESS/);
    const tested = new Set([...readFileSync(rulesTests, 'utf8').matchAll(/alertname: (\w+)/g)].map(([, name]) => name));
    assert.deepEqual(alerts.map((a) => a.alert).filter((name) => !tested.has(name)), [], 'alerts without a promtool test');
  });

  it('are alerts with a severity, a summary and a description', () => {
    for (const rule of alerts) {
      assert.ok(rule.alert, `a rule without an alert name: ${rule.expr}`);
      assert.match(rule.labels?.['severity'] ?? '', /^(warning|critical)$/, `${rule.alert}: severity`);
      assert.ok(rule.annotations?.['summary'] && rule.annotations['description'], `${rule.alert}: summary and description`);
    }
  });

  it('name only metrics the operator exports', async () => {
    const exported = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
    const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as Dashboard;
    const named = [...alerts.map((rule) => [`alert ${rule.alert}`, rule.expr]), ...dashboard.panels.flatMap((p) => p.targets.map((t) => [`panel ${p.title}`, t.expr]))] as [string, string][];
    for (const [where, expr] of named) {
      const names = metricsIn(expr);
      assert.ok(names.length > 0, `${where} names no kmsstack metric`);
      for (const name of names) assert.ok(exported.has(name), `${where}: ${name} is not a metric of the operator`);
    }
  });

  it('dashboard: panel ids are unique and every panel queries the chosen data source', () => {
    const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as Dashboard & { panels: { datasource: { uid: string } }[] };
    assert.equal(dashboard.uid, 'kmsstack-operator');
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const panel of dashboard.panels) assert.equal(panel.datasource.uid, '${datasource}', panel.title);
  });
});
