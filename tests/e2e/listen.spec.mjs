// The Listen page end to end in headless Chromium (the release build in dist/):
// - a fake microphone (`--use-file-for-fake-audio-capture`) playing Speech Commands validation
//   "yes" clips: the page shows the detection, saves the last 3 s as a WAV file, still detects
//   with "fewer false alarms on speech" on, no page errors;
// - no microphone: a clear message, and a WAV file still runs; its detections (8 bits) equal
//   the native listening session's on the same stream, and the compute time per 20 ms hop is
//   printed next to the native one (docs/BENCHMARKS.md).
// The streams are built at test time from ../shared/data by examples/listen_stream.rs; without
// the data the tests are skipped with a message (and fail under CI=true).
// Run: `node --test tests/e2e/listen.spec.mjs` (after `trunk build --release`).
// BITGRU_SCREENSHOTS=1 also writes docs/screenshots/listen-{light,dark}.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serve, launchChromium, watchProblems } from './serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIST = path.join(ROOT, 'dist');
const OUT = path.join(ROOT, 'tests/e2e/out');
const DATA = process.env.BITGRU_DATA ?? path.resolve(ROOT, '../shared/data');
const TIMEOUT = 180_000;
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'bitgru-listen-'));

const missing = fs.existsSync(path.join(DATA, 'speech_commands/validation_list.txt'))
  ? null : `Speech Commands data not found at ${DATA} (set BITGRU_DATA)`;
if (missing && process.env.CI === 'true') throw new Error(`CI=true: ${missing}`);
const skip = missing ? `skipped: ${missing}` : false;

let server;
let native;

before(async () => {
  if (missing) return;
  assert.ok(fs.existsSync(path.join(DIST, 'listen-worklet.js')), 'dist/ is missing or old: run `trunk build --release`');
  // The streams, and the native session's detections and timing on them.
  const out = execFileSync('cargo', ['run', '-q', '--example', 'listen_stream', '--', DATA, TMP, '2'],
    { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  native = JSON.parse(out);
  fs.mkdirSync(OUT, { recursive: true });
  server = await serve(DIST, { isolated: true });
});
after(async () => {
  await server?.close();
  fs.rmSync(TMP, { recursive: true, force: true });
});

async function open(browser, { grant }) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  if (grant) await context.grantPermissions(['microphone'], { origin: server.url });
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(`${server.url}#/listen`);
  await page.waitForSelector('#worker-mode[data-ready="true"]', { timeout: TIMEOUT });
  await page.waitForSelector('#mic-start:not([disabled])', { timeout: TIMEOUT });
  await page.waitForSelector('#save-audio:not([disabled])', { timeout: TIMEOUT });
  return { context, page, problems };
}

test('listen: a fake microphone saying "yes" is detected; the last 3 s save as WAV', { skip }, async () => {
  const browser = await launchChromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    '--autoplay-policy=no-user-gesture-required',
    `--use-file-for-fake-audio-capture=${path.join(TMP, 'yes.wav')}`]);
  try {
    const { context, page, problems } = await open(browser, { grant: true });
    await page.click('#mic-start');
    await page.waitForSelector('#listen-source[data-source="mic"]', { timeout: TIMEOUT });
    assert.match(await page.textContent('#listen-source'), /16 kHz/);
    await page.waitForSelector('#detections tr.det[data-word="yes"]', { timeout: TIMEOUT });
    // Let a few more clips play, then look at what the 8-bit detector said.
    await page.waitForFunction(() => document.querySelectorAll('#detections tr.det[data-variant="0"]').length >= 3,
      null, { timeout: TIMEOUT });
    const words = await page.$$eval('#detections tr.det[data-variant="0"]', (rows) => rows.map((r) => r.dataset.word));
    const yes = words.filter((w) => w === 'yes').length;
    console.log(`fake microphone (yes clips): 8-bit detections ${JSON.stringify(words)}`);
    assert.ok(yes > words.length / 2, `mostly "yes": ${words}`);
    assert.equal(await page.getAttribute('#last-detection', 'data-word') !== '', true);
    assert.ok(Number(await page.getAttribute('#hop-time', 'data-us')) > 0);
    assert.ok(await page.locator('.cb-row').count() === 6, 'kws4: 6 class rows');
    // The status bar names the model this page runs (the current model stays row-mnist).
    assert.equal(await page.textContent('#page-model'), 'This page runs kws4');

    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: TIMEOUT }), page.click('#save-audio')]);
    const wav = path.join(TMP, 'saved.wav');
    await dl.saveAs(wav);
    const b = fs.readFileSync(wav);
    assert.equal(b.subarray(0, 4).toString('latin1'), 'RIFF');
    assert.equal(b.readUInt32LE(24), 16000, '16 kHz');
    assert.equal(b.readUInt16LE(22), 1, 'mono');
    assert.equal(b.readUInt32LE(40), 3 * 16000 * 2, 'the last 3 s, 16-bit');

    if (process.env.BITGRU_SCREENSHOTS === '1') {
      const dir = path.join(ROOT, 'docs/screenshots');
      await page.addStyleTag({ content: '.statusbar, .top { position: static !important } .notices { display: none }' });
      for (const scheme of ['light', 'dark']) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.waitForTimeout(1500);
        await page.screenshot({ path: path.join(dir, `listen-${scheme}.png`), fullPage: true });
      }
    }
    // "Fewer false alarms on speech" restarts the detectors with the unknown margin; a clear
    // "yes" still gets through.
    const before = await page.locator('#detections tr.det[data-variant="0"][data-word="yes"]').count();
    await page.check('#fewer-speech-alarms');
    await page.waitForFunction((n) => document.querySelectorAll('#detections tr.det[data-variant="0"][data-word="yes"]').length > n,
      before, { timeout: TIMEOUT });
    assert.equal(await page.locator('#listen-error').count(), 0);
    await page.click('#mic-stop');
    await page.waitForSelector('#listen-source[data-source="idle"]');
    assert.deepEqual(problems, []);
    await context.close();
  } finally {
    await browser.close();
  }
});

