/*
 * holdfile.exe PATH MS: opens PATH the way a virus scanner or the search indexer does, with
 * FILE_SHARE_READ only (no FILE_SHARE_WRITE, no FILE_SHARE_DELETE), holds it for MS
 * milliseconds and closes it. While it is held, another process's rename, unlink or write
 * of that file fails with a sharing violation (Node: EBUSY). Node's own fs.open always asks
 * for FILE_SHARE_DELETE, so a test cannot make this hold with Node alone.
 *
 * Prints "held" once the handle is open (the test waits for it) and "released" after the
 * close; exits 2 on bad arguments, 3 when the file cannot be opened (with the Win32 error).
 * Cross-built by scripts/windows-lane/run.mjs (x86_64-w64-mingw32-gcc, or gcc on Windows).
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

int wmain(int argc, wchar_t **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: holdfile PATH MS\n");
    return 2;
  }
  DWORD ms = (DWORD)wcstoul(argv[2], NULL, 10);
  HANDLE h = CreateFileW(argv[1], GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
  if (h == INVALID_HANDLE_VALUE) {
    fprintf(stderr, "holdfile: cannot open (Win32 error %lu)\n", GetLastError());
    return 3;
  }
  printf("held\n");
  fflush(stdout);
  Sleep(ms);
  CloseHandle(h);
  printf("released\n");
  fflush(stdout);
  return 0;
}
