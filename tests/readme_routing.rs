//! The routing table of `docs/rules.md` (access × flags → identity, SPEC §4) is generated
//! from `route`: this test fails when the section between the markers
//! `<!-- routing-table:start -->` and `<!-- routing-table:end -->` differs from what the
//! code says. `UPDATE_README=1 cargo test --test all readme_routing::` rewrites the section (and
//! inserts it before `## Commands` when the markers are missing).

use bits_helper_token::{decide::*, job::*, net::*, profile::*, sid::*, token::*, *};
use std::fmt::Write as _;

const START: &str = "<!-- routing-table:start -->";
const END: &str = "<!-- routing-table:end -->";

fn sid(s: &str) -> Sid {
    s.parse().expect("valid SID")
}

/// A standard user owns every job of the table.
fn owner() -> Identity {
    Identity::new(sid("S-1-5-21-1-2-3-1001"), false)
}

/// The helper token stored on them.
fn helper() -> Identity {
    Identity::new(sid("S-1-5-21-1-2-3-1002"), false)
}

/// Explicit Basic, Digest and Passport credentials and implicit NTLM and Negotiate ones,
/// for the server and the proxy.
fn all_credentials() -> Credentials {
    let mut c = Credentials::NONE;
    for &target in AuthTarget::ALL {
        for &scheme in AuthScheme::ALL {
            let kind = if scheme.has_implicit_credentials() {
                Credential::Implicit
            } else {
                Credential::Explicit
            };
            c = c.set(target, scheme, kind).expect("valid credentials");
        }
    }
    c
}

/// A job on which `access` is made, and the release to route it on.
fn representative(access: Access) -> JobFacts {
    let job = JobFacts::new(owner()).with_helper(Some(helper()));
    match access {
        Access::UploadLocalFile => job.with_job_type(JobType::Upload),
        Access::ReplyFileCreate | Access::ReplyFileRename => {
            job.with_job_type(JobType::UploadReply)
        }
        Access::SmbRemoteFile => job.with_remote(Remote::Smb),
        Access::ProxyAutoDetect => job.with_proxy(ProxyUsage::Autodetect),
        Access::ProxyChallenge(scheme) | Access::ServerChallenge(scheme) => job
            .with_proxy(ProxyUsage::Override)
            .with_credentials(all_credentials())
            .with_challenges(
                Challenges::NONE
                    .with(AuthTarget::Server, scheme)
                    .with(AuthTarget::Proxy, scheme),
            ),
        // both challenge with Basic, NTLM and Negotiate; explicit Basic credentials
        // for both, no implicit ones: Negotiate and NTLM go unanswered, Basic answers.
        Access::WholeChallenge(_) => {
            let offered = [AuthScheme::Basic, AuthScheme::Ntlm, AuthScheme::Negotiate];
            let mut challenges = Challenges::NONE;
            for scheme in offered {
                challenges = challenges
                    .with(AuthTarget::Server, scheme)
                    .with(AuthTarget::Proxy, scheme);
            }
            let basic = Credentials::NONE
                .set(AuthTarget::Server, AuthScheme::Basic, Credential::Explicit)
                .and_then(|c| c.set(AuthTarget::Proxy, AuthScheme::Basic, Credential::Explicit))
                .expect("valid credentials");
            job.with_proxy(ProxyUsage::Override)
                .with_credentials(basic)
                .with_challenges(challenges)
        }
        Access::ClientCertificateKey => job.with_client_certificate(true),
        _ => job,
    }
}

/// "download over https, proxy autodetect, …": what the row's job is.
fn describe(job: &JobFacts, release: Release, access: Access) -> String {
    let mut s = format!("{} over {}", job.job_type, job.remote);
    if job.remote.is_http() {
        write!(s, ", proxy `{}`", job.proxy).unwrap();
    }
    if job.client_certificate {
        s.push_str(", client certificate");
    }
    if let Access::WholeChallenge(_) = access {
        if job.credentials.has_implicit(AuthTarget::Server) {
            s.push_str(", offers Basic, NTLM, Negotiate; explicit Basic, implicit Negotiate");
        } else {
            s.push_str(", offers Basic, NTLM, Negotiate; explicit Basic");
        }
    }
    if access.as_challenge().is_some() && job.credentials.is_empty() {
        s.push_str(", no credentials set");
    }
    if release != Release::LATEST {
        write!(s, ", `{release}`").unwrap();
    }
    s
}

fn cell(r: &Route) -> String {
    match (r.access, r.scheme) {
        (Access::WholeChallenge(_), Some(scheme)) => {
            format!("{} in {} ({})", r.principal.name(), scheme, r.rule.id)
        }
        _ => format!("{} ({})", r.principal.name(), r.rule.id),
    }
}

