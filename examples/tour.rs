//! A walk through the helper-token rules with real decisions of the model.
//!
//! Run with `cargo run --example tour`.

use bits_helper_token::*;

/// One row of a table: what happened, and the decision the model made.
struct Row {
    scenario: String,
    release: Release,
    decision: Decision,
}

fn sid(s: &str) -> Sid {
    s.parse().expect("the tour's SIDs are valid")
}

fn print_table(title: &str, rows: &[Row]) {
    println!("\n== {title} ==\n");
    let w = rows
        .iter()
        .map(|r| r.scenario.len())
        .max()
        .unwrap_or(0)
        .max(8);
    println!(
        "{:<w$}  {:<10}  {:<32}  rule",
        "scenario", "release", "returns"
    );
    println!("{}", "-".repeat(w + 2 + 10 + 2 + 32 + 2 + 5));
    for r in rows {
        let d = &r.decision;
        println!(
            "{:<w$}  {:<10}  {:<32}  {}",
            r.scenario,
            r.release.name(),
            d.hresult.to_string(),
            d.rule.id()
        );
        println!("{:<w$}  why: {}", "", d.rule);
        if let Some(stored) = d.stored_flags() {
            println!("{:<w$}  stored flags: {stored}", "");
        }
        if let Some(failure) = &d.transfer_failure {
            println!("{:<w$}  BUT {failure}", "");
        }
    }
}

fn main() {
    let latest = Profile::new(Release::Win10_1809);
    let legacy = Profile::new(Release::Legacy);

    let alice = TokenInfo::standard_user(sid("S-1-5-21-1-2-3-1001"));
    let bob = TokenInfo::standard_user(sid("S-1-5-21-1-2-3-1002"));
    let admin = TokenInfo::elevated_administrator(sid("S-1-5-21-1-2-3-500"));
    let filtered = TokenInfo::filtered_administrator(admin.user);
    let network_service = TokenInfo::network_service();

    println!("bits-helper-token: IBitsTokenOptions::SetHelperTokenFlags, decided by the model");
    println!("(each 'rule' is an id of SPEC.md; 'why' is the decision's own explanation)");

    let ns_job = JobFacts::new(network_service.identity());
    let alice_job = JobFacts::new(alice.identity());
    let rows = vec![
        Row {
            scenario: "NetworkService downloader sets NETWORK on its own job".into(),
            release: latest.release,
            decision: set_helper_token_flags(&latest, network_service.identity(), &ns_job, 0x2),
        },
        Row {
            scenario: "Bob sets LOCAL_FILE on Alice's job".into(),
            release: latest.release,
            decision: set_helper_token_flags(&latest, bob.identity(), &alice_job, 0x1),
        },
        Row {
            scenario: "Alice's job holds an administrator helper token".into(),
            release: latest.release,
            decision: set_helper_token_flags(
                &latest,
                alice.identity(),
                &alice_job.with_helper(Some(admin.identity())),
                0x1,
            ),
        },
        Row {
            scenario: "...a UAC-filtered administrator token instead".into(),
            release: latest.release,
            decision: set_helper_token_flags(
                &latest,
                alice.identity(),
                &alice_job.with_helper(Some(filtered.identity())),
                0x1,
            ),
        },
        Row {
            scenario: "An elevated administrator on Alice's job".into(),
            release: latest.release,
            decision: set_helper_token_flags(
                &latest,
                admin.identity(),
                &alice_job.with_helper(Some(admin.identity())),
                0x3,
            ),
        },
        Row {
            scenario: "NetworkService on its own job, before 1607".into(),
            release: legacy.release,
            decision: set_helper_token_flags(&legacy, network_service.identity(), &ns_job, 0x2),
        },
        Row {
            scenario: "An elevated administrator, before 1607".into(),
            release: legacy.release,
            decision: set_helper_token_flags(&legacy, admin.identity(), &ns_job, 0x2),
        },
        Row {
            scenario: "Alice passes 0x6 (bit 0x4 is unknown)".into(),
            release: latest.release,
            decision: set_helper_token_flags(&latest, alice.identity(), &alice_job, 0x6),
        },
        Row {
            scenario: "NetworkService job with a client certificate, NETWORK".into(),
            release: latest.release,
            decision: set_helper_token_flags(
                &latest,
                network_service.identity(),
                &ns_job.with_client_certificate(true),
                0x2,
            ),
        },
    ];
    print_table("SetHelperTokenFlags", &rows);

    lifecycle(&alice, &bob);
    routing(&bob);
}

