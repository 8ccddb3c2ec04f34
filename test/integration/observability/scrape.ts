// Reads the operator's /metrics over HTTP, so tests see exactly what a Prometheus server would scrape.
import { parseMetrics, type Sample } from '../../support/prom-text.ts';

export { select, total, valueOf, type Sample } from '../../support/prom-text.ts';

export async function scrape(port: number): Promise<Sample[]> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (!response.ok) throw new Error(`GET /metrics: HTTP ${response.status}`);
  return parseMetrics(await response.text());
}
