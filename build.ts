// `npm run build`: the operator bundled by esbuild into dist/main.js, with what it loads lazily
// (import()) in dist/chunks/. What the image and `npm start` run, and what `npm run bench` measures.
// @kubernetes/client-node's modules are marked free of side effects, which they are (classes and
// functions): without that, every generated API model stays in the bundle although the operator
// uses none of them, about 6 MiB of idle memory (docs/benchmarks.md, session 11).
//   node build.ts [--outdir=DIR] [--minify-whitespace | --minify-identifiers | --minify-syntax | --minify]
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';

const minifyFlags = ['--minify', '--minify-whitespace', '--minify-identifiers', '--minify-syntax'];
let outdir = 'dist';
const minify = new Set<string>(['--minify-whitespace']);
for (const arg of process.argv.slice(2)) {
  if (arg.startsWith('--outdir=')) outdir = arg.slice('--outdir='.length);
  else if (minifyFlags.includes(arg)) minify.add(arg);
  else throw new Error(`build.ts: unknown option ${arg} (known: --outdir=DIR, ${minifyFlags.join(', ')})`);
}
const all = minify.has('--minify');

const clientNodeHasNoSideEffects: Plugin = {
  name: 'client-node-has-no-side-effects',
  setup(pluginBuild) {
    const resolving = Symbol('resolving');
    pluginBuild.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === resolving) return undefined;
      const resolved = await pluginBuild.resolve(args.path, { kind: args.kind, importer: args.importer,
        resolveDir: args.resolveDir, pluginData: resolving });
      if (resolved.errors.length > 0 || !/[\\/]node_modules[\\/]@kubernetes[\\/]client-node[\\/]/.test(resolved.path)) {
        return undefined;
      }
      return { ...resolved, sideEffects: false };
    });
  },
};

// Chunk names carry a hash: without removing them, every build would leave the last one's behind.
for (const made of ['chunks', 'main.js', 'main.js.LEGAL.txt']) rmSync(join(outdir, made), { recursive: true, force: true });
await build({
  entryPoints: ['src/main.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  splitting: true,
  outdir,
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'external',
  minifyWhitespace: all || minify.has('--minify-whitespace'),
  minifyIdentifiers: all || minify.has('--minify-identifiers'),
  minifySyntax: all || minify.has('--minify-syntax'),
  logLevel: 'warning',
  // Bundled CommonJS dependencies call require(); an ES module has none, so the bundle makes one.
  banner: {
    js: "import { createRequire as __kmsstackCreateRequire } from 'node:module'; const require = __kmsstackCreateRequire(import.meta.url);",
  },
  plugins: [clientNodeHasNoSideEffects],
});
