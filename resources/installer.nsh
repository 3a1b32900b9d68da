; Gatehouse: additions to electron-builder's NSIS scripts (electron-builder.yml nsis.include).
; What it does:
; - Installer: a page (Japanese and English) offers "Run Gatehouse as a Windows service";
;   `/S /service` chooses it silently. When chosen, it adds the inbound firewall rule for SMTP
;   (TCP 25, domain and private profiles only) and runs `gatehouse service install` with the app
;   it has just installed (ELECTRON_RUN_AS_NODE=1), which writes the service wrapper's XML,
;   registers and starts the service, moves the desktop data to %ProgramData%\Gatehouse and
;   sets the firewall rule to the configured port. An upgrade in place keeps the service: it is
;   stopped before the files are replaced, its XML is written again, and it is started again
;   only if it was running (data and state stay as they were).
; - Uninstaller: stops the service first; a real uninstall (not the one an update runs)
;   removes the service and the firewall rule, and asks whether to remove the data folders
;   (settings, logs, queued mail in %APPDATA%\Gatehouse of the user running it and, for the
;   service, %ProgramData%\Gatehouse). The default answer, a silent uninstall (/S) and the
;   uninstall that runs during an update all keep them. `--delete-app-data` on the
;   uninstaller's command line still removes the per-user folder without asking
;   (electron-builder's own switch).
; How it fails: a service step that fails is reported in the details list with its exit code
; and the install goes on (the app then runs in desktop mode, and Settings can try again); a
; folder that cannot be removed is left in place and reported. Saved as UTF-8 with BOM so NSIS
; reads the Japanese text correctly. electron-builder builds with -WX, so nothing here may warn
; (test/installer/nsis.test.ts compiles it with makensis -WX, both halves).

!include "FileFunc.nsh"
!include "nsDialogs.nsh"

!define GATEHOUSE_SERVICE "Gatehouse"
!define GATEHOUSE_FIREWALL_RULE "Gatehouse SMTP"
!define GATEHOUSE_SMTP_PORT "25"

; Declared here, not in customHeader: electron-builder inserts the pages before customHeader.
!ifndef BUILD_UNINSTALLER
  Var gatehouseService
  Var gatehouseServiceExisted
  Var gatehouseServiceWasRunning
  Var gatehouseServiceCheckbox
!endif

!macro customHeader
  !ifdef BUILD_UNINSTALLER
    LangString gatehouseRemoveData ${LANG_JAPANESE} "Gatehouse のデータ（設定・ログ・キューに残っているメール）も削除しますか？$\r$\n$\r$\n$R9$\r$\n$\r$\n再インストールして使い続ける場合は「いいえ」を選んでください。"
    LangString gatehouseRemoveData ${LANG_ENGLISH} "Also remove Gatehouse's data (settings, logs and mail still in the queue)?$\r$\n$\r$\n$R9$\r$\n$\r$\nChoose No to keep it for a later reinstall."
    LangString gatehouseRemoveFailed ${LANG_JAPANESE} "一部のデータを削除できませんでした: $R9"
    LangString gatehouseRemoveFailed ${LANG_ENGLISH} "Some data could not be removed: $R9"
  !else
    LangString gatehouseServiceTitle ${LANG_JAPANESE} "Windows サービスとして実行"
    LangString gatehouseServiceTitle ${LANG_ENGLISH} "Run as a Windows service"
    LangString gatehouseServiceSubtitle ${LANG_JAPANESE} "サインインしていなくてもメールを中継し続けます。"
    LangString gatehouseServiceSubtitle ${LANG_ENGLISH} "Keep relaying mail when nobody is signed in."
    LangString gatehouseServiceOption ${LANG_JAPANESE} "Gatehouse を Windows サービスとして実行する（常時稼働のゲートウェイにはこちらを推奨）"
    LangString gatehouseServiceOption ${LANG_ENGLISH} "Run Gatehouse as a Windows service (recommended for an always-on gateway)"
    LangString gatehouseServiceExplain ${LANG_JAPANESE} "サービスは PC の起動時に開始し、誰もサインインしていなくても動作します。SMTP ポート（25）への受信を許可する Windows ファイアウォールの規則を、ドメインとプライベートのネットワークに限って追加します。データは %ProgramData%\Gatehouse に移し、トレイとウィンドウはサービスを操作する画面になります。"
    LangString gatehouseServiceExplain ${LANG_ENGLISH} "The service starts with Windows and runs with nobody signed in. A Windows Firewall rule lets the office network reach the SMTP port (25), on domain and private networks only. The data moves to %ProgramData%\Gatehouse, and the tray and window become its remote control."
    LangString gatehouseServiceFailed ${LANG_JAPANESE} "サービスの設定に失敗しました（終了コード $R0）。Gatehouse はデスクトップモードで動作します。設定画面からもう一度試せます。"
    LangString gatehouseServiceFailed ${LANG_ENGLISH} "Setting up the service failed (exit code $R0). Gatehouse runs in desktop mode; try again from Settings."
  !endif
!macroend

; $R0 <- 0 running, 3 installed but not running, anything else: not installed.
!macro gatehouseServiceState
  nsExec::Exec `"$SYSDIR\WindowsPowerShell\v1.0\powershell.exe" -NoProfile -NonInteractive -Command "$$s = Get-Service -Name ${GATEHOUSE_SERVICE} -ErrorAction SilentlyContinue; if (-not $$s) { exit 1 } elseif ($$s.Status -eq 'Running') { exit 0 } else { exit 3 }"`
  Pop $R0
!macroend

; Stop-Service waits until the service has stopped (the wrapper gives the gateway 30 s).
!macro gatehouseStopService
  DetailPrint "sc stop ${GATEHOUSE_SERVICE}"
  nsExec::ExecToLog `"$SYSDIR\WindowsPowerShell\v1.0\powershell.exe" -NoProfile -NonInteractive -Command "Stop-Service -Name ${GATEHOUSE_SERVICE} -ErrorAction SilentlyContinue"`
  Pop $R0
!macroend

!macro gatehouseFirewallDelete
  nsExec::ExecToLog `"$SYSDIR\netsh.exe" advfirewall firewall delete rule name="${GATEHOUSE_FIREWALL_RULE}"`
  Pop $R0
!macroend

!macro gatehouseFirewallAdd
  nsExec::ExecToLog `"$SYSDIR\netsh.exe" advfirewall firewall add rule name="${GATEHOUSE_FIREWALL_RULE}" dir=in action=allow protocol=TCP localport=${GATEHOUSE_SMTP_PORT} profile=domain,private program="$INSTDIR\${APP_EXECUTABLE_FILENAME}" description="Gatehouse SMTP gateway: mail from the office network"`
  Pop $R0
!macroend

!ifndef BUILD_UNINSTALLER
  ; Before any page: is there a service already (an upgrade), and is `/service` on the command line?
  !macro customInit
    StrCpy $gatehouseService "0"
    StrCpy $gatehouseServiceExisted "0"
    StrCpy $gatehouseServiceWasRunning "0"
    !insertmacro gatehouseServiceState
    ${if} $R0 == 0
      StrCpy $gatehouseServiceExisted "1"
      StrCpy $gatehouseServiceWasRunning "1"
      StrCpy $gatehouseService "1"
    ${elseif} $R0 == 3
      StrCpy $gatehouseServiceExisted "1"
      StrCpy $gatehouseService "1"
    ${endif}
    ${GetParameters} $R1
    ClearErrors
    ${GetOptions} $R1 "/service" $R2
    ${ifNot} ${Errors}
      StrCpy $gatehouseService "1"
    ${endif}
    ; A silent install has no page to leave: stop the service now, before the files change.
    ${if} ${Silent}
    ${andIf} $gatehouseServiceWasRunning == "1"
      !insertmacro gatehouseStopService
    ${endif}
  !macroend

  !macro customPageAfterChangeDir
    Page custom gatehouseServicePageCreate gatehouseServicePageLeave

    Function gatehouseServicePageCreate
      !insertmacro MUI_HEADER_TEXT "$(gatehouseServiceTitle)" "$(gatehouseServiceSubtitle)"
      nsDialogs::Create 1018
      Pop $R0
      ${if} $R0 == error
        Abort
      ${endif}
      ${NSD_CreateCheckbox} 0 0 100% 24u "$(gatehouseServiceOption)"
      Pop $gatehouseServiceCheckbox
      ${if} $gatehouseService == "1"
        ${NSD_Check} $gatehouseServiceCheckbox
      ${endif}
      ; An upgrade keeps the service: going back to desktop mode is done in Settings (it moves
      ; the data back), not by unticking this.
      ${if} $gatehouseServiceExisted == "1"
        EnableWindow $gatehouseServiceCheckbox 0
      ${endif}
      ${NSD_CreateLabel} 12u 30u -12u 72u "$(gatehouseServiceExplain)"
      Pop $R0
      nsDialogs::Show
    FunctionEnd

    ; The last page before the files are copied: the admin has decided, so a running service
    ; can stop now (it releases Gatehouse.exe and the wrapper, which the upgrade replaces).
    Function gatehouseServicePageLeave
      ${NSD_GetState} $gatehouseServiceCheckbox $R0
      ${if} $R0 == ${BST_CHECKED}
        StrCpy $gatehouseService "1"
      ${else}
        StrCpy $gatehouseService "0"
      ${endif}
      ${if} $gatehouseServiceWasRunning == "1"
        !insertmacro gatehouseStopService
      ${endif}
    FunctionEnd
  !macroend

  !macro customInstall
    ${if} $gatehouseService == "1"
      ${ifNot} $gatehouseServiceExisted == "1"
        !insertmacro gatehouseFirewallAdd
      ${endif}
      ; The new app's CLI does the rest (the same code as `gatehouse service install` and
      ; Settings): XML, registration, data folder, firewall port, start.
      ${if} $gatehouseServiceExisted == "1"
      ${andIf} $gatehouseServiceWasRunning == "0"
        StrCpy $R1 "--no-start"
      ${else}
        StrCpy $R1 ""
      ${endif}
      System::Call 'Kernel32::SetEnvironmentVariable(t "ELECTRON_RUN_AS_NODE", t "1") i .R2'
      nsExec::ExecToLog `"$INSTDIR\${APP_EXECUTABLE_FILENAME}" "$INSTDIR\resources\app.asar\dist\main\cli\run.js" service install --from-installer $R1`
      Pop $R0
      System::Call 'Kernel32::SetEnvironmentVariable(t "ELECTRON_RUN_AS_NODE", p 0) i .R2'
      ${if} $R0 != 0
        DetailPrint "$(gatehouseServiceFailed)"
      ${endif}
    ${endif}
  !macroend
