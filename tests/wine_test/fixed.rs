//! The parts of `wine/tokenoptions.c` that do not depend on the scenarios: the includes,
//! `IBitsTokenOptions` where the headers lack it, casting the roles onto tokens, and the
//! steps the generated scenario functions call.

/// From the includes to the roles, before the generated `MAX_HANDLES`.
pub const INCLUDES: &str = r#"#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define COBJMACROS

#include "windows.h"
#include "sddl.h"
#ifndef USE_WINE_TEST_H
#include "initguid.h" /* bits.h's GUIDs too: mingw-w64's libuuid has none of them */
#endif
#include "bits.h"
#include "initguid.h"
#include "bits5_0.h"

#ifdef USE_WINE_TEST_H
#include "wine/test.h"
#else
#include "wine-test-compat.h"
#endif

/* IBitsTokenOptions (bits4_0.h; BITS 4.0, Windows 7 and later), declared here when the
 * headers do not: mingw-w64 has no bits4_0.h. */
#ifndef __IBitsTokenOptions_INTERFACE_DEFINED__
#define __IBitsTokenOptions_INTERFACE_DEFINED__
#ifndef __IBitsTokenOptions_FWD_DEFINED__
#define __IBitsTokenOptions_FWD_DEFINED__
typedef struct IBitsTokenOptions IBitsTokenOptions;
#endif
typedef struct IBitsTokenOptionsVtbl
{
    HRESULT (STDMETHODCALLTYPE *QueryInterface)(IBitsTokenOptions *This, REFIID riid, void **object);
    ULONG (STDMETHODCALLTYPE *AddRef)(IBitsTokenOptions *This);
    ULONG (STDMETHODCALLTYPE *Release)(IBitsTokenOptions *This);
    HRESULT (STDMETHODCALLTYPE *SetHelperTokenFlags)(IBitsTokenOptions *This, DWORD flags);
    HRESULT (STDMETHODCALLTYPE *GetHelperTokenFlags)(IBitsTokenOptions *This, DWORD *flags);
    HRESULT (STDMETHODCALLTYPE *SetHelperToken)(IBitsTokenOptions *This);
    HRESULT (STDMETHODCALLTYPE *ClearHelperToken)(IBitsTokenOptions *This);
    HRESULT (STDMETHODCALLTYPE *GetHelperTokenSid)(IBitsTokenOptions *This, LPWSTR *sid);
} IBitsTokenOptionsVtbl;
struct IBitsTokenOptions
{
    const IBitsTokenOptionsVtbl *lpVtbl;
};
#define IBitsTokenOptions_Release(This) (This)->lpVtbl->Release(This)
#define IBitsTokenOptions_SetHelperTokenFlags(This, flags) (This)->lpVtbl->SetHelperTokenFlags(This, flags)
#define IBitsTokenOptions_GetHelperTokenFlags(This, flags) (This)->lpVtbl->GetHelperTokenFlags(This, flags)
#define IBitsTokenOptions_SetHelperToken(This) (This)->lpVtbl->SetHelperToken(This)
#define IBitsTokenOptions_ClearHelperToken(This) (This)->lpVtbl->ClearHelperToken(This)
#define IBitsTokenOptions_GetHelperTokenSid(This, sid) (This)->lpVtbl->GetHelperTokenSid(This, sid)
#endif

/* IID_IBitsTokenOptions, {9a2584c3-f7d2-457a-9a5e-22b67bffc7d2}, under a name of its own so
 * that the test links the same whether or not the headers declare it. */
static const IID iid_token_options =
    {0x9a2584c3, 0xf7d2, 0x457a, {0x9a, 0x5e, 0x22, 0xb6, 0x7b, 0xff, 0xc7, 0xd2}};

/* The roles a scenario casts onto tokens. */
enum role
{
    ROLE_CURRENT,  /* this process's token: an elevated administrator */
    ROLE_FILTERED, /* the same with BUILTIN\Administrators deny-only */
    ROLE_LOW,      /* filtered, at Low integrity */
    ROLE_IDENTIFY, /* current, copied at identification level */
    ROLE_COUNT
};
#define ROLE(role) (1u << (role))

