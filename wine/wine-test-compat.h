/*
 * wine-test-compat.h: the few parts of Wine's test API that tokenoptions.c uses, written
 * for bits-helper-token so that the test builds as a plain Windows program with
 * mingw-w64 or MSVC, without a Wine source tree. It is not Wine's wine/test.h: built
 * with -DUSE_WINE_TEST_H, tokenoptions.c includes that one instead.
 *
 * SPDX-License-Identifier: MIT OR Apache-2.0
 *
 * What it provides, with the meaning Wine's tests give it:
 *
 *   ok(condition, format, ...)   one check: counted, and printed when it fails
 *   broken(condition)            the condition on Windows; always false under Wine, so a
 *                                behaviour only some Windows versions show is accepted
 *                                on Windows and never under Wine
 *   skip(format, ...)            a group of checks that cannot run here
 *   win_skip(format, ...)        a skip on Windows; under Wine a failed check (Wine
 *                                should have what some Windows versions lack)
 *   todo_wine <statement>        under Wine, the checks in <statement> are expected to
 *                                fail (counted as todo; one that passes is a failure);
 *                                on Windows it changes nothing
 *   trace(format, ...)           a line in the log
 *   wine_dbgstr_w(string)        a wide string, quoted, for a message
 *   START_TEST(name) { ... }     the test's body; main() runs it, prints
 *                                "name: N tests executed (T marked as todo, F failures), S skipped."
 *                                and returns 0 only when no check failed
 *
 * Under Wine means: ntdll.dll exports wine_get_version. WINETEST_PLATFORM=windows or
 * =wine in the environment overrides the detection, as with Wine's own tests.
 */

#ifndef WINE_TEST_COMPAT_H
#define WINE_TEST_COMPAT_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <windows.h>

#if defined(__GNUC__)
#define WINETEST_COMPAT_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define WINETEST_COMPAT_PRINTF(fmt, args)
#endif

struct winetest_compat_state
{
    const char *file;
    int line;
    int platform_is_wine; /* -1: not yet known */
    unsigned int todo_level; /* one bit per nested todo block, the innermost lowest */
    int todo_loop;
    LONG successes, failures, todo_successes, todo_failures, skipped;
    char strings[4096]; /* wine_dbgstr_w's results, reused in turn */
    size_t string_pos;
};

static struct winetest_compat_state winetest_compat = {.file = "", .platform_is_wine = -1};

static inline int winetest_platform_is_wine(void)
{
    if (winetest_compat.platform_is_wine < 0)
    {
        char value[16];
        HMODULE ntdll = GetModuleHandleA("ntdll.dll");

        if (GetEnvironmentVariableA("WINETEST_PLATFORM", value, sizeof(value)))
            winetest_compat.platform_is_wine = !strcmp(value, "wine");
        else
            winetest_compat.platform_is_wine =
                ntdll && GetProcAddress(ntdll, "wine_get_version") != NULL;
    }
    return winetest_compat.platform_is_wine;
}

static inline void winetest_set_location(const char *file, int line)
{
    const char *slash = strrchr(file, '/');
    const char *backslash = strrchr(file, '\\');

    if (backslash > slash) slash = backslash;
    winetest_compat.file = slash ? slash + 1 : file;
    winetest_compat.line = line;
}

static inline void winetest_print_location(const char *what)
{
    printf("%s:%d: %s", winetest_compat.file, winetest_compat.line, what);
}

static inline int broken(int condition)
{
    return !winetest_platform_is_wine() && condition;
}

static inline int winetest_vok(int condition, const char *format, va_list args)
{
    if (winetest_compat.todo_level & 1)
    {
        if (condition)
        {
            winetest_print_location("Test succeeded inside todo block: ");
            vprintf(format, args);
            winetest_compat.todo_failures++;
            return 0;
        }
        winetest_print_location("Test marked todo: ");
        vprintf(format, args);
        winetest_compat.todo_successes++;
        return 1;
    }
    if (!condition)
    {
        winetest_print_location("Test failed: ");
        vprintf(format, args);
        winetest_compat.failures++;
        return 0;
    }
    winetest_compat.successes++;
    return 1;
}