!endif

!macro customUnInit
  ; The service's Gatehouse.exe must stop before its files go (an update or a real uninstall).
  !insertmacro gatehouseServiceState
  ${if} $R0 == 0
    !insertmacro gatehouseStopService
  ${endif}
!macroend

!macro customUnInstall
  ${ifNot} ${isUpdated}
    ; A real uninstall: the service and its firewall rule go with the app.
    !insertmacro gatehouseServiceState
    ${if} $R0 == 0
    ${orIf} $R0 == 3
      nsExec::ExecToLog `"$SYSDIR\sc.exe" delete ${GATEHOUSE_SERVICE}`
      Pop $R0
    ${endif}
    !insertmacro gatehouseFirewallDelete
  ${endIf}
  ${ifNot} ${isUpdated}
  ${andIfNot} ${Silent}
    ; Electron keeps per-user data even for a per-machine install.
    SetShellVarContext current
    StrCpy $R9 "$APPDATA\${PRODUCT_NAME}"
    ${if} ${FileExists} "$R9\*.*"
      MessageBox MB_YESNO|MB_ICONQUESTION|MB_DEFBUTTON2 "$(gatehouseRemoveData)" /SD IDNO IDNO gatehouseKeepData
        ClearErrors
        RMDir /r "$R9"
        ${if} ${Errors}
          DetailPrint "$(gatehouseRemoveFailed)"
        ${endif}
      gatehouseKeepData:
    ${endIf}
    ; The service's data folder (%ProgramData%\Gatehouse).
    SetShellVarContext all
    StrCpy $R9 "$APPDATA\${PRODUCT_NAME}"
    ${if} ${FileExists} "$R9\*.*"
      MessageBox MB_YESNO|MB_ICONQUESTION|MB_DEFBUTTON2 "$(gatehouseRemoveData)" /SD IDNO IDNO gatehouseKeepServiceData
        ClearErrors
        RMDir /r "$R9"
        ${if} ${Errors}
          DetailPrint "$(gatehouseRemoveFailed)"
        ${endif}
      gatehouseKeepServiceData:
    ${endIf}
    ${if} $installMode != "all"
      SetShellVarContext current
    ${endif}
  ${endIf}
!macroend