/// Prints the transfer plan of `job`: every access in order, as whom, and why.
fn print_plan(title: &str, job: &Job) {
    let plan = transfer_plan(job.profile(), &job.transfer_job());
    println!("\n-- {title}");
    println!(
        "   owner {}, flags {}, helper {}, {} over {}, proxy {}, release {}",
        job.owner().sid,
        job.flags(),
        job.helper_token()
            .map_or("none".to_string(), |h| h.sid.to_string()),
        job.job_type(),
        job.remote(),
        job.proxy(),
        job.profile().release
    );
    for (n, step) in plan.iter().enumerate() {
        let who = match step.identity {
            Used::Owner { sid } => format!("owner ({sid})"),
            Used::Helper { sid } => format!("HELPER ({sid})"),
            other => other.name().replace('_', " "),
        };
        println!(
            "   {:>2}. {:<28} {:<34} {}",
            n + 1,
            step.access.name(),
            who,
            step.rule.id()
        );
    }
    match plan.outcome {
        Outcome::Transferred => println!("   => TRANSFERRED"),
        Outcome::Error(f) => println!("   => ERROR {}\n      {}", f.hresult, f.rule),
        _ => println!("   => {}", plan.outcome),
    }
}

/// A job of `owner` with a helper token `helper` and these flags, set through the handle.
fn job_with_helper(
    profile: Profile,
    owner: &TokenInfo,
    helper: &TokenInfo,
    flags: TokenUsage,
) -> Job {
    let mut job = Job::new(profile, owner);
    if let Ok(opts) = job.query_interface(owner) {
        opts.set_helper_token(&mut job, Impersonation::of(helper));
        opts.set_helper_token_flags(&mut job, flags.bits());
    }
    job
}

/// Which identity each access of a transfer uses (R-1…R-7) and how transfers end (X-1, L-6).
fn routing(helper_user: &TokenInfo) {
    println!("\n== Routing: as whom BITS makes each access of a transfer ==");
    let service = TokenInfo::network_service();
    for release in [Release::Win10_1607, Release::Win10_1809] {
        let mut job = job_with_helper(
            Profile::new(release),
            &service,
            helper_user,
            TokenUsage::NETWORK,
        );
        let creds = Credentials::NONE.set(
            AuthTarget::Proxy,
            AuthScheme::Negotiate,
            Credential::Implicit,
        );
        job.set_credentials(creds.unwrap_or(Credentials::NONE));
        job.set_proxy(ProxyUsage::Preconfig);
        print_plan(
            "NetworkService downloads over HTTPS through the IE proxy, NETWORK set, implicit proxy credentials (R-7)",
            &job,
        );
    }

    let local_service = TokenInfo::local_service();
    let mut anonymous = Job::new(Profile::default(), &local_service).over(Remote::Smb);
    anonymous.set_proxy(ProxyUsage::NoProxy);
    print_plan(
        "LocalService downloads from an SMB share, no helper token (R-6: anonymous)",
        &anonymous,
    );

    let alice = TokenInfo::standard_user(sid("S-1-5-21-1-2-3-1001"));
    let mut reply = job_with_helper(
        Profile::default(),
        &alice,
        helper_user,
        TokenUsage::LOCAL_FILE,
    )
    .of_type(JobType::UploadReply);
    reply.set_proxy(ProxyUsage::NoProxy);
    print_plan("An upload-reply job with LOCAL_FILE (R-1)", &reply);

    let mut cert = job_with_helper(
        Profile::default(),
        &service,
        helper_user,
        TokenUsage::NETWORK,
    );
    cert.set_client_certificate(true);
    cert.set_proxy(ProxyUsage::NoProxy);
    print_plan(
        "A NetworkService job with a client certificate and NETWORK (X-1)",
        &cert,
    );
}