static const char *const role_names[ROLE_COUNT] = {"current", "filtered", "low", "identify"};
static HANDLE role_token[ROLE_COUNT];
static WCHAR *role_sid[ROLE_COUNT];        /* the token's user SID (ConvertSidToStringSidW) */
static char role_missing[ROLE_COUNT][160]; /* why the role is not cast; empty when it is */

static IBackgroundCopyManager *manager;
"#;

/// From the answers to the generated scenario functions.
pub const HELPERS: &str = r#"
/* One step's answer. */
struct answer
{
    BOOL called; /* FALSE: not called, for its handle is NULL (QueryInterface failed) */
    enum { KIND_PLAIN, KIND_FLAGS, KIND_SID } kind;
    HRESULT hr;
    DWORD flags; /* GetHelperTokenFlags */
    WCHAR *sid;  /* GetHelperTokenSid, freed with CoTaskMemFree */
};

struct scenario
{
    const char *name;
    enum role owner;
    IBackgroundCopyJob *job;
    IBitsTokenOptions *handle[MAX_HANDLES];
    struct answer a;
};

static void missing(enum role role, const char *what, DWORD error)
{
    sprintf(role_missing[role], "%s (error %lu)", what, error);
}

static BOOL user_sid(HANDLE token, WCHAR **text)
{
    union
    {
        TOKEN_USER user;
        BYTE bytes[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
    } info;
    DWORD size;

    return GetTokenInformation(token, TokenUser, &info, sizeof(info), &size)
           && ConvertSidToStringSidW(info.user.User.Sid, text);
}

static BOOL is_low_integrity(HANDLE token)
{
    union
    {
        TOKEN_MANDATORY_LABEL label;
        BYTE bytes[sizeof(TOKEN_MANDATORY_LABEL) + SECURITY_MAX_SID_SIZE];
    } info;
    DWORD size;
    PSID sid;

    if (!GetTokenInformation(token, TokenIntegrityLevel, &info, sizeof(info), &size))
        return FALSE;
    sid = info.label.Label.Sid;
    return *GetSidSubAuthority(sid, *GetSidSubAuthorityCount(sid) - 1) == SECURITY_MANDATORY_LOW_RID;
}

/* Casts every role this process can: its own token, a filtered copy, a Low-integrity copy
 * of that (only when Windows really lowers it), an identification-level copy. */
static void cast_roles(void)
{
    BYTE admins_sid[SECURITY_MAX_SID_SIZE], low_sid[SECURITY_MAX_SID_SIZE];
    SID_AND_ATTRIBUTES deny_only;
    TOKEN_MANDATORY_LABEL label;
    TOKEN_ELEVATION elevation;
    BOOL admin = FALSE, elevated = FALSE;
    DWORD size;
    int role;

    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY | TOKEN_DUPLICATE | TOKEN_IMPERSONATE,
                          &role_token[ROLE_CURRENT]))
    {
        for (role = 0; role < ROLE_COUNT; role++)
            missing(role, "OpenProcessToken failed", GetLastError());
        return;
    }
    size = sizeof(admins_sid);
    if (CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL, admins_sid, &size))
        CheckTokenMembership(NULL, admins_sid, &admin);
    if (GetTokenInformation(role_token[ROLE_CURRENT], TokenElevation, &elevation, sizeof(elevation), &size))
        elevated = elevation.TokenIsElevated != 0;
    trace("the process token: administrator %d, elevated %d\n", admin, elevated);
    if (!admin || !elevated)
    {
        strcpy(role_missing[ROLE_CURRENT],
               "the process token is not an elevated administrator, which the expectations assume");
        strcpy(role_missing[ROLE_IDENTIFY], "a copy of the process token, which is not an elevated administrator");
    }

    deny_only.Sid = admins_sid;
    deny_only.Attributes = 0;
    if (!CreateRestrictedToken(role_token[ROLE_CURRENT], 0, 1, &deny_only, 0, NULL, 0, NULL,
                               &role_token[ROLE_FILTERED]))
    {
        missing(ROLE_FILTERED, "CreateRestrictedToken failed", GetLastError());
        strcpy(role_missing[ROLE_LOW], "no filtered token to lower");
    }
    else if (!DuplicateTokenEx(role_token[ROLE_FILTERED],
                               TOKEN_QUERY | TOKEN_DUPLICATE | TOKEN_IMPERSONATE | TOKEN_ADJUST_DEFAULT, NULL,
                               SecurityImpersonation, TokenPrimary, &role_token[ROLE_LOW]))
        missing(ROLE_LOW, "DuplicateTokenEx failed", GetLastError());
    else
    {
        size = sizeof(low_sid);
        label.Label.Sid = low_sid;
        label.Label.Attributes = SE_GROUP_INTEGRITY;
        if (!CreateWellKnownSid(WinLowLabelSid, NULL, low_sid, &size)
            || !SetTokenInformation(role_token[ROLE_LOW], TokenIntegrityLevel, &label,
                                    sizeof(label) + GetLengthSid(low_sid)))
            missing(ROLE_LOW, "cannot set the integrity level", GetLastError());
        else if (!is_low_integrity(role_token[ROLE_LOW]))
            strcpy(role_missing[ROLE_LOW], "this system does not lower a token's integrity level");
    }

    if (!DuplicateTokenEx(role_token[ROLE_CURRENT], TOKEN_QUERY | TOKEN_DUPLICATE | TOKEN_IMPERSONATE, NULL,
                          SecurityIdentification, TokenImpersonation, &role_token[ROLE_IDENTIFY]))
        missing(ROLE_IDENTIFY, "DuplicateTokenEx failed", GetLastError());

    for (role = 0; role < ROLE_COUNT; role++)
    {
        if (!role_token[role]) continue;
        if (!user_sid(role_token[role], &role_sid[role]))
            missing(role, "cannot read the token's user SID", GetLastError());
        else
            trace("role %s: user %s%s%s\n", role_names[role], wine_dbgstr_w(role_sid[role]),
                  role_missing[role][0] ? ", not cast: " : "", role_missing[role]);
    }
}

