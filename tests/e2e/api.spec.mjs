// The JS API packaged by `wasm-pack build --target web --out-dir pkg`, imported as an ES module
// in a cross-origin isolated page, checked against the natively computed fixture.
// Run: `node --test tests/e2e/api.spec.mjs` (after the wasm-pack build).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, launchChromium, watchProblems } from './serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PKG = path.join(ROOT, 'pkg');
const FIXTURE = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/fixtures/demo_eval.json'), 'utf8'));

const PAGE = `<!DOCTYPE html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head>
<body><script type="module">
  import init, * as api from './bitgru_web.js';
  try {
    await init();
    window.api = api;
    window.apiReady = 'ok';
  } catch (e) {
    window.apiReady = 'failed: ' + e;
  }
</script></body></html>`;

let browser, server, page, problems;

before(async () => {
  assert.ok(fs.existsSync(path.join(PKG, 'bitgru_web.js')), 'pkg/ is missing: run `wasm-pack build --target web --out-dir pkg`');
  browser = await launchChromium();
  server = await serve(PKG, { isolated: true, routes: { '/index.html': PAGE } });
  page = await browser.newPage();
  problems = watchProblems(page);
  await page.goto(server.url);
  await page.waitForFunction(() => window.apiReady !== undefined, null, { timeout: 30_000 });
  assert.equal(await page.evaluate(() => window.apiReady), 'ok');
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test('the module loads in a cross-origin isolated page', async () => {
  assert.equal(await page.evaluate(() => self.crossOriginIsolated), true);
  const names = await page.evaluate(() => Object.keys(window.api).sort());
  for (const f of ['default', 'parseGenome', 'sizeReport', 'evalGenome', 'modelInfo', 'defaultModel', 'geneNames']) {
    assert.ok(names.includes(f), `missing export ${f}: ${names}`);
  }
});

test('parseGenome and sizeReport', async () => {
  const r = await page.evaluate(() => {
    const g = window.api.parseGenome('64576888548886757');
    let err;
    try { window.api.parseGenome('6457688854888675'); } catch (e) { err = { isError: e instanceof Error, message: e.message }; }
    const dims = { input: 10, hidden: 32, classes: 6 };
    return {
      g, err,
      all8: window.api.sizeReport(dims, '88888888888888888'),
      mixed: window.api.sizeReport(dims, '64576888548886757'),
      names: window.api.geneNames(),
    };
  });
  assert.equal(r.g.genome, '64576888548886757');
  assert.deepEqual(r.g.bits, [6, 4, 5, 7, 6, 8, 8, 8, 5, 4, 8, 8, 8, 6, 7, 5, 7]);
  assert.equal(r.g.genes[9].name, 'sub_z');
  assert.equal(r.err.isError, true);
  assert.match(r.err.message, /expected 17 digits/);
  assert.equal(r.all8.normalized, 1);
  assert.ok(r.mixed.bits < r.all8.bits && r.mixed.normalized < 1);
  assert.equal(r.mixed.bytes, Math.ceil(r.mixed.bits / 8));
  assert.equal(r.names.length, 17);
});

test('evalGenome gives the native predictions, for the embedded model and for its bytes', async () => {
  for (const c of FIXTURE.cases) {
    const r = await page.evaluate(({ genome, seed, n }) => {
      const a = window.api.evalGenome(undefined, genome, seed, n);
      const b = window.api.evalGenome(window.api.defaultModel(), genome, seed, n);
      return { a, b, info: window.api.modelInfo(undefined) };
    }, c);
    assert.equal(r.a.genome, c.genome);
    assert.deepEqual(r.a.predictions, c.predictions, c.genome);
    assert.deepEqual(r.a.float_predictions, c.float_predictions, c.genome);
    assert.deepEqual(r.a.size, c.size);
    assert.deepEqual(r.b.predictions, c.predictions);
    assert.equal(r.a.threaded, false);
    assert.equal(r.info.dims.hidden, 32);
  }
});

test('evalGenome reports bad arguments as errors', async () => {
  const errs = await page.evaluate(() => {
    const msg = (f) => { try { f(); return null; } catch (e) { return e.message; } };
    return [
      msg(() => window.api.evalGenome(new Uint8Array([1, 2, 3]), '88888888888888888', 1, 4)),
      msg(() => window.api.evalGenome(undefined, '88888888888888888', -3, 4)),
      msg(() => window.api.evalGenome(undefined, '88888888888888888', 1, 0)),
      msg(() => window.api.evalGenome(undefined, '88888888888888889', 1, 4)),
    ];
  });
  assert.match(errs[0], /safetensors/);
  assert.match(errs[1], /^seed/);
  assert.match(errs[2], /number of sequences/);
  assert.match(errs[3], /gene 16 \(tanh_n\) = 9/);
  assert.deepEqual(problems, []);
});