/// A step of the lifecycle walk: what was called, what it returned, and the job after it.
fn step(n: &mut usize, what: &str, hresult: HResult, rule: &Rule, job: &Job) {
    *n += 1;
    let helper = job
        .helper_token()
        .map_or("none".to_string(), |h| h.sid.to_string());
    println!(
        "{n:>2}. {what:<52} {:<34} {:<4} {:<12} {:<12} {helper}",
        hresult.to_string(),
        rule.id(),
        job.state().name(),
        job.flags().to_string()
    );
    println!("    why: {rule}");
}

/// Microsoft's sample flow, a logoff (L-5) and both recoveries.
fn lifecycle(owner: &TokenInfo, helper_user: &TokenInfo) {
    println!("\n== The job lifecycle: Microsoft's sample flow, a logoff, and both recoveries ==\n");
    println!(
        "    {:<52} {:<34} {:<4} {:<12} {:<12} helper token",
        "call", "returns", "rule", "job state", "flags"
    );
    let mut n = 0;
    let mut job = Job::new(Profile::default(), owner);
    let opts = match job.query_interface(owner) {
        Ok(opts) => opts,
        Err(e) => {
            println!("QueryInterface refused: {e}");
            return;
        }
    };
    println!(
        " -- the owner obtained IBitsTokenOptions; the handle remembers {} (A-1)",
        opts.caller().sid
    );
    println!(
        " -- the owner's thread now impersonates the helper user {}",
        helper_user.user
    );
    let d = opts.set_helper_token(&mut job, Impersonation::of(helper_user));
    step(
        &mut n,
        "SetHelperToken() while impersonating the helper",
        d.hresult,
        &d.rule,
        &job,
    );
    let d = opts.set_helper_token_flags(&mut job, TokenUsage::LOCAL_FILE.bits());
    step(
        &mut n,
        "SetHelperTokenFlags(LOCAL_FILE), still impersonating",
        d.hresult,
        &d.rule,
        &job,
    );
    let e = job.resume();
    step(&mut n, "Resume()", e.hresult, &e.rule, &job);
    let e = job.logoff_owner();
    step(&mut n, "the owner logs off", e.hresult, &e.rule, &job);
    let e = job.resume();
    step(&mut n, "Resume() without a token", e.hresult, &e.rule, &job);
    let e = job.transfer();
    step(&mut n, "the transfer runs", e.hresult, &e.rule, &job);

    println!(" -- recovery 1 (L-5): set a new helper token, then resume");
    let mut first = job;
    let d = opts.set_helper_token(&mut first, Impersonation::of(helper_user));
    step(&mut n, "SetHelperToken() again", d.hresult, &d.rule, &first);
    let e = first.resume();
    step(&mut n, "Resume()", e.hresult, &e.rule, &first);
    let e = first.transfer();
    step(&mut n, "the transfer runs", e.hresult, &e.rule, &first);

    println!(" -- recovery 2 (L-5): set the flags to 0, then resume");
    let mut second = job;
    let d = opts.set_helper_token_flags(&mut second, 0);
    step(
        &mut n,
        "SetHelperTokenFlags(0)",
        d.hresult,
        &d.rule,
        &second,
    );
    let e = second.resume();
    step(&mut n, "Resume()", e.hresult, &e.rule, &second);
    let e = second.transfer();
    step(
        &mut n,
        "the transfer runs, as the owner",
        e.hresult,
        &e.rule,
        &second,
    );
    let e = second.complete();
    step(&mut n, "Complete()", e.hresult, &e.rule, &second);
}