static void free_roles(void)
{
    int role;

    for (role = 0; role < ROLE_COUNT; role++)
    {
        if (role_token[role]) CloseHandle(role_token[role]);
        LocalFree(role_sid[role]);
    }
}

/* A download job with no file. Wine's job.c: on a metered network (the test bot's Windows
 * 10) a job stalls unless its cost policy says to transfer always; IBackgroundCopyJob5 comes
 * with BITS 5.0, and a BITS before it has no cost policy. */
static HRESULT create_job(IBackgroundCopyJob **job)
{
    BITS_JOB_PROPERTY_VALUE value;
    IBackgroundCopyJob5 *job5;
    HRESULT hr;
    GUID id;

    *job = NULL;
    hr = IBackgroundCopyManager_CreateJob(manager, L"bits-helper-token tokenoptions", BG_JOB_TYPE_DOWNLOAD,
                                          &id, job);
    if (FAILED(hr)) return hr;
    if (SUCCEEDED(IBackgroundCopyJob_QueryInterface(*job, &IID_IBackgroundCopyJob5, (void **)&job5)))
    {
        value.Dword = BITS_COST_STATE_TRANSFER_ALWAYS; /* 0x800000ff */
        hr = IBackgroundCopyJob5_SetProperty(job5, BITS_JOB_PROPERTY_ID_COST_FLAGS /* 1 */, value);
        ok(hr == S_OK, "cannot set the job's cost flags: %#lx\n", hr);
        IBackgroundCopyJob5_Release(job5);
    }
    return S_OK;
}

/* Until RevertToSelf, this thread presents the role's token: with dynamic cloaking, BITS
 * sees it as the caller. */
static BOOL impersonate(struct scenario *s, enum role role)
{
    DWORD error;

    if (ImpersonateLoggedOnUser(role_token[role])) return TRUE;
    error = GetLastError();
    skip("%s: cannot impersonate %s (error %lu)\n", s->name, role_names[role], error);
    return FALSE;
}

