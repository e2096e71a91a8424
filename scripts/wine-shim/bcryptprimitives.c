/*
 * bcryptprimitives.dll shim for Wine 8.
 *
 * Rust's standard library (1.78 and later) imports `ProcessPrng` from
 * bcryptprimitives.dll to seed its hash maps. Wine 8 (Debian 12's) ships no
 * such DLL, so a Rust std binary fails to start. This shim exports
 * `ProcessPrng` and implements it over `SystemFunction036` (RtlGenRandom)
 * from advapi32, which Wine does implement. It is a test-bed aid only: it is
 * never shipped and never used on real Windows.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll \
 *            bcryptprimitives.c bcryptprimitives.def -ladvapi32
 */
#include <windows.h>

/* RtlGenRandom; declared here to avoid depending on ntsecapi.h quirks. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/*
 * BOOL ProcessPrng(PBYTE pbData, SIZE_T cbData): fills the buffer with random
 * bytes; documented to always return TRUE. SystemFunction036 takes a ULONG
 * length, so large requests are split into chunks.
 */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst;
    (void)reason;
    (void)reserved;
    return TRUE;
}
