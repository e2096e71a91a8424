//! A walk through the helper-token rules with real decisions of the model.
//!
//! Run with `cargo run --example tour`. Every line it prints fits 100 columns.

use bits_helper_token::decide::{self, Impersonation};
use bits_helper_token::explain::Explained;
use bits_helper_token::job::Caller;
use bits_helper_token::job::JobType;
use bits_helper_token::net::ProxyUsage;
use bits_helper_token::net::{AuthScheme, AuthTarget, Challenges, Credential, IeSettings};
use bits_helper_token::profile::Release;
use bits_helper_token::token::TokenInfo;
use bits_helper_token::token::{LogonType, Token};
use bits_helper_token::{Decision, Job, JobFacts, Profile, Sid, TokenUsage};

/// The widest line the tour prints.
const WIDTH: usize = 100;

fn sid(s: &str) -> Sid {
    s.parse().expect("the tour's SIDs are valid")
}

/// Prints `text` after `first`, wrapped at [`WIDTH`] columns, continuation lines indented
/// by `indent` spaces.
fn wrapped(first: &str, text: &str, indent: usize) {
    let mut line = String::from(first);
    for word in text.split(' ') {
        if line.len() + 1 + word.len() > WIDTH && !line.trim().is_empty() {
            println!("{}", line.trim_end());
            line = " ".repeat(indent);
        }
        if !line.ends_with(' ') && !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    println!("{}", line.trim_end());
}

/// A decision, its rule and its sentence (made from the facts it was decided on).
fn answer(what: &str, d: &Explained<Decision>) {
    wrapped("", &format!("* {what}"), 4);
    println!("    -> {} ({})", d.hresult(), d.rule_id());
    wrapped("    why:", &d.to_string(), 9);
}

/// `SetHelperTokenFlags(flags)` by `caller` on a job with these facts: the caller obtains
/// the interface, then calls through it.
fn set_flags(what: &str, profile: Profile, caller: &TokenInfo, facts: JobFacts, flags: u32) {
    let mut job = Job::with_facts(profile, facts);
    match job.query_interface(caller) {
        Ok(handle) => {
            let d = handle
                .set_helper_token_flags(&mut job, flags)
                .expect("the job's own handle");
            answer(what, &d);
            if let Some(stored) = d.stored_flags() {
                println!("    stored flags: {stored}");
            }
        }
        Err(refused) => answer(what, refused.decision()),
    }
}

fn main() {
    let latest = Profile::new(Release::Win10_1809);
    let legacy = Profile::new(Release::Legacy);
    let alice = TokenInfo::standard_user(sid("S-1-5-21-1-2-3-1001"));
    let bob = TokenInfo::standard_user(sid("S-1-5-21-1-2-3-1002"));
    let admin = TokenInfo::elevated_administrator(sid("S-1-5-21-1-2-3-500"));
    let filtered = TokenInfo::filtered_administrator(admin.user);
    let service = TokenInfo::network_service();

    println!("bits-helper-token: the helper-token rules of BITS, decided by the model.");
    println!("Each rule is an id of SPEC.md; 'why' is the decision's own sentence.");

    println!("\n== SetHelperTokenFlags: who may set the usage flags ==\n");
    let ns_job = JobFacts::new(service.identity());
    let alice_job = JobFacts::new(alice.identity());
    let cases = [
        (
            "NetworkService sets NETWORK on its own job",
            latest,
            &service,
            ns_job,
            0x2,
        ),
        (
            "Bob sets LOCAL_FILE on Alice's job",
            latest,
            &bob,
            alice_job,
            0x1,
        ),
        (
            "Alice, whose job holds an administrator helper token",
            latest,
            &alice,
            alice_job.with_helper(Some(admin.identity())),
            0x1,
        ),
        (
            "...a UAC-filtered administrator token instead",
            latest,
            &alice,
            alice_job.with_helper(Some(filtered.identity())),
            0x1,
        ),
        (
            "An elevated administrator on Alice's job",
            latest,
            &admin,
            alice_job.with_helper(Some(admin.identity())),
            0x3,
        ),
        (
            "NetworkService on its own job, before 1607",
            legacy,
            &service,
            ns_job,
            0x2,
        ),
        (
            "An elevated administrator, before 1607",
            legacy,
            &admin,
            alice_job,
            0x2,
        ),
        (
            "Alice passes 0x6 (bit 0x4 is unknown)",
            latest,
            &alice,
            alice_job,
            0x6,
        ),
        (
            "An elevated administrator on a LocalSystem job",
            latest,
            &admin,
            JobFacts::new(TokenInfo::local_system().identity()),
            0x2,
        ),
        (
            "The same administrator, not elevated, on its elevated job",
            latest,
            &filtered,
            JobFacts::new(admin.identity()),
            0x1,
        ),
        (
            "NetworkService with a client certificate sets NETWORK",
            latest,
            &service,
            ns_job.with_client_certificate(true),
            0x2,
        ),
    ];
    for (what, profile, caller, facts, flags) in cases {
        set_flags(what, profile, caller, facts, flags);
    }

    read_but_not_change(&admin);
    run_as(&admin);
    lifecycle(&alice, &bob);
    routing(&bob);
    challenge_set(&alice);
}

/// L-11, L-15: a job created from "Run as" another user (or a scheduled task, WinRM): the
/// user is not logged on interactively, so `AddFile` fails with `0x800704DD` and the job
/// never gets a file. The fixes: a session that counts, or an administrator takes the job.
fn run_as(admin: &TokenInfo) {
    println!("\n== A job created from \"Run as\": 0x800704DD, and the fixes ==\n");
    let runas = TokenInfo::elevated_administrator(sid("S-1-5-21-1-2-3-501"))
        .with_logon(LogonType::Secondary);
    let runas_id = runas.identity();
    // Whether the user is logged on is L-11's question: a secondary logon does not count.
    let counts = decide::lifecycle::counts_as_logged_on(
        Release::Win10_1809,
        &runas.user,
        runas.logon_or_default(),
    );
    println!("The RunAs administrator's logon counts as logged on (L-11): {counts}.");
    let facts = JobFacts::new(runas_id)
        .with_file(false)
        .with_owner_logged_on(counts);
    let mut job = Job::with_facts(Profile::default(), facts);
    let d = job.add_file().expect("an empty job takes its file");
    step("AddFile() from the RunAs prompt", &job, d);
    let d = job.resume();
    step("Resume(): the job has no file", &job, d);
    println!("Fix 1: the same user logs on interactively (console or Remote Desktop).");
    let mut fixed = job.clone();
    let d = fixed.logon_owner();
    step("The user logs on", &fixed, d);
    let d = fixed.add_file().expect("an empty job takes its file");
    step("AddFile() again", &fixed, d);
    println!("Fix 2: an elevated administrator who is logged on creates the job instead,");
    println!("or takes this one and adds the file (L-7, A-13).");
    let d = job.take_ownership(admin);
    step(
        "TakeOwnership() by a logged-on elevated administrator",
        &job,
        d,
    );
    let d = job
        .add_file_by(&Caller::new(admin.identity()))
        .expect("an empty job takes its file");
    step("AddFile() by the new owner", &job, d);
}

/// a challenge offers a set of schemes; one answerable scheme suffices, and BITS
/// answers with the strongest (Negotiate > NTLM > Passport > Digest > Basic).
fn challenge_set(alice: &TokenInfo) {
    println!("\n== A server offers Basic and Negotiate: one answer suffices (X-3) ==");
    let offered = Challenges::NONE
        .with(AuthTarget::Server, AuthScheme::Basic)
        .with(AuthTarget::Server, AuthScheme::Negotiate);
    let mut job = Job::with_facts(
        Profile::default(),
        JobFacts::new(alice.identity())
            .with_challenges(offered)
            .with_proxy(ProxyUsage::NoProxy),
    );
    job.set_credentials(AuthTarget::Server, AuthScheme::Basic, Credential::Explicit);
    print_plan("Explicit Basic credentials only: Basic answers", &job);
    job.set_credentials(
        AuthTarget::Server,
        AuthScheme::Negotiate,
        Credential::Implicit,
    );
    print_plan(
        "...and SetCredentials(server, Negotiate, NULL, NULL): Negotiate, the stronger, answers",
        &job,
    );
}

/// A-11 (SPEC v3): an elevated administrator (High) may read a LocalSystem job's helper
/// settings (System) but not change them: the integrity gate refuses only changes.
fn read_but_not_change(admin: &TokenInfo) {
    println!("\n== A SYSTEM job seen from an elevated prompt: read, but not change ==\n");
    let system = TokenInfo::local_system();
    let mut job = Job::new(Profile::default(), &system);
    let handle = job
        .query_interface(admin)
        .expect("QueryInterface is a read");
    let own = "the job's own handle";
    answer(
        "GetHelperTokenFlags by the elevated administrator",
        &handle.get_helper_token_flags(&job).expect(own),
    );
    answer(
        "SetHelperTokenFlags(NETWORK) by the same administrator",
        &handle.set_helper_token_flags(&mut job, 0x2).expect(own),
    );
}

/// Prints the transfer plan of `job`: every access in order, as whom, and how it ends.
fn print_plan(title: &str, job: &Job) {
    println!();
    wrapped("--", title, 3);
    let plan = job.transfer_plan();
    for (n, line) in plan.to_string().lines().enumerate() {
        let indent = if n + 1 == plan.steps().len() + 1 {
            3
        } else {
            7
        };
        wrapped("  ", line, indent);
    }
}

/// A job of `owner` whose owner set `helper` as the helper token and these flags through
/// its own handle, in Microsoft's sample order.
fn job_with_helper(
    profile: Profile,
    owner: &TokenInfo,
    helper: &TokenInfo,
    flags: TokenUsage,
) -> Job {
    job_with_helper_facts(
        profile,
        JobFacts::new(owner.identity()),
        owner,
        helper,
        flags,
    )
}

fn job_with_helper_facts(
    profile: Profile,
    facts: JobFacts,
    owner: &TokenInfo,
    helper: &TokenInfo,
    flags: TokenUsage,
) -> Job {
    let mut job = Job::with_facts(profile, facts);
    if let Ok(opts) = job.query_interface(owner) {
        opts.set_helper_token(&mut job, Impersonation::of(helper))
            .expect("the job's own handle");
        opts.set_helper_token_flags(&mut job, flags.bits())
            .expect("the job's own handle");
    }
    job
}

/// Which identity each access of a transfer uses (R-1…R-7) and how transfers end (X-1, L-6).
fn routing(helper_user: &TokenInfo) {
    println!("\n== Routing: as whom BITS makes each access of a transfer ==");
    let service = TokenInfo::network_service();
    let negotiate = Challenges::NONE
        .with(AuthTarget::Proxy, AuthScheme::Negotiate)
        .with(AuthTarget::Server, AuthScheme::Negotiate);
    for release in [Release::Win10_1607, Release::Win10_1809] {
        let facts = JobFacts::new(service.identity())
            .with_ie_settings(IeSettings::Pac)
            .with_challenges(negotiate);
        let mut job = job_with_helper_facts(
            Profile::new(release),
            facts,
            &service,
            helper_user,
            TokenUsage::NETWORK,
        );
        job.set_credentials(
            AuthTarget::Proxy,
            AuthScheme::Negotiate,
            Credential::Implicit,
        );
        print_plan(
            &format!(
                "{release}: NetworkService downloads over HTTPS through the PAC proxy of the IE \
                 settings; proxy and server ask for Negotiate; NETWORK is set and implicit proxy \
                 credentials are allowed (R-7, R-3)"
            ),
            &job,
        );
    }

    let local_service = TokenInfo::local_service();
    let mut anonymous = Job::with_facts(
        Profile::default(),
        JobFacts::new(local_service.identity()).with_remote(bits_helper_token::job::Remote::Smb),
    );
    anonymous.set_proxy_usage(ProxyUsage::NoProxy);
    print_plan(
        "LocalService downloads from an SMB share, no helper token (R-6: anonymous)",
        &anonymous,
    );

    let alice = TokenInfo::standard_user(sid("S-1-5-21-1-2-3-1001"));
    let mut reply = job_with_helper_facts(
        Profile::default(),
        JobFacts::new(alice.identity()).with_job_type(JobType::UploadReply),
        &alice,
        helper_user,
        TokenUsage::LOCAL_FILE,
    );
    reply.set_proxy_usage(ProxyUsage::NoProxy);
    print_plan("An upload-reply job with LOCAL_FILE (R-1)", &reply);

    // NETWORK alone does not send the helper's credentials: without SetCredentials(NULL,
    // NULL) for the target (R-3, UseLMCompat at its default), the server's NTLM challenge
    // goes unanswered.
    let mut ntlm = job_with_helper_facts(
        Profile::default(),
        JobFacts::new(alice.identity())
            .with_challenges(Challenges::NONE.with(AuthTarget::Server, AuthScheme::Ntlm)),
        &alice,
        helper_user,
        TokenUsage::NETWORK,
    );
    ntlm.set_proxy_usage(ProxyUsage::NoProxy);
    print_plan(
        "Alice's job with NETWORK; the server asks for NTLM; no SetCredentials(NULL, NULL) \
         (R-3, X-3)",
        &ntlm,
    );
    ntlm.set_credentials(AuthTarget::Server, AuthScheme::Ntlm, Credential::Implicit);
    print_plan(
        "...after SetCredentials(NULL, NULL) for the server's NTLM (R-2)",
        &ntlm,
    );

    let mut cert = job_with_helper(
        Profile::default(),
        &service,
        helper_user,
        TokenUsage::NETWORK,
    );
    cert.set_client_certificate(true);
    cert.set_proxy_usage(ProxyUsage::NoProxy);
    print_plan(
        "A NetworkService job with a client certificate and NETWORK (X-1)",
        &cert,
    );
}

/// One step of the lifecycle walk: what was called, what it returned and why, and the job
/// after it.
fn step(what: &str, job: &Job, d: Explained<Decision>) {
    answer(what, &d);
    println!(
        "    job: {}, flags {}, helper token {}, {} file",
        job.state(),
        job.flags(),
        job.helper_token()
            .map_or("none".to_string(), |h| h.sid.to_string()),
        if job.has_file() { "one" } else { "no" },
    );
    if !job.owner_logged_on() {
        println!("    its owner {} is not logged on", job.owner().sid);
    }
}

/// Microsoft's sample flow, a logoff (L-5) and both recoveries.
fn lifecycle(owner: &TokenInfo, helper_user: &TokenInfo) {
    println!("\n== The job lifecycle: Microsoft's sample flow, a logoff, both recoveries ==\n");
    let mut job = Job::new(Profile::default(), owner);
    let opts = match job.query_interface(owner) {
        Ok(opts) => opts,
        Err(e) => {
            println!("QueryInterface refused: {e}");
            return;
        }
    };
    println!(
        "The owner obtained IBitsTokenOptions; the handle remembers {} (A-1).",
        opts.caller().sid
    );
    println!(
        "The owner's thread now impersonates the helper user {}.",
        helper_user.user
    );
    let helper = Impersonation::of(helper_user);
    let local_file = TokenUsage::LOCAL_FILE.bits();
    let own = "the job's own handle";
    let d = opts.set_helper_token(&mut job, helper).expect(own);
    step("SetHelperToken() while impersonating the helper", &job, d);
    let d = opts
        .set_helper_token_flags(&mut job, local_file)
        .expect(own);
    step(
        "SetHelperTokenFlags(LOCAL_FILE), still impersonating",
        &job,
        d,
    );
    let d = job.resume();
    step("Resume()", &job, d);
    let d = job.logoff_owner();
    step("The owner logs off", &job, d);
    let d = job.logon_owner();
    step("The owner logs on again", &job, d);
    let d = job.resume();
    step("Resume() without a token", &job, d);
    let d = job.transfer();
    step("The transfer runs", &job, d);

    println!("\nRecovery 1 (L-5): set a new helper token, then resume.");
    let mut first = job.clone();
    let d = opts.set_helper_token(&mut first, helper).expect(own);
    step("SetHelperToken() again", &first, d);
    let d = first.resume();
    step("Resume()", &first, d);
    let d = first.transfer();
    step("The transfer runs", &first, d);

    println!("\nRecovery 2 (L-5): set the flags to 0, then resume.");
    let mut second = job.clone();
    let d = opts.set_helper_token_flags(&mut second, 0).expect(own);
    step("SetHelperTokenFlags(0)", &second, d);
    let d = second.resume();
    step("Resume()", &second, d);
    let d = second.transfer();
    step("The transfer runs, as the owner", &second, d);
    let d = second.complete();
    step("Complete()", &second, d);

    println!("\nRecovery 3 (L-7): an elevated administrator takes the logged-off user's job.");
    let mut orphan = Job::new(Profile::default(), owner);
    let d = orphan.resume();
    step("Resume()", &orphan, d);
    let d = orphan.logoff_owner();
    step("The owner logs off", &orphan, d);
    let d = orphan.transfer();
    step("The transfer waits for the owner (L-8)", &orphan, d);
    let admin = TokenInfo::elevated_administrator(sid("S-1-5-21-1-2-3-500"));
    let d = orphan.take_ownership(&admin);
    step("TakeOwnership() by an elevated administrator", &orphan, d);
    let d = orphan.transfer();
    step(
        "The transfer runs: the job follows its new owner",
        &orphan,
        d,
    );

    println!(
        "\nA service's job: NetworkService never logs off; a service stop discards the token."
    );
    let service = TokenInfo::network_service();
    let mut svc = job_with_helper(
        Profile::default(),
        &service,
        helper_user,
        TokenUsage::NETWORK,
    );
    let d = svc.resume();
    step("Resume()", &svc, d);
    let d = svc.logoff_owner();
    step("The owner logs off", &svc, d);
    let d = svc.service_stop();
    step("The BITS service stops", &svc, d);
}
