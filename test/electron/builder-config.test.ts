/*
 * The installer configuration, checked by electron-builder's own schema validation (the
 * same code `electron-builder` runs before building; no download needed), plus the
 * decisions the issue asks for: per-machine NSIS with ja/en UI, shortcuts, icons, an
 * uninstaller that asks before removing data, and only built output in the app. The Windows
 * workflow is checked by windows-workflow.test.ts.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..', '..');
// app-builder-lib is electron-builder's engine: resolve it from there, not from the project.
const fromBuilder = createRequire(createRequire(path.join(root, 'package.json')).resolve('electron-builder/package.json'));
const { getConfig, validateConfiguration } = fromBuilder('app-builder-lib/out/util/config/config.js') as {
  getConfig(projectDir: string, configPath: string | null, fromOptions: unknown): Promise<Record<string, any>>;
  validateConfiguration(config: unknown, debugLogger: unknown): Promise<void>;
};
const { DebugLogger } = fromBuilder('builder-util') as { DebugLogger: new (enabled?: boolean) => unknown };
const yaml = fromBuilder('js-yaml') as { load(text: string): any };

let config: Record<string, any>;

beforeAll(async () => {
  config = await getConfig(root, path.join(root, 'electron-builder.yml'), null);
});

describe('electron-builder.yml', () => {
  it("passes electron-builder's schema validation", async () => {
    await expect(validateConfiguration(structuredClone(config), new DebugLogger(false))).resolves.toBeUndefined();
  });

  it('the validation really runs: a misspelt option is refused', async () => {
    const bad = structuredClone(config);
    bad.nsis.perMachin = true;
    await expect(validateConfiguration(bad, new DebugLogger(false))).rejects.toThrow(/configuration object that does not match the API schema/);
  });

  it('is a per-machine, assisted NSIS installer in Japanese and English with shortcuts', () => {
    expect(config.appId).toBe('jp.gatehouse.app');
    expect(config.productName).toBe('Gatehouse');
    expect(config.asar).toBe(true);
    expect(config.win.target).toEqual([{ target: 'nsis', arch: ['x64'] }]);
    expect(config.nsis).toMatchObject({
      oneClick: false,
      perMachine: true,
      allowToChangeInstallationDirectory: true,
      createDesktopShortcut: 'always',
      createStartMenuShortcut: true,
      installerLanguages: ['ja_JP', 'en_US'],
      language: '1041',
      deleteAppDataOnUninstall: false,
      include: 'resources/installer.nsh',
    });
  });

  it('ships the built output and package.json only: no sources, tests or maps', () => {
    const raw = yaml.load(fs.readFileSync(path.join(root, 'electron-builder.yml'), 'utf8'));
    expect(raw.files).toEqual(expect.arrayContaining(['package.json', 'dist/main/**/*.js', 'dist/main/electron/preload.cjs', 'dist/renderer/**/*', '!**/*.map']));
    for (const f of raw.files as string[]) expect(f.startsWith('!') || f === 'package.json' || f.startsWith('dist/'), f).toBe(true);
  });

  it('points at files that exist', () => {
    for (const f of [config.win.icon, config.nsis.installerIcon, config.nsis.uninstallerIcon, config.nsis.include, config.linux.icon]) {
      expect(fs.existsSync(path.join(root, f)), f).toBe(true);
    }
    for (const r of config.extraResources) expect(fs.existsSync(path.join(root, r.from)), r.from).toBe(true);
  });

  it('package.json: main is what build:electron emits, dist:win uses this config', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(pkg.main).toBe('dist/main/electron/main.js');
    expect(pkg.scripts['build:electron']).toContain('main/electron/tsconfig.json');
    expect(pkg.scripts.build).toContain('build:electron');
    expect(pkg.scripts['dist:win']).toMatch(/electron-builder --win nsis .*--config electron-builder\.yml/);
    expect(pkg.dependencies.electron).toBeUndefined(); // a devDependency: electron-builder refuses it in dependencies
  });
});

describe('resources/installer.nsh', () => {
  const text = fs.readFileSync(path.join(root, 'resources', 'installer.nsh'));
  const s = text.toString('utf8');

  it('is UTF-8 with a BOM (NSIS reads the Japanese text correctly only so)', () => {
    expect([...text.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  });

  it('asks before removing data, keeps it on updates and silent uninstalls, in both languages', () => {
    expect(s).toMatch(/!macro customUnInstall/);
    expect(s).toMatch(/\$\{ifNot\} \$\{isUpdated\}/);
    expect(s).toMatch(/\$\{andIfNot\} \$\{Silent\}/);
    expect(s).toMatch(/MessageBox MB_YESNO\|MB_ICONQUESTION\|MB_DEFBUTTON2 "\$\(gatehouseRemoveData\)" \/SD IDNO/);
    expect(s).toMatch(/RMDir \/r "\$R9"/);
    expect(s).toMatch(/LangString gatehouseRemoveData \$\{LANG_JAPANESE\} ".*削除しますか/);
    expect(s).toMatch(/LangString gatehouseRemoveData \$\{LANG_ENGLISH\} ".*remove/);
    expect(s).toMatch(/StrCpy \$R9 "\$APPDATA\\\$\{PRODUCT_NAME\}"/);
  });

  // electron-builder compiles with makensis -WX; this harness stands in for its templates
  // (the uninstaller pass defines BUILD_UNINSTALLER, both languages, $installMode, isUpdated).
  const makensis = spawnSync('makensis', ['-VERSION'], { encoding: 'utf8' }).status === 0;
  if (!makensis) console.log('builder-config.test.ts: the makensis check of installer.nsh is SKIPPED because makensis is absent (apt-get install -y nsis)');
  it.skipIf(!makensis)('compiles with makensis -WX in an uninstaller pass (Japanese and English)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-nsis-'));
    try {
      const harness = [
        'Unicode true',
        '!define BUILD_UNINSTALLER',
        '!define PRODUCT_NAME "Gatehouse"',
        '!include "MUI2.nsh"',
        '!include "LogicLib.nsh"',
        'Name "Gatehouse installer.nsh check"',
        `OutFile "${path.join(dir, 'check.exe')}"`,
        'RequestExecutionLevel user',
        'Var installMode',
        '!macro _isUpdated _a _b _t _f',
        '  StrCmp "$installMode" "updated" `${_t}` `${_f}`',
        '!macroend',
        '!define isUpdated `"" isUpdated ""`',
        '!insertmacro MUI_PAGE_INSTFILES',
        '!insertmacro MUI_UNPAGE_INSTFILES',
        '!insertmacro MUI_LANGUAGE "Japanese"',
        '!insertmacro MUI_LANGUAGE "English"',
        `!include "${path.join(root, 'resources', 'installer.nsh')}"`,
        '!insertmacro customHeader',
        'Section "Install"',
        '  StrCpy $installMode "all"',
        '  WriteUninstaller "$TEMP\\check-uninstall.exe"',
        'SectionEnd',
        'Section "un.Uninstall"',
        '  !insertmacro customUnInstall',
        'SectionEnd',
      ].join('\n');
      fs.writeFileSync(path.join(dir, 'check.nsi'), harness);
      const r = spawnSync('makensis', ['-WX', '-V2', path.join(dir, 'check.nsi')], { encoding: 'utf8' });
      expect(r.stdout + r.stderr).not.toMatch(/warning|error/i);
      expect(r.status).toBe(0);
      expect(fs.existsSync(path.join(dir, 'check.exe'))).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Decodes the size of a PNG (IHDR) and checks its CRCs. */