const FLAGS: [(TokenUsage, &str); 4] = [
    (TokenUsage::empty(), "`0`"),
    (TokenUsage::LOCAL_FILE, "`LOCAL_FILE`"),
    (TokenUsage::NETWORK, "`NETWORK`"),
    (TokenUsage::all(), "both"),
];

fn main_table(out: &mut String) {
    let mut rows: Vec<(Access, JobFacts, Release)> = Vec::new();
    for &access in Access::ALL {
        rows.push((access, representative(access), Release::LATEST));
        if access == Access::ProxyIeSettings {
            rows.push((access, representative(access), Release::Win10_1607));
        }
        if access == Access::ServerChallenge(AuthScheme::Negotiate) {
            let job = representative(access).with_credentials(Credentials::NONE);
            rows.push((access, job, Release::LATEST));
        }
        if access == Access::WholeChallenge(AuthTarget::Server) {
            let job = representative(access);
            let both = job
                .credentials
                .set(
                    AuthTarget::Server,
                    AuthScheme::Negotiate,
                    Credential::Implicit,
                )
                .expect("valid credentials");
            rows.push((access, job.with_credentials(both), Release::LATEST));
        }
    }
    out.push_str("| access | job |");
    for (_, name) in FLAGS {
        write!(out, " {name} |").unwrap();
    }
    out.push_str(" both, no helper token |\n|---|---|---|---|---|---|---|\n");
    for (access, job, release) in rows {
        let profile = Profile::new(release);
        write!(out, "| `{access}` | {} |", describe(&job, release, access)).unwrap();
        for (flags, _) in FLAGS {
            let job = job.with_flags(flags);
            write!(out, " {} |", cell(&route(&profile, &job, access))).unwrap();
        }
        let bare = job.with_flags(TokenUsage::all()).with_helper(None);
        writeln!(out, " {} |", cell(&route(&profile, &bare, access))).unwrap();
    }
}

fn service_table(out: &mut String) {
    out.push_str("| owner | access | `0` | `NETWORK` | `NETWORK`, no helper token |\n");
    out.push_str("|---|---|---|---|---|\n");
    let owners = [
        ("LocalSystem", Identity::LOCAL_SYSTEM),
        ("NetworkService", Identity::NETWORK_SERVICE),
        ("LocalService", Identity::LOCAL_SERVICE),
    ];
    for (name, owner) in owners {
        for access in [
            Access::SmbRemoteFile,
            Access::ServerChallenge(AuthScheme::Ntlm),
            Access::ServerChallenge(AuthScheme::Negotiate),
        ] {
            let base = representative(access);
            let job = |flags, h| base.with_owner(owner).with_flags(flags).with_helper(h);
            let p = Profile::default();
            writeln!(
                out,
                "| {name} `{}` | `{access}` | {} | {} | {} |",
                owner.sid,
                cell(&route(
                    &p,
                    &job(TokenUsage::empty(), Some(helper())),
                    access
                )),
                cell(&route(
                    &p,
                    &job(TokenUsage::NETWORK, Some(helper())),
                    access
                )),
                cell(&route(&p, &job(TokenUsage::NETWORK, None), access)),
            )
            .unwrap();
        }
    }
}

/// The whole section, markers included.
fn section() -> String {
    let mut out = String::new();
    writeln!(out, "{START}").unwrap();
    out.push_str(
        "## Which identity each access uses\n\
         \n\
         `route(profile, job, access)` answers as whom BITS makes one access of a transfer,\n\
         with the SPEC rule that decided (R-1…R-7, L-6); `transfer_plan(profile, job)` lists\n\
         the accesses of a whole transfer in order, each with its route, and the job's outcome:\n\
         TRANSFERRED, or ERROR — with `BG_E_TOKEN_REQUIRED` when the job has flags and no\n\
         helper token (L-6, X-2; before any access by default, Q-8), else at the first step\n\
         that fails: a challenge nothing answers (`BG_E_HTTP_ERROR_401` / `407`, X-3), the\n\
         client certificate's key over HTTPS (`0x80072F9A`, X-1). The challenges a transfer\n\
         meets are an input (none by default). The tables below are generated from\n\
         `route` by `tests/readme_routing.rs` (`UPDATE_README=1 cargo test --test all\n\
         readme_routing::` rewrites them).\n\
         \n\
         Each job is owned by a standard user and holds a helper token, on `win10_1809` unless\n\
         the row says otherwise; in the challenge rows the server and the proxy ask for that\n\
         scheme, and the job has explicit Basic, Digest and Passport credentials and\n\
         `SetCredentials(NULL, NULL)` for NTLM and Negotiate, for the server and the proxy.\n\
         Identities: `owner`, `helper`, `computer` and `anonymous` (R-6),\n\
         `explicit_credentials` (R-5), `no_implicit_credentials` (R-3), `not_applicable`,\n\
         `token_required` (the job fails, L-6). `R-0` marks the accesses no flag names.\n\
         \n",
    );
    main_table(&mut out);
    out.push_str(
        "\nService accounts authenticate on the network as the computer or anonymously, whether\n\
         theirs is the owner's token or the helper's (R-6). The computer answers a challenge\n\
         only through a Negotiate entry that allows implicit credentials, with Kerberos in the\n\
         domain — then NTLM as well as Negotiate (these jobs have `SetCredentials(NULL, NULL)`\n\
         for Negotiate). Without one, or without Kerberos, it presents no usable credentials and\n\
         the job fails (X-3); anonymous never answers. Q-12 `none` withholds it from a proxy.\n\
         \n",
    );
    service_table(&mut out);
    writeln!(out, "{END}").unwrap();
    out
}

