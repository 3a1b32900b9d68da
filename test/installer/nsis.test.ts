/*
 * resources/installer.nsh compiled with Debian's makensis, the way electron-builder uses it
 * (-WX: a warning fails the build), in both halves: the installer (customHeader, customInit,
 * the service page in customPageAfterChangeDir, customInstall) and the uninstaller
 * (customHeader, customUnInit, customUnInstall). electron-builder's own templates need its
 * NSIS plugins, which are not here, so a small wrapper script stands in for them: MUI2 pages in
 * Japanese and English and a stub for its ${isUpdated} condition. The compiled installer is
 * left uncompressed so the test can find the commands it will run (the firewall rule added on
 * domain and private profiles, removed at uninstall, the service stopped, the CLI's
 * `service install`) in the binary itself, as UTF-16 strings.
 */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const NSH = path.join(ROOT, 'resources', 'installer.nsh');

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gh-nsis-'));
});
afterAll(async () => {
  if (!process.env.KEEP_NSIS) await fs.rm(dir, { recursive: true, force: true });
});

function wrapper(uninstaller: boolean, out: string): string {
  return `Unicode true
SetCompress off
${uninstaller ? '!define BUILD_UNINSTALLER' : ''}
!define PRODUCT_NAME "Gatehouse"
!define APP_EXECUTABLE_FILENAME "Gatehouse.exe"
Name "Gatehouse"
OutFile "${out}"
RequestExecutionLevel admin
InstallDir "$PROGRAMFILES64\\Gatehouse"
!include "MUI2.nsh"
!include "LogicLib.nsh"

; electron-builder's variables and its \${isUpdated} condition (true when run by an update).
Var installMode
Var updatedStub
!macro _isUpdated _a _b _t _f
  StrCmp $updatedStub "1" \`\${_t}\` \`\${_f}\`
!macroend
!define isUpdated \`"" isUpdated ""\`

!include "${NSH}"

!ifdef BUILD_UNINSTALLER
  !insertmacro MUI_UNPAGE_INSTFILES
!else
  !insertmacro MUI_PAGE_WELCOME
  !insertmacro customPageAfterChangeDir
  !insertmacro MUI_PAGE_INSTFILES
!endif
!insertmacro MUI_LANGUAGE "Japanese"
!insertmacro MUI_LANGUAGE "English"
!insertmacro customHeader

!ifdef BUILD_UNINSTALLER
  Function un.onInit
    StrCpy $updatedStub "0"
    StrCpy $installMode "all"
    !insertmacro customUnInit
  FunctionEnd
  Section "Uninstall"
    !insertmacro customUnInstall
  SectionEnd
  ; An uninstaller script still needs an installer section, which writes it.
  Section
    WriteUninstaller "$INSTDIR\\uninstall.exe"
  SectionEnd
!else
  Function .onInit
    StrCpy $updatedStub "0"
    StrCpy $installMode "all"
    !insertmacro customInit
  FunctionEnd
  Section
    SetOutPath $INSTDIR
    !insertmacro customInstall
  SectionEnd
!endif
`;
}

async function compile(uninstaller: boolean): Promise<{ exe: Buffer; log: string }> {
  const name = uninstaller ? 'uninstaller' : 'installer';
  const out = path.join(dir, `${name}.exe`);
  const script = path.join(dir, `${name}.nsi`);
  await fs.writeFile(script, wrapper(uninstaller, out));
  const { stdout, stderr } = await run('makensis', ['-WX', '-V2', '-INPUTCHARSET', 'UTF8', script], { maxBuffer: 16 * 1024 * 1024 });
  return { exe: await fs.readFile(out), log: stdout + stderr };
}

const has = (exe: Buffer, text: string): boolean => exe.includes(Buffer.from(text, 'utf16le'));

// Debian's nsis; .ci/run installs it. A Windows process (the Windows lane, the runner) has none.
const makensis = spawnSync('makensis', ['-VERSION'], { encoding: 'utf8' }).status === 0;
if (!makensis) console.log('nsis.test.ts: compiling installer.nsh is SKIPPED because makensis is absent (apt-get install -y nsis)');

describe('resources/installer.nsh compiled with makensis -WX', () => {
  it.skipIf(!makensis)('the installer: service page in both languages, the firewall rule added, the CLI run', async () => {
    const { exe } = await compile(false);
    expect(has(exe, 'Run Gatehouse as a Windows service (recommended for an always-on gateway)')).toBe(true);
    expect(has(exe, 'Gatehouse を Windows サービスとして実行する（常時稼働のゲートウェイにはこちらを推奨）')).toBe(true);
    expect(has(exe, 'advfirewall firewall add rule name="Gatehouse SMTP" dir=in action=allow protocol=TCP localport=25 profile=domain,private program="')).toBe(true);
    expect(has(exe, '\\resources\\app.asar\\dist\\main\\cli\\run.js" service install --from-installer ')).toBe(true);
    expect(has(exe, 'ELECTRON_RUN_AS_NODE')).toBe(true);
    expect(has(exe, '/service')).toBe(true);
    expect(has(exe, 'Stop-Service -Name Gatehouse')).toBe(true);
  }, 60_000);

  it.skipIf(!makensis)('the uninstaller: service stopped and removed, the firewall rule removed', async () => {
    const { exe } = await compile(true);
    expect(has(exe, 'Stop-Service -Name Gatehouse')).toBe(true);
    expect(has(exe, 'sc.exe" delete Gatehouse')).toBe(true);
    expect(has(exe, 'advfirewall firewall delete rule name="Gatehouse SMTP"')).toBe(true);
    expect(has(exe, 'advfirewall firewall add rule')).toBe(false);
  }, 60_000);

  it('the rule names match the service commands (plan.ts)', async () => {
    const text = await fs.readFile(NSH, 'utf8');
    const { FIREWALL_RULE, SERVICE_NAME } = await import('../../main/core/service/layout.js');
    expect(text).toContain(`!define GATEHOUSE_FIREWALL_RULE "${FIREWALL_RULE}"`);
    expect(text).toContain(`!define GATEHOUSE_SERVICE "${SERVICE_NAME}"`);
    expect(text.charCodeAt(0)).toBe(0xfeff); // UTF-8 with BOM
  });
});