/* Creates the scenario's job as its owner, when every role it casts is cast. */
static BOOL begin(struct scenario *s, const char *name, enum role owner, unsigned int roles)
{
    HRESULT hr;
    int role;

    memset(s, 0, sizeof(*s));
    s->name = name;
    s->owner = owner;
    for (role = 0; role < ROLE_COUNT; role++)
    {
        if ((roles & ROLE(role)) && role_missing[role][0])
        {
            skip("%s: role %s is not cast: %s\n", name, role_names[role], role_missing[role]);
            return FALSE;
        }
    }
    if (!impersonate(s, owner)) return FALSE;
    hr = create_job(&s->job);
    RevertToSelf();
    ok(hr == S_OK, "%s: cannot create a job as %s: %#lx\n", name, role_names[owner], hr);
    return hr == S_OK;
}

static void reset(struct answer *a)
{
    CoTaskMemFree(a->sid);
    memset(a, 0, sizeof(*a));
}

/* Releases the handles and cancels the job, whatever happened: as this process, else as
 * the job's owner. */
static void end(struct scenario *s)
{
    HRESULT hr;
    int h;

    reset(&s->a);
    for (h = 0; h < MAX_HANDLES; h++)
        if (s->handle[h]) IBitsTokenOptions_Release(s->handle[h]);
    if (!s->job) return;
    hr = IBackgroundCopyJob_Cancel(s->job);
    if (FAILED(hr) && hr != (HRESULT)BG_E_INVALID_STATE && ImpersonateLoggedOnUser(role_token[s->owner]))
    {
        hr = IBackgroundCopyJob_Cancel(s->job);
        RevertToSelf();
    }
    if (FAILED(hr) && hr != (HRESULT)BG_E_INVALID_STATE)
        trace("%s: cannot cancel the job: %#lx\n", s->name, hr);
    IBackgroundCopyJob_Release(s->job);
}

/* The steps. Those that impersonate return FALSE when they cannot (said as a skip). */

static BOOL query_interface(struct scenario *s, enum role caller, int h)
{
    reset(&s->a);
    if (s->handle[h]) IBitsTokenOptions_Release(s->handle[h]);
    s->handle[h] = NULL;
    if (!impersonate(s, caller)) return FALSE;
    s->a.called = TRUE;
    s->a.hr = IBackgroundCopyJob_QueryInterface(s->job, &iid_token_options, (void **)&s->handle[h]);
    RevertToSelf();
    if (FAILED(s->a.hr)) s->handle[h] = NULL;
    return TRUE;
}

static void set_flags(struct scenario *s, int h, DWORD flags)
{
    reset(&s->a);
    if (!s->handle[h]) return;
    s->a.called = TRUE;
    s->a.hr = IBitsTokenOptions_SetHelperTokenFlags(s->handle[h], flags);
}

static void get_flags(struct scenario *s, int h)
{
    reset(&s->a);
    s->a.kind = KIND_FLAGS;
    if (!s->handle[h]) return;
    s->a.called = TRUE;
    s->a.flags = 0xdeadbeef;
    s->a.hr = IBitsTokenOptions_GetHelperTokenFlags(s->handle[h], &s->a.flags);
}

static BOOL set_token(struct scenario *s, int h, enum role helper)
{
    reset(&s->a);
    if (!s->handle[h]) return TRUE;
    if (!impersonate(s, helper)) return FALSE;
    s->a.called = TRUE;
    s->a.hr = IBitsTokenOptions_SetHelperToken(s->handle[h]);
    RevertToSelf();
    return TRUE;
}

static void clear_token(struct scenario *s, int h)
{
    reset(&s->a);
    if (!s->handle[h]) return;
    s->a.called = TRUE;
    s->a.hr = IBitsTokenOptions_ClearHelperToken(s->handle[h]);
}

static void get_sid(struct scenario *s, int h)
{
    reset(&s->a);
    s->a.kind = KIND_SID;
    if (!s->handle[h]) return;
    s->a.called = TRUE;
    s->a.hr = IBitsTokenOptions_GetHelperTokenSid(s->handle[h], &s->a.sid);
}

static void cancel(struct scenario *s)
{
    reset(&s->a);
    s->a.called = TRUE;
    s->a.hr = IBackgroundCopyJob_Cancel(s->job);
}

static BOOL take_ownership(struct scenario *s, enum role by)
{
    reset(&s->a);
    if (!impersonate(s, by)) return FALSE;
    s->a.called = TRUE;
    s->a.hr = IBackgroundCopyJob_TakeOwnership(s->job);
    RevertToSelf();
    return TRUE;
}

