/*
 * Draws Gatehouse's icons with nothing but node:zlib, so they can be regenerated anywhere:
 *   resources/tray/tray-{running,warn,stopped,error}.png (16 px) and @2x (32 px): a rounded
 *     square in the state's colour (green / amber / grey / red) with a white envelope, or "!"
 *     for error;
 *   resources/icon.png (256 px) and resources/icon.ico (16, 24, 32, 48 as 32-bit BMP
 *     entries, 256 as PNG: what Windows and NSIS expect).
 * Shapes are rasterised with 4x4 supersampling. Usage: node scripts/make-icons.mjs. It
 * overwrites the files; it fails only if resources/ cannot be written.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'resources');

/* ---- PNG ---- */

const CRC_TABLE = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(buf) {
  let c = -1;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** rgba: Uint8Array(size*size*4), top row first. */
function png(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    Buffer.from(rgba.buffer, y * size * 4, size * 4).copy(raw, y * (size * 4 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/* ---- ICO: BMP (DIB) entries for small sizes, PNG for 256 ---- */

function dib(size, rgba) {
  const header = Buffer.alloc(40);
  header.writeUInt32LE(40, 0);
  header.writeInt32LE(size, 4);
  header.writeInt32LE(size * 2, 8); // XOR + AND masks
  header.writeUInt16LE(1, 12);
  header.writeUInt16LE(32, 14);
  const pixels = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const s = (y * size + x) * 4;
      const d = ((size - 1 - y) * size + x) * 4; // bottom-up
      pixels[d] = rgba[s + 2];
      pixels[d + 1] = rgba[s + 1];
      pixels[d + 2] = rgba[s];
      pixels[d + 3] = rgba[s + 3];
    }
  }
  const maskRow = Math.ceil(size / 32) * 4;
  const mask = Buffer.alloc(maskRow * size); // all 0: alpha channel decides
  return Buffer.concat([header, pixels, mask]);
}

function ico(entries) {
  const head = Buffer.alloc(6 + 16 * entries.length);
  head.writeUInt16LE(0, 0);
  head.writeUInt16LE(1, 2);
  head.writeUInt16LE(entries.length, 4);
  let offset = head.length;
  entries.forEach(({ size, data }, i) => {
    const e = 6 + 16 * i;
    head[e] = size >= 256 ? 0 : size;
    head[e + 1] = size >= 256 ? 0 : size;
    head[e + 2] = 0;
    head[e + 3] = 0;
    head.writeUInt16LE(1, e + 4);
    head.writeUInt16LE(32, e + 6);
    head.writeUInt32LE(data.length, e + 8);
    head.writeUInt32LE(offset, e + 12);
    offset += data.length;
  });
  return Buffer.concat([head, ...entries.map((e) => e.data)]);
}

/* ---- drawing: shapes in unit coordinates (0..1), later ones on top ---- */

const roundRect = (x0, y0, x1, y1, r) => (x, y) => {
  if (x < x0 || x > x1 || y < y0 || y > y1) return false;
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
};
const rect = (x0, y0, x1, y1) => (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1;
const segment = (ax, ay, bx, by, w) => (x, y) => {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
  return (x - ax - t * dx) ** 2 + (y - ay - t * dy) ** 2 <= (w / 2) ** 2;
};
const circle = (cx, cy, r) => (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
const union = (...fs) => (x, y) => fs.some((f) => f(x, y));
const minus = (a, b) => (x, y) => a(x, y) && !b(x, y);

/** An envelope outline: frame plus the flap's V; `w` is the stroke width. */
function envelope(x0, y0, x1, y1, w) {
  const frame = minus(rect(x0, y0, x1, y1), rect(x0 + w, y0 + w, x1 - w, y1 - w));
  const mx = (x0 + x1) / 2;
  const my = y0 + (y1 - y0) * 0.58;
  return union(frame, segment(x0 + w / 2, y0 + w / 2, mx, my, w), segment(x1 - w / 2, y0 + w / 2, mx, my, w));
}

function render(size, layers) {
  const rgba = new Uint8Array(size * size * 4);
  const ss = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < ss; sy++) {
        for (let sx = 0; sx < ss; sx++) {
          const x = (px + (sx + 0.5) / ss) / size;
          const y = (py + (sy + 0.5) / ss) / size;
          let col = null;
          for (const [shape, c] of layers) if (shape(x, y)) col = c;
          if (col) {
            r += col[0];
            g += col[1];
            b += col[2];
            a += 255;
          }
        }
      }
      const n = ss * ss;
      const i = (py * size + px) * 4;
      const cover = a / 255;
      rgba[i] = cover ? Math.round(r / cover) : 0;
      rgba[i + 1] = cover ? Math.round(g / cover) : 0;
      rgba[i + 2] = cover ? Math.round(b / cover) : 0;
      rgba[i + 3] = Math.round(a / n);
    }
  }
  return rgba;
}

const WHITE = [255, 255, 255];
const STATES = {
  running: [46, 125, 50],
  warn: [230, 120, 0],
  stopped: [117, 117, 117],
  error: [198, 40, 40],
};

function trayLayers(state, size) {
  // Thicker strokes at 16 px so the glyph survives the small size.
  const w = size <= 16 ? 1.1 / 16 : 0.085;
  const bg = roundRect(0.02, 0.02, 0.98, 0.98, 0.2);
  const glyph =
    state === 'error'
      ? union(roundRect(0.42, 0.16, 0.58, 0.62, 0.06), circle(0.5, 0.79, 0.09))
      : size <= 16
        ? envelope(3 / 16, 4 / 16, 13 / 16, 12 / 16, w)
        : envelope(0.17, 0.25, 0.83, 0.75, w);
  return [
    [bg, STATES[state]],
    [glyph, WHITE],
  ];
}

function appLayers() {
  const blue = [21, 101, 192];
  const bg = roundRect(0.04, 0.04, 0.96, 0.96, 0.18);
  // A gate: two posts and an arch over an envelope.
  const arch = minus(circle(0.5, 0.5, 0.36), circle(0.5, 0.5, 0.28));
  const archTop = (x, y) => arch(x, y) && y <= 0.5;
  const posts = union(rect(0.14, 0.5, 0.22, 0.84), rect(0.78, 0.5, 0.86, 0.84));
  return [
    [bg, blue],
    [union(archTop, posts), WHITE],
    [envelope(0.3, 0.45, 0.7, 0.74, 0.055), WHITE],
  ];
}

fs.mkdirSync(path.join(out, 'tray'), { recursive: true });
for (const state of Object.keys(STATES)) {
  fs.writeFileSync(path.join(out, 'tray', `tray-${state}.png`), png(16, render(16, trayLayers(state, 16))));
  fs.writeFileSync(path.join(out, 'tray', `tray-${state}@2x.png`), png(32, render(32, trayLayers(state, 32))));
}
const app = (size) => render(size, appLayers());
fs.writeFileSync(path.join(out, 'icon.png'), png(256, app(256)));
fs.writeFileSync(
  path.join(out, 'icon.ico'),
  ico([
    ...[16, 24, 32, 48].map((size) => ({ size, data: dib(size, app(size)) })),
    { size: 256, data: png(256, app(256)) },
  ]),
);
for (const f of ['icon.png', 'icon.ico', ...Object.keys(STATES).flatMap((s) => [`tray/tray-${s}.png`, `tray/tray-${s}@2x.png`])]) {
  process.stdout.write(`${path.join('resources', f)}  ${fs.statSync(path.join(out, f)).size} bytes\n`);
}
