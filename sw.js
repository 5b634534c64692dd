// bitgru service worker: after the first visit the app works with no network.
// - install: caches every file of the build (sw-manifest.json, written by scripts/post-build.sh);
// - fetch: cache first for same-origin GETs (network fallback, cached on the way), the cached
//   index.html for navigations when offline;
// - adds the cross-origin isolation headers (COOP/COEP/CORP) to what it serves (the page, the
//   workers' scripts), so that on a static host that cannot set them the threaded worker works
//   from the second visit on.
const MANIFEST = './sw-manifest.json';

async function manifest() {
  const r = await fetch(MANIFEST, { cache: 'no-store' });
  if (!r.ok) throw new Error(`${MANIFEST}: HTTP ${r.status}`);
  return r.json();
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const m = await manifest();
    const cache = await caches.open(`bitgru-${m.version}`);
    await cache.addAll(m.files.map((f) => new Request(f, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const m = await manifest().catch(() => null);
    if (m) {
      for (const k of await caches.keys()) {
        if (k.startsWith('bitgru-') && k !== `bitgru-${m.version}`) await caches.delete(k);
      }
    }
    await self.clients.claim();
  })());
});

function isolated(resp) {
  if (!resp || resp.status === 0 || resp.headers.get('Cross-Origin-Embedder-Policy')) return resp;
  const headers = new Headers(resp.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  headers.set('Cross-Origin-Resource-Policy', 'same-origin');
  return new Response(resp.body, { status: resp.status, statusText: resp.statusText, headers });
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin || url.pathname.endsWith('sw-manifest.json')) return;
  event.respondWith((async () => {
    const nav = req.mode === 'navigate';
    const hit = await caches.match(req, { ignoreSearch: true });
    if (hit) return isolated(hit);
    try {
      const resp = await fetch(req);
      if (resp.ok) {
        const keys = await caches.keys();
        const name = keys.find((k) => k.startsWith('bitgru-'));
        if (name) (await caches.open(name)).put(req, resp.clone());
      }
      return isolated(resp);
    } catch (e) {
      if (nav) {
        const index = await caches.match('./index.html') ?? await caches.match('./');
        if (index) return isolated(index);
      }
      throw e;
    }
  })());
});