function pngSize(buf: Buffer): number {
  expect([...buf.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const ihdr = buf.subarray(12, 29);
  expect(buf.readUInt32BE(29)).toBe(zlib.crc32(ihdr));
  return buf.readUInt32BE(16);
}

describe('icons', () => {
  it('tray icons: 16 px and @2x 32 px for each state, a few hundred bytes', () => {
    for (const state of ['running', 'stopped', 'error']) {
      const one = fs.readFileSync(path.join(root, 'resources', 'tray', `tray-${state}.png`));
      const two = fs.readFileSync(path.join(root, 'resources', 'tray', `tray-${state}@2x.png`));
      expect(pngSize(one)).toBe(16);
      expect(pngSize(two)).toBe(32);
      expect(one.length + two.length).toBeLessThan(4096);
    }
  });

  it('icon.ico holds 16-256 px images (256 is what Windows and NSIS want); icon.png is 256 px', () => {
    const ico = fs.readFileSync(path.join(root, 'resources', 'icon.ico'));
    expect(ico.readUInt16LE(2)).toBe(1);
    const n = ico.readUInt16LE(4);
    const sizes = Array.from({ length: n }, (_, i) => ico[6 + 16 * i] || 256);
    expect(sizes).toEqual(expect.arrayContaining([16, 32, 48, 256]));
    const last = 6 + 16 * (n - 1);
    expect(pngSize(ico.subarray(ico.readUInt32LE(last + 12)))).toBe(256);
    expect(ico.length).toBeLessThan(64 * 1024);
    expect(pngSize(fs.readFileSync(path.join(root, 'resources', 'icon.png')))).toBe(256);
  });
});