/* What an answer can be. */

static BOOL no_handle(const struct answer *a)
{
    return !a->called;
}

static BOOL hr_is(const struct answer *a, DWORD hr)
{
    return a->called && (DWORD)a->hr == hr;
}

static BOOL flags_are(const struct answer *a, DWORD hr, DWORD flags)
{
    return hr_is(a, hr) && a->flags == flags;
}

static BOOL sid_is(const struct answer *a, DWORD hr, enum role role)
{
    return hr_is(a, hr) && a->sid && role_sid[role] && !lstrcmpW(a->sid, role_sid[role]);
}

static BOOL sid_is_null(const struct answer *a, DWORD hr)
{
    return hr_is(a, hr) && !a->sid;
}

static const char *describe(const struct answer *a)
{
    static char text[256];
    int n;

    if (!a->called) return "not called (no handle: QueryInterface failed)";
    n = sprintf(text, "0x%08lx", (unsigned long)a->hr);
    if (a->kind == KIND_FLAGS && a->hr == S_OK)
        sprintf(text + n, ", flags 0x%lx", a->flags);
    else if (a->kind == KIND_SID && a->hr == S_OK)
        sprintf(text + n, ", SID %s", a->sid ? wine_dbgstr_w(a->sid) : "NULL");
    return text;
}
"#;

/// `START_TEST`'s beginning, up to the generated calls of the scenario functions.
pub const MAIN_HEAD: &str = r#"
/* A job of this process's own, asked for the interface: E_NOINTERFACE before BITS 4.0
 * (Windows Vista and older), and under Wine, which should have it. */
static BOOL token_options_available(void)
{
    IBitsTokenOptions *options = NULL;
    IBackgroundCopyJob *job;
    HRESULT hr;

    hr = create_job(&job);
    ok(hr == S_OK, "cannot create a job: %#lx\n", hr);
    if (FAILED(hr)) return FALSE;
    hr = IBackgroundCopyJob_QueryInterface(job, &iid_token_options, (void **)&options);
    if (SUCCEEDED(hr)) IBitsTokenOptions_Release(options);
    IBackgroundCopyJob_Cancel(job);
    IBackgroundCopyJob_Release(job);
    if (hr == E_NOINTERFACE)
    {
        todo_wine win_skip("IBitsTokenOptions not available\n");
        return FALSE;
    }
    ok(hr == S_OK, "QueryInterface(IID_IBitsTokenOptions) failed: %#lx\n", hr);
    return hr == S_OK;
}

START_TEST(tokenoptions)
{
    HRESULT hr;

    CoInitialize(NULL);
    /* The impersonation level and dynamic cloaking: BITS must see the token this thread
     * impersonates when it calls QueryInterface, SetHelperToken or TakeOwnership. */
    hr = CoInitializeSecurity(NULL, -1, NULL, NULL, RPC_C_AUTHN_LEVEL_DEFAULT, RPC_C_IMP_LEVEL_IMPERSONATE,
                              NULL, EOAC_DYNAMIC_CLOAKING, NULL);
    ok(hr == S_OK, "CoInitializeSecurity failed: %#lx\n", hr);

    hr = CoCreateInstance(&CLSID_BackgroundCopyManager, NULL, CLSCTX_LOCAL_SERVER, &IID_IBackgroundCopyManager,
                          (void **)&manager);
    if (hr == HRESULT_FROM_WIN32(ERROR_SERVICE_DISABLED))
    {
        win_skip("Needed Service is disabled\n");
        CoUninitialize();
        return;
    }
    ok(hr == S_OK, "CoCreateInstance(CLSID_BackgroundCopyManager) failed: %#lx\n", hr);
    if (FAILED(hr))
    {
        CoUninitialize();
        return;
    }

    if (token_options_available())
    {
        cast_roles();
"#;

/// `START_TEST`'s end, after the calls of the scenario functions.
pub const MAIN_TAIL: &str = r#"        free_roles();
    }

    IBackgroundCopyManager_Release(manager);
    CoUninitialize();
}
"#;
