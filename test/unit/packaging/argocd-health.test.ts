// The Argo CD health check (charts/kmsstack-operator/argocd/health.lua) run by a real Lua 5.1
// interpreter, Argo CD's dialect, against the status fixtures in test/fixtures/argocd/.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { luaLiteral, luaString, type Json } from './lua-literal.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..', '..');
const healthScript = join(repoRoot, 'charts/kmsstack-operator/argocd/health.lua');
const driver = join(here, 'argocd-driver.lua');
const fixtureDir = join(repoRoot, 'test/fixtures/argocd');
const scratch = mkdtempSync(join(tmpdir(), 'kmsstack-argocd-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

interface Fixture {
  description: string;
  object: Json;
  expected: { status: 'Healthy' | 'Progressing' | 'Degraded'; message: string };
}

function lua(): string {
  try {
    execFileSync('lua5.1', ['-v'], { stdio: 'pipe' });
    return 'lua5.1';
  } catch {
    throw new Error('lua5.1 is not installed: apt-get install -y lua5.1 (.ci/run installs it)');
  }
}

function runHealth(name: string, object: Json, script = healthScript): { status: string; message: string } {
  const objectFile = join(scratch, `${name}.lua`);
  writeFileSync(objectFile, `return ${luaLiteral(object)}\n`);
  const output = execFileSync(lua(), [driver, objectFile, script], { encoding: 'utf8', stdio: 'pipe' });
  const [status = '', message = ''] = output.replace(/\n$/, '').split('\n');
  return { status, message };
}

function terminalReasons(script: string): string[] {
  const table = /local terminalReasons = \{([^}]*)\}/.exec(script)?.[1];
  assert.ok(table, 'health.lua has no terminalReasons table');
  return [...table.matchAll(/^\s*([A-Za-z]+) = true,/gm)].map((m) => m[1] as string);
}

function sourceTexts(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceTexts(path);
    return entry.name.endsWith('.ts') ? [readFileSync(path, 'utf8')] : [];
  });
}

const fixtures = readdirSync(fixtureDir)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => ({ name: file.replace(/\.json$/, ''), ...(JSON.parse(readFileSync(join(fixtureDir, file), 'utf8')) as Fixture) }));

describe('Argo CD health check', () => {
  test('there are fixtures for every health status', () => {
    assert.ok(fixtures.length >= 8, `only ${fixtures.length} fixtures`);
    for (const status of ['Healthy', 'Progressing', 'Degraded']) {
      assert.ok(fixtures.some((f) => f.expected.status === status), `no fixture expects ${status}`);
    }
  });

  for (const fixture of fixtures) {
    test(`${fixture.name}: ${fixture.description}`, () => {
      assert.deepEqual(runHealth(fixture.name, fixture.object), fixture.expected);
    });
  }

  test('every terminal failure reason in the script has a Degraded fixture', () => {
    const reasons = terminalReasons(readFileSync(healthScript, 'utf8'));
    assert.ok(reasons.length > 0);
    for (const reason of reasons) {
      const degraded = fixtures.some(
        (f) => f.expected.status === 'Degraded' && JSON.stringify(f.object).includes(`"reason":"${reason}"`),
      );
      assert.ok(degraded, `no Degraded fixture uses the terminal reason ${reason}`);
    }
  });

  test('every terminal failure reason in the script is one the operator sets (a string literal in src/)', () => {
    const sources = sourceTexts(join(repoRoot, 'src')).join('\n');
    for (const reason of terminalReasons(readFileSync(healthScript, 'utf8'))) {
      assert.ok(sources.includes(`'${reason}'`), `src/ never uses the reason '${reason}': update health.lua's terminalReasons`);
    }
  });

  test('a False condition with a reason that is not terminal stays Progressing', () => {
    const object = {
      metadata: { generation: 1 },
      status: {
        observedGeneration: 1,
        conditions: [
          { type: 'SpecValid', status: 'True', reason: 'Valid', message: 'ok' },
          { type: 'KeysReady', status: 'False', reason: 'KESUnavailable', message: 'KES is not reachable' },
        ],
      },
    };
    assert.deepEqual(runHealth('non-terminal', object), { status: 'Progressing', message: 'KeysReady KESUnavailable: KES is not reachable' });
  });

  for (const [library, body, error] of [
    ['io', 'io.open("/etc/hostname")', /attempt to index global 'io'/],
    ['string', 'string.format("%d", 1)', /attempt to index global 'string'/],
    ['string methods', '("x"):upper()', /attempt to call method 'upper'/],
    ['os.getenv', 'os.getenv("HOME")', /attempt to call field 'getenv'/],
  ] as const) {
    test(`the driver rejects a script that uses ${library}, which Argo CD does not open`, () => {
      const script = join(scratch, `script-${library.replace(/\W/g, '-')}.lua`);
      writeFileSync(script, `return { status = ${body}, message = "" }\n`);
      assert.throws(() => runHealth(`object-${library.replace(/\W/g, '-')}`, {}, script), error);
    });
  }

  test('Lua literals round-trip strings byte for byte', () => {
    const text = 'quote " backslash \\ newline \n ümlaut';
    const output = execFileSync(lua(), ['-e', `io.write(${luaString(text)})`], { encoding: 'utf8' });
    assert.equal(output, text);
  });
});
