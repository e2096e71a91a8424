//! A walk through the helper-token rules with real decisions of the model.
//!
//! Run with `cargo run --example tour`.

use bits_helper_token::*;

/// One row of a table: what happened, the decision the model made, and its inputs (the
/// explanation is built from them).
struct Row {
    scenario: String,
    profile: Profile,
    decision: Decision,
    caller: Identity,
    job: JobFacts,
    flags: u32,
}

/// `SetHelperTokenFlags(flags)` by `caller` on `job`, as a row of the table.
fn row(scenario: &str, profile: &Profile, caller: Identity, job: JobFacts, flags: u32) -> Row {
    Row {
        scenario: scenario.into(),
        profile: *profile,
        decision: set_helper_token_flags(profile, caller, &job, flags),
        caller,
        job,
        flags,
    }
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
            r.profile.release.name(),
            d.hresult().to_string(),
            d.rule_id()
        );
        let inputs = Inputs::new(&r.profile, &r.job)
            .caller(r.caller)
            .flags(r.flags);
        println!("{:<w$}  why: {}", "", d.explain(&inputs));
        if let Some(stored) = d.stored_flags() {
            println!("{:<w$}  stored flags: {stored}", "");
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
    let ns = network_service.identity();
    let rows = vec![
        row(
            "NetworkService downloader sets NETWORK on its own job",
            &latest,
            ns,
            ns_job,
            0x2,
        ),
        row(
            "Bob sets LOCAL_FILE on Alice's job",
            &latest,
            bob.identity(),
            alice_job,
            0x1,
        ),
        row(
            "Alice's job holds an administrator helper token",
            &latest,
            alice.identity(),
            alice_job.with_helper(Some(admin.identity())),
            0x1,
        ),
        row(
            "...a UAC-filtered administrator token instead",
            &latest,
            alice.identity(),
            alice_job.with_helper(Some(filtered.identity())),
            0x1,
        ),
        row(
            "An elevated administrator on Alice's job",
            &latest,
            admin.identity(),
            alice_job.with_helper(Some(admin.identity())),
            0x3,
        ),
        row(
            "NetworkService on its own job, before 1607",
            &legacy,
            ns,
            ns_job,
            0x2,
        ),
        row(
            "An elevated administrator, before 1607",
            &legacy,
            admin.identity(),
            alice_job,
            0x2,
        ),
        row(
            "Alice passes 0x6 (bit 0x4 is unknown)",
            &latest,
            alice.identity(),
            alice_job,
            0x6,
        ),
        row(
            "An elevated administrator on a LocalSystem job",
            &latest,
            admin.identity(),
            JobFacts::new(TokenInfo::local_system().identity()),
            0x2,
        ),
        row(
            "The same administrator, not elevated, on its elevated job",
            &latest,
            filtered.identity(),
            JobFacts::new(admin.identity()),
            0x1,
        ),
        row(
            "NetworkService job with a client certificate, NETWORK",
            &latest,
            ns,
            ns_job.with_client_certificate(true),
            0x2,
        ),
    ];
    print_table("SetHelperTokenFlags", &rows);

    lifecycle(&alice, &bob);
    routing(&bob);
}

/// Prints the transfer plan of `job`: every access in order, as whom, and why.
fn print_plan(title: &str, job: &Job) {
    let plan = transfer_plan(job.profile(), job.facts());
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
        let who = match (step.principal, step.principal.sid(job.facts())) {
            (Principal::Owner, Some(sid)) => format!("owner ({sid})"),
            (Principal::Helper, Some(sid)) => format!("HELPER ({sid})"),
            (other, _) => other.name().replace('_', " "),
        };
        println!(
            "   {:>2}. {:<28} {:<34} {}",
            n + 1,
            step.access.name(),
            who,
            step.rule.id
        );
    }
    let explained = plan.explain(job.profile(), job.facts()).to_string();
    if let Some(outcome) = explained.lines().last() {
        println!("   {outcome}");
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
        job.set_ie_settings(IeSettings::Pac);
        job.set_challenges(negotiate);
        print_plan(
            "NetworkService downloads over HTTPS through the IE settings' PAC proxy; proxy and server ask for Negotiate; NETWORK set, implicit proxy credentials allowed (R-7, R-3)",
            &job,
        );
    }

    let local_service = TokenInfo::local_service();
    let mut anonymous = Job::new(Profile::default(), &local_service).with_remote(Remote::Smb);
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
    .with_job_type(JobType::UploadReply);
    reply.set_proxy(ProxyUsage::NoProxy);
    print_plan("An upload-reply job with LOCAL_FILE (R-1)", &reply);

    // NETWORK alone does not send the helper's credentials: without SetCredentials(NULL,
    // NULL) for the target (R-3, UseLMCompat at its default), the server's NTLM challenge
    // goes unanswered.
    let mut ntlm = job_with_helper(Profile::default(), &alice, helper_user, TokenUsage::NETWORK);
    ntlm.set_proxy(ProxyUsage::NoProxy);
    ntlm.set_challenges(Challenges::NONE.with(AuthTarget::Server, AuthScheme::Ntlm));
    print_plan(
        "Alice's job with NETWORK; the server asks for NTLM; no SetCredentials(NULL, NULL) (R-3, X-3)",
        &ntlm,
    );
    let allowed = Credentials::NONE.set(AuthTarget::Server, AuthScheme::Ntlm, Credential::Implicit);
    ntlm.set_credentials(allowed.unwrap_or(Credentials::NONE));
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
    cert.set_proxy(ProxyUsage::NoProxy);
    print_plan(
        "A NetworkService job with a client certificate and NETWORK (X-1)",
        &cert,
    );
}