static inline void winetest_vskip(const char *format, va_list args)
{
    winetest_print_location("Tests skipped: ");
    vprintf(format, args);
    winetest_compat.skipped++;
}

static inline void winetest_ok(int condition, const char *format, ...) WINETEST_COMPAT_PRINTF(2, 3);
static inline void winetest_ok(int condition, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    winetest_vok(condition, format, args);
    va_end(args);
}

static inline void winetest_skip(const char *format, ...) WINETEST_COMPAT_PRINTF(1, 2);
static inline void winetest_skip(const char *format, ...)
{
    va_list args;

    va_start(args, format);
    winetest_vskip(format, args);
    va_end(args);
}

static inline void winetest_win_skip(const char *format, ...) WINETEST_COMPAT_PRINTF(1, 2);
static inline void winetest_win_skip(const char *format, ...)
{
    va_list args;

    va_start(args, format);
    if (winetest_platform_is_wine())
        winetest_vok(0, format, args);
    else
        winetest_vskip(format, args);
    va_end(args);
}

static inline void winetest_trace(const char *format, ...) WINETEST_COMPAT_PRINTF(1, 2);
static inline void winetest_trace(const char *format, ...)
{
    va_list args;

    winetest_print_location("");
    va_start(args, format);
    vprintf(format, args);
    va_end(args);
}

static inline void winetest_start_todo(int is_todo)
{
    winetest_compat.todo_level = (winetest_compat.todo_level << 1) | (is_todo != 0);
    winetest_compat.todo_loop = 1;
}

static inline int winetest_loop_todo(void)
{
    int again = winetest_compat.todo_loop;

    winetest_compat.todo_loop = 0;
    return again;
}

static inline void winetest_end_todo(void)
{
    winetest_compat.todo_level >>= 1;
}

/* The statement after it runs once, its checks as todo when is_todo holds. */
#define todo_if(is_todo) \
    for (winetest_start_todo(is_todo); winetest_loop_todo(); winetest_end_todo())
#define todo_wine todo_if(winetest_platform_is_wine())

#define ok (winetest_set_location(__FILE__, __LINE__), 0) ? (void)0 : winetest_ok
#define skip (winetest_set_location(__FILE__, __LINE__), 0) ? (void)0 : winetest_skip
#define win_skip (winetest_set_location(__FILE__, __LINE__), 0) ? (void)0 : winetest_win_skip
#define trace (winetest_set_location(__FILE__, __LINE__), 0) ? (void)0 : winetest_trace

/* The string quoted, for a message: printable ASCII as is, the rest as \xxxx. */
static inline const char *wine_dbgstr_w(const WCHAR *s)
{
    char *out;
    size_t n = 0, size, i;

    if (!s) return "(null)";
    while (s[n]) n++;
    if (n > 300) n = 300;
    size = n * 5 + 4;
    if (winetest_compat.string_pos + size > sizeof(winetest_compat.strings))
        winetest_compat.string_pos = 0;
    out = winetest_compat.strings + winetest_compat.string_pos;
    winetest_compat.string_pos += size;
    i = 0;
    out[i++] = '"';
    for (; n; n--, s++)
    {
        if (*s >= ' ' && *s <= '~' && *s != '"' && *s != '\\')
            out[i++] = (char)*s;
        else
            i += sprintf(out + i, "\\%04x", (unsigned int)*s);
    }
    out[i++] = '"';
    out[i] = 0;
    return out;
}

static inline int winetest_compat_main(const char *name, void (*test)(void))
{
    LONG failed;

    setvbuf(stdout, NULL, _IONBF, 0);
    test();
    failed = winetest_compat.failures + winetest_compat.todo_failures;
    printf("%s: %ld tests executed (%ld marked as todo, %ld %s), %ld skipped.\n", name,
           winetest_compat.successes + winetest_compat.failures
               + winetest_compat.todo_successes + winetest_compat.todo_failures,
           winetest_compat.todo_successes, failed, failed == 1 ? "failure" : "failures",
           winetest_compat.skipped);
    return failed != 0;
}

#define START_TEST(name) \
    static void func_##name(void); \
    int main(void) \
    { \
        return winetest_compat_main(#name, func_##name); \
    } \
    static void func_##name(void)

#endif /* WINE_TEST_COMPAT_H */
