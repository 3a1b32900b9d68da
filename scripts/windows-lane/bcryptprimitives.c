/*
 * bcryptprimitives.dll for the Windows lane's Wine prefix: exports ProcessPrng, which
 * Windows 10+ has and Debian's Wine 8 lacks. Rust-built Node addons (rolldown, the bundler
 * under vite and vitest) import it for their random numbers, so without it vitest cannot
 * load under Wine. ProcessPrng fills the buffer and always succeeds on Windows; here it
 * forwards to RtlGenRandom (advapi32's SystemFunction036), Wine's system random source, in
 * chunks because RtlGenRandom takes a 32-bit length. Cross-built by
 * scripts/windows-lane/run.mjs with x86_64-w64-mingw32-gcc; never shipped to users.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
    if (!SystemFunction036(data, n)) return FALSE;
    data += n;
    len -= n;
  }
  return TRUE;
}