/// A step of the lifecycle walk: runs `call` on `job`, prints what it returned, why (the
/// decision explained with the job as it was before, and the call's arguments that `args`
/// adds to the inputs), and the job after it.
fn step(
    n: &mut usize,
    what: &str,
    job: &mut Job,
    call: impl FnOnce(&mut Job) -> Decision,
    args: impl for<'a> FnOnce(Inputs<'a>) -> Inputs<'a>,
) {
    let before = job.clone();
    let d = call(job);
    *n += 1;
    let helper = job
        .helper_token()
        .map_or("none".to_string(), |h| h.sid.to_string());
    println!(
        "{n:>2}. {what:<52} {:<34} {:<4} {:<12} {:<12} {helper}",
        d.hresult().to_string(),
        d.rule_id().name(),
        job.state().name(),
        job.flags().to_string()
    );
    let inputs = args(Inputs::new(before.profile(), before.facts()));
    println!("    why: {}", d.explain(&inputs));
}

/// No arguments to add: a job event.
fn event(inputs: Inputs<'_>) -> Inputs<'_> {
    inputs
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
    let me = opts.caller();
    println!(
        " -- the owner obtained IBitsTokenOptions; the handle remembers {} (A-1)",
        me.sid
    );
    println!(
        " -- the owner's thread now impersonates the helper user {}",
        helper_user.user
    );
    let helper = Impersonation::of(helper_user);
    let local_file = TokenUsage::LOCAL_FILE.bits();
    step(
        &mut n,
        "SetHelperToken() while impersonating the helper",
        &mut job,
        |j| {
            opts.set_helper_token(j, helper)
                .expect("the job's own handle")
        },
        |i| i.caller(me).impersonation(helper),
    );
    step(
        &mut n,
        "SetHelperTokenFlags(LOCAL_FILE), still impersonating",
        &mut job,
        |j| {
            opts.set_helper_token_flags(j, local_file)
                .expect("the job's own handle")
        },
        |i| i.caller(me).flags(local_file),
    );
    step(&mut n, "Resume()", &mut job, Job::resume, event);
    step(
        &mut n,
        "the owner logs off",
        &mut job,
        Job::logoff_owner,
        event,
    );
    step(
        &mut n,
        "the owner logs on again",
        &mut job,
        Job::logon_owner,
        event,
    );
    step(
        &mut n,
        "Resume() without a token",
        &mut job,
        Job::resume,
        event,
    );
    step(&mut n, "the transfer runs", &mut job, Job::transfer, event);

    println!(" -- recovery 1 (L-5): set a new helper token, then resume");
    let mut first = job.clone();
    step(
        &mut n,
        "SetHelperToken() again",
        &mut first,
        |j| {
            opts.set_helper_token(j, helper)
                .expect("the job's own handle")
        },
        |i| i.caller(me).impersonation(helper),
    );
    step(&mut n, "Resume()", &mut first, Job::resume, event);
    step(
        &mut n,
        "the transfer runs",
        &mut first,
        Job::transfer,
        event,
    );

    println!(" -- recovery 2 (L-5): set the flags to 0, then resume");
    let mut second = job.clone();
    step(
        &mut n,
        "SetHelperTokenFlags(0)",
        &mut second,
        |j| {
            opts.set_helper_token_flags(j, 0)
                .expect("the job's own handle")
        },
        |i| i.caller(me).flags(0),
    );
    step(&mut n, "Resume()", &mut second, Job::resume, event);
    step(
        &mut n,
        "the transfer runs, as the owner",
        &mut second,
        Job::transfer,
        event,
    );
    step(&mut n, "Complete()", &mut second, Job::complete, event);

    println!(
        " -- a service's job: NetworkService never logs off; a service stop discards the token (L-5)"
    );
    let service = TokenInfo::network_service();
    let mut svc = Job::new(Profile::default(), &service);
    if let Ok(opts) = svc.query_interface(&service) {
        opts.set_helper_token(&mut svc, helper)
            .expect("the job's own handle");
        opts.set_helper_token_flags(&mut svc, TokenUsage::NETWORK.bits())
            .expect("the job's own handle");
    }
    step(&mut n, "Resume()", &mut svc, Job::resume, event);
    step(
        &mut n,
        "the owner logs off",
        &mut svc,
        Job::logoff_owner,
        event,
    );
    step(
        &mut n,
        "the BITS service stops",
        &mut svc,
        Job::service_stop,
        event,
    );
}
