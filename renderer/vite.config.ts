/*
 * Vite build of the admin UI: renderer/ -> dist/renderer/, relative asset paths (`base: './'`)
 * so the same build loads from the headless host (`/`) and from Electron (file or app
 * protocol). No inline scripts or styles are emitted, so the strict CSP (default-src 'self')
 * holds. Fails the build on any Svelte or TypeScript syntax error.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: './',
  plugins: [svelte({ compilerOptions: { runes: true } })],
  build: {
    outDir: here('../dist/renderer'),
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: { host: '127.0.0.1', strictPort: false },
});
