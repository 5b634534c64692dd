// End-to-end check of the Trunk build (dist/): the page, its worker, the threaded pool, and the
// single-threaded fallback. Run: `node --test tests/e2e/` (after `trunk build --release`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, launchChromium, watchProblems } from './serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIST = path.join(ROOT, 'dist');
const OUT = path.join(ROOT, 'tests/e2e/out');
const FIXTURE = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/fixtures/demo_eval.json'), 'utf8'));
const N = 1000;
const SEED = 42;
const TIMEOUT = 90_000;

let browser;
const runs = {};

before(async () => {
  assert.ok(fs.existsSync(path.join(DIST, 'index.html')), 'dist/ is missing: run `trunk build --release`');
  assert.ok(fs.existsSync(path.join(DIST, 'mt/worker_loader.js')), 'dist/mt/ (threaded worker) is missing');
  fs.mkdirSync(OUT, { recursive: true });
  browser = await launchChromium();
});
after(async () => { await browser?.close(); });

/** Opens the page, runs one evaluation, returns what the page showed. */
async function runPage({ isolated, shot }) {
  const server = await serve(DIST, { isolated });
  const page = await browser.newPage({ viewport: { width: 1000, height: 1250 } });
  const problems = watchProblems(page);
  try {
    await page.goto(server.url);
    await page.waitForSelector('#status[data-phase="ready"]', { timeout: TIMEOUT });
    const env = await page.evaluate(() => ({
      isolated: self.crossOriginIsolated,
      cores: navigator.hardwareConcurrency,
      threadedAttr: document.querySelector('#mode')?.dataset.threaded,
      modeText: document.querySelector('#mode')?.textContent,
      kernelText: document.querySelector('#kernel')?.textContent,
    }));
    assert.equal(await page.locator('#result').getAttribute('data-status'), 'idle');
    await page.fill('#seed', String(SEED));
    await page.fill('#count', String(N));
    await page.click('#run');
    await page.waitForSelector('#result[data-status="done"]', { timeout: TIMEOUT });
    const report = JSON.parse(await page.textContent('#result-json'));
    const attrs = await page.locator('#result').evaluate((el) => ({ ...el.dataset }));
    await page.locator('#result-json').evaluate((el) => el.closest('details').open = false);
    await page.screenshot({ path: path.join(OUT, shot), fullPage: true });
    return { env, report, attrs, problems: [...problems], genome: await page.inputValue('#genome') };
  } finally {
    await page.close();
    await server.close();
  }
}

function checkReport(report, attrs, genome) {
  // The first sequences of the batch are those of the natively computed fixture case.
  const native = FIXTURE.cases.find((c) => c.genome === genome && c.seed === SEED);
  assert.ok(native, `no fixture case for ${genome} seed ${SEED}`);
  assert.deepEqual(report.predictions.slice(0, native.n), native.predictions);
  assert.deepEqual(report.float_predictions.slice(0, native.n), native.float_predictions);
  assert.deepEqual(report.size, native.size);
  assert.equal(report.n, N);
  assert.equal(report.seed, SEED);
  assert.equal(report.genome, genome);
  assert.equal(report.predictions.length, N);
  assert.equal(report.float_predictions.length, N);
  assert.ok(report.predictions.every((c) => Number.isInteger(c) && c >= 0 && c < report.dims.classes));
  const agree = report.predictions.filter((c, i) => c === report.float_predictions[i]).length;
  assert.equal(report.agree, agree);
  assert.ok(report.agreement > 0.5, `agreement ${report.agreement}`);
  // The demo model is fitted to a labelled synthetic task: the page reports real accuracy.
  assert.ok(report.accuracy > 0.5 && report.float_accuracy > 0.5, `accuracy ${report.accuracy} / ${report.float_accuracy}`);
  assert.equal(attrs.accuracy, String(report.accuracy));
  assert.ok(report.size.bytes > 0 && report.size.normalized > 0 && report.size.normalized < 1);
  assert.ok(report.elapsed_ms >= 0);
  assert.equal(attrs.count, String(N));
  assert.equal(attrs.threaded, String(report.threaded));
  assert.equal(attrs.threads, String(report.threads));
}