test('listen: a denied or missing microphone → a clear message; a WAV file gives the native session\'s detections', { skip }, async () => {
  // A device but no permission: denied.
  const denying = await launchChromium(['--use-fake-device-for-media-stream']);
  try {
    const { context, page, problems } = await open(denying, { grant: false });
    await page.click('#mic-start');
    await page.waitForSelector('#mic-error', { timeout: TIMEOUT });
    assert.match(await page.textContent('#mic-error'), /Microphone access was denied/);
    assert.deepEqual(problems, []);
    await context.close();
  } finally {
    await denying.close();
  }
  // No device at all: missing; the rest of the page still works.
  const browser = await launchChromium();
  try {
    const { context, page, problems } = await open(browser, { grant: false });
    await page.click('#mic-start');
    await page.waitForSelector('#mic-error', { timeout: TIMEOUT });
    assert.match(await page.textContent('#mic-error'), /No microphone was found/);
    assert.equal(await page.getAttribute('#mic-error', 'role'), 'alert');
    // 8 bits alone (the benchmark's configuration): the hop time is that variant's pipeline.
    await page.uncheck('#v-mixed');
    await page.uncheck('#v-float');
    await page.waitForSelector('#save-audio:not([disabled])', { timeout: TIMEOUT });
    await page.waitForFunction(() => document.querySelector('#activity')?.dataset.busy === 'false', null, { timeout: TIMEOUT });
    await page.setInputFiles('#listen-file', path.join(TMP, 'stream.wav'));
    await page.waitForSelector('#listen-source[data-source="file"]');
    await page.waitForFunction((hops) => document.querySelector('#hop-time')?.textContent.includes(` ${hops} hops`), native.hops, { timeout: TIMEOUT });
    const got = await page.$$eval('#detections tr.det[data-variant="0"]',
      (rows) => rows.map((r) => ({ t_s: Number(r.dataset.t), word: r.dataset.word })).reverse());
    const want = native.detections.map((d) => ({ t_s: Number(d.t_s.toFixed(2)), word: d.word }));
    assert.deepEqual(got, want, 'browser (wasm) detections = native session detections');
    // Quality on the stream: a detection of the right word within 2 s of a clip's start.
    const right = native.clips.filter((c) => got.some((d) => d.word === c.word && d.t_s >= c.start_s && d.t_s < c.start_s + 2)).length;
    console.log(`stream of ${native.clips.length} validation clips: ${right} detected right, ${got.length} detections`);
    assert.ok(right >= native.clips.length / 2, `${right} of ${native.clips.length}`);
    const us = Number(await page.getAttribute('#hop-time', 'data-us'));
    const usDetector = Number((await page.getAttribute('#hop-time', 'data-us-variants')).split(',')[0]);
    const bench = { model: 'kws4', hidden: native.hidden, genome: '8 bits', hops: native.hops,
      wasm_detector_us_per_hop: usDetector, native_detector_us_per_hop_best_of_5: native.native_detector_us_per_hop_best_of_5,
      wasm_session_us_per_hop: us, native_session_us_per_hop_best_of_5: native.native_us_per_hop_best_of_5,
      threaded: await page.getAttribute('#worker-mode', 'data-threaded'), load: os.loadavg() };
    fs.writeFileSync(path.join(OUT, 'listen-bench.json'), JSON.stringify(bench, null, 2));
    console.log(`per 20 ms hop, kws4 H=${native.hidden} at 8 bits: detector (MFCC + GRU + decision) wasm ${usDetector.toFixed(1)} µs, `
      + `native ${native.native_detector_us_per_hop_best_of_5.toFixed(1)} µs; whole session (+ spectrogram MFCC) wasm ${us.toFixed(1)} µs, `
      + `native ${native.native_us_per_hop_best_of_5.toFixed(1)} µs (same machine, same run; load ${os.loadavg()[0].toFixed(1)})`);
    assert.ok(us > 0, `${us} µs per hop`);
    assert.deepEqual(problems, []);
    await context.close();
  } finally {
    await browser.close();
  }
});