fn rules_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md")
}

/// The document with its routing section replaced by `section` (inserted before
/// `## Commands` when the markers are missing), or `None` when neither is possible.
fn with_section(readme: &str, section: &str) -> Option<String> {
    if let (Some(start), Some(end)) = (readme.find(START), readme.find(END)) {
        let end = end + END.len() + usize::from(readme[end + END.len()..].starts_with('\n'));
        if start < end {
            return Some(format!("{}{section}{}", &readme[..start], &readme[end..]));
        }
    }
    let at = readme.find("\n## Commands")? + 1;
    Some(format!("{}{section}\n{}", &readme[..at], &readme[at..]))
}

#[test]
fn readme_routing_table_matches_the_code() {
    let path = rules_path();
    let readme = std::fs::read_to_string(&path).expect("docs/rules.md is readable");
    let expected = section();
    let current = match (readme.find(START), readme.find(END)) {
        (Some(start), Some(end)) if start < end => Some(&readme[start..end + END.len()]),
        _ => None,
    };
    if current == Some(expected.trim_end()) {
        return;
    }
    if std::env::var_os("UPDATE_README").is_some_and(|v| v == "1") {
        let updated = with_section(&readme, &expected).expect("docs/rules.md has `## Commands`");
        std::fs::write(&path, updated).expect("docs/rules.md is writable");
        return;
    }
    panic!(
        "docs/rules.md's routing section differs from the code. Run\n\
         `UPDATE_README=1 cargo test --test all readme_routing::`, or paste this between the markers:\n\n{expected}"
    );
}

#[test]
fn the_table_says_what_route_says() {
    // Spot checks of the generated text against SPEC §4, so a wrong generator cannot pass.
    let s = section();
    let row = |prefix: &str| {
        s.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no row {prefix}"))
            .to_string()
    };
    assert_eq!(
        row("| `download_temp_file_create` |"),
        "| `download_temp_file_create` | download over https, proxy `preconfig` | owner (R-1) | helper (R-1) | owner (R-1) | helper (R-1) | token_required (L-6) |"
    );
    assert_eq!(
        row("| `proxy_ie_settings` | download over https, proxy `preconfig`, `win10_1607` |"),
        "| `proxy_ie_settings` | download over https, proxy `preconfig`, `win10_1607` | owner (R-7) | owner (R-7) | owner (R-7) | owner (R-7) | owner (R-7) |"
    );
    assert_eq!(
        row("| `client_certificate_key` |"),
        "| `client_certificate_key` | download over https, proxy `preconfig`, client certificate | owner (R-4) | owner (R-4) | owner (R-4) | owner (R-4) | owner (R-4) |"
    );
    assert_eq!(
        row("| LocalService `S-1-5-19` | `smb_remote_file` |"),
        "| LocalService `S-1-5-19` | `smb_remote_file` | anonymous (R-6) | helper (R-2) | token_required (L-6) |"
    );
    assert!(s.starts_with(START) && s.trim_end().ends_with(END));
}

#[test]
fn with_section_replaces_or_inserts() {
    let section = format!("{START}\nnew\n{END}\n");
    let old = format!("# x\n\n{START}\nold\n{END}\n\n## Commands\n");
    assert_eq!(
        with_section(&old, &section).unwrap(),
        format!("# x\n\n{START}\nnew\n{END}\n\n## Commands\n")
    );
    assert_eq!(
        with_section("# x\n\n## Commands\nrun\n", &section).unwrap(),
        format!("# x\n\n{START}\nnew\n{END}\n\n## Commands\nrun\n")
    );
    assert_eq!(with_section("# x\n", &section), None);
}