test('cross-origin isolated: the threaded worker evaluates the batch', async () => {
  const r = await runPage({ isolated: true, shot: 'app-threaded.png' });
  runs.threaded = r;
  assert.deepEqual(r.problems, []);
  assert.equal(r.env.isolated, true);
  assert.equal(r.env.threadedAttr, 'true', `mode shown: ${r.env.modeText}`);
  assert.equal(r.env.kernelText, 'simd128', 'the threaded worker runs the simd128 kernel');
  checkReport(r.report, r.attrs, r.genome);
  assert.equal(r.report.threaded, true);
  assert.equal(r.report.threads, r.env.cores);
  assert.ok(r.report.threads >= 1);
  // The pool really ran: more than one thread took part (when there is more than one).
  if (r.report.threads > 1) assert.ok(r.report.threads_used >= 2, `threads used: ${r.report.threads_used}`);
});

test('not isolated: the single-threaded fallback gives the same predictions', async () => {
  const r = await runPage({ isolated: false, shot: 'app-single.png' });
  assert.deepEqual(r.problems, []);
  assert.equal(r.env.isolated, false);
  assert.equal(r.env.threadedAttr, 'false', `mode shown: ${r.env.modeText}`);
  assert.equal(r.env.kernelText, 'simd128', 'the single-threaded worker runs the simd128 kernel');
  checkReport(r.report, r.attrs, r.genome);
  assert.equal(r.report.threaded, false);
  assert.equal(r.report.threads, 1);
  assert.equal(r.report.threads_used, 1);
  assert.ok(runs.threaded, 'the threaded run must have succeeded first');
  assert.deepEqual(r.report.predictions, runs.threaded.report.predictions);
  assert.deepEqual(r.report.float_predictions, runs.threaded.report.float_predictions);
  assert.deepEqual(r.report.size, runs.threaded.report.size);
});

test('an invalid genome is explained and blocks the run; a worker error is shown', async () => {
  const server = await serve(DIST, { isolated: true });
  const page = await browser.newPage();
  const problems = watchProblems(page);
  try {
    await page.goto(server.url);
    await page.waitForSelector('#status[data-phase="ready"]', { timeout: TIMEOUT });
    assert.equal(await page.isDisabled('#run'), false);
    await page.fill('#genome', '8888888888888888');
    assert.match(await page.textContent('#genome-error'), /expected 17 digits/);
    assert.equal(await page.isDisabled('#run'), true);
    await page.fill('#genome', '88888888888888889');
    assert.match(await page.textContent('#genome-error'), /gene 16 \(tanh_n\) = 9/);
    await page.fill('#genome', '22222222222222222');
    assert.equal(await page.textContent('#genome-error'), '');
    await page.fill('#count', '0');
    assert.match(await page.textContent('#input-error'), /number of sequences/);
    assert.equal(await page.isDisabled('#run'), true);
    await page.fill('#count', '16');
    await page.click('#run');
    await page.waitForSelector('#result[data-status="done"]', { timeout: TIMEOUT });
    assert.equal(JSON.parse(await page.textContent('#result-json')).genome, '22222222222222222');
    // The worker validates on its own too: an error it reports is shown on the page.
    await page.evaluate(() => new Promise((resolve) => {
      // Simulate a message the worker rejects by posting through a fresh worker of the same build.
      const w = new Worker('./worker_loader.js');
      w.onmessage = (e) => {
        const m = JSON.parse(e.data);
        if (m.type === 'ready') w.postMessage(JSON.stringify({ type: 'evaluate', genome: '1', seed: 0, n: 1 }));
        else { window.__workerReply = m; w.terminate(); resolve(); }
      };
    }));
    const reply = await page.evaluate(() => window.__workerReply);
    assert.equal(reply.type, 'error');
    assert.equal(reply.during, 'evaluate');
    assert.match(reply.message, /no model/);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
    await server.close();
  }
});
