; Gatehouse: additions to electron-builder's NSIS scripts (electron-builder.yml nsis.include).
; What it does: the uninstaller asks whether to remove the data folder (settings, logs, queued
; mail in %APPDATA%\Gatehouse of the user running it); the default answer, a silent uninstall
; (/S) and the uninstall that runs during an update all keep it. `--delete-app-data` on the
; uninstaller's command line still removes it without asking (electron-builder's own switch).
; How it fails: a folder that cannot be removed (files in use) is left in place and reported
; in the details list; the uninstall itself goes on. Saved as UTF-8 with BOM so NSIS reads
; the Japanese text correctly. electron-builder builds with -WX, so nothing here may warn.

!macro customHeader
  !ifdef BUILD_UNINSTALLER
    LangString gatehouseRemoveData ${LANG_JAPANESE} "Gatehouse のデータ（設定・ログ・キューに残っているメール）も削除しますか？$\r$\n$\r$\n$R9$\r$\n$\r$\n再インストールして使い続ける場合は「いいえ」を選んでください。"
    LangString gatehouseRemoveData ${LANG_ENGLISH} "Also remove Gatehouse's data (settings, logs and mail still in the queue)?$\r$\n$\r$\n$R9$\r$\n$\r$\nChoose No to keep it for a later reinstall."
    LangString gatehouseRemoveFailed ${LANG_JAPANESE} "一部のデータを削除できませんでした: $R9"
    LangString gatehouseRemoveFailed ${LANG_ENGLISH} "Some data could not be removed: $R9"
  !endif
!macroend

!macro customUnInstall
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
        ${endIf}
      gatehouseKeepData:
    ${endIf}
    ${if} $installMode == "all"
      SetShellVarContext all
    ${endIf}
  ${endIf}
!macroend
