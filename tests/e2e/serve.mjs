// A tiny static file server for the browser tests: loopback only, a random free port,
// `Cache-Control: no-store`, and optionally the cross-origin isolation headers (COOP/COEP)
// that shared memory (the threaded worker) needs.
import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.png': 'image/png',
  '.safetensors': 'application/octet-stream',
};

/**
 * Serves `root` on http://127.0.0.1:<port>/.
 * @param {string} root directory
 * @param {{isolated?: boolean, routes?: Record<string, string>}} opts
 *   isolated: send COOP `same-origin` + COEP `require-corp`; routes: extra in-memory HTML pages.
 * @returns {Promise<{url: string, close: () => Promise<void>}>}
 */
export async function serve(root, { isolated = true, routes = {} } = {}) {
  const base = path.resolve(root);
  const server = http.createServer(async (req, res) => {
    const headers = { 'Cache-Control': 'no-store' };
    if (isolated) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
      headers['Cross-Origin-Resource-Policy'] = 'same-origin';
    }
    try {
      let urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      if (urlPath.endsWith('/')) urlPath += 'index.html';
      if (routes[urlPath] !== undefined) {
        res.writeHead(200, { ...headers, 'Content-Type': TYPES['.html'] });
        return res.end(routes[urlPath]);
      }
      const file = path.resolve(base, '.' + urlPath);
      if (file !== base && !file.startsWith(base + path.sep)) throw Object.assign(new Error('outside root'), { code: 'ENOENT' });
      const body = await fs.readFile(file);
      const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
      res.writeHead(200, { ...headers, 'Content-Type': type });
      res.end(body);
    } catch (e) {
      res.writeHead(e.code === 'ENOENT' || e.code === 'EISDIR' ? 404 : 500, headers);
      res.end(String(e.message));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Headless Debian Chromium through playwright-core (flags from TOOLCHAIN.md), plus `extraArgs`. */
export async function launchChromium(extraArgs = []) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage', ...extraArgs,
    ],
  });
}

/** Collects page errors and console errors (of the page and its workers). */
export function watchProblems(page) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  page.on('crash', () => problems.push('page crashed'));
  page.on('worker', (w) => w.on('console', (m) => {
    if (m.type() === 'error') problems.push(`worker ${w.url()} console.error: ${m.text()}`);
  }));
  return problems;
}
