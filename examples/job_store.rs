//! Embedding the model: a job store that serves the five `IBitsTokenOptions` methods for
//! many jobs, as a BITS reimplementation would.
//!
//! Each client's interface pointer is a [`TokenOptions`]: the caller remembered at
//! `QueryInterface` (A-1) and the [`JobId`] of the job it was obtained on. The store finds
//! the job by that id, so a handle always reaches its own job; a handle used on another
//! job directly is refused with [`WrongJob`]. Jobs are edited in place (`get_mut`): a
//! `Job` is not `Copy`, so an update cannot land on a copy by accident.
//!
//! ```sh
//! cargo run --example job_store
//! ```

use bits_helper_token::explain::Explained;
use bits_helper_token::{decide::*, error::*, job::*, profile::*, token::*};
use std::collections::HashMap;

/// Why the store could not serve a call (not a BITS answer: those are [`Decision`]s).
#[derive(Debug, thiserror::Error)]
enum StoreError {
    #[error("no job {0}")]
    NoSuchJob(JobId),
    /// Boxed: the refusal carries the facts its sentence speaks of (a few hundred bytes).
    #[error("QueryInterface: {0}")]
    QueryInterface(Box<QueryInterfaceError>),
    #[error(transparent)]
    WrongJob(#[from] WrongJob),
}

/// The jobs of one BITS service, by id.
#[derive(Default)]
struct Store {
    jobs: HashMap<JobId, Job>,
}

impl Store {
    /// `IBackgroundCopyManager::CreateJob` by `owner`'s token.
    fn create(&mut self, profile: Profile, owner: &TokenInfo) -> JobId {
        let job = Job::new(profile, owner);
        let id = job.id();
        self.jobs.insert(id, job);
        id
    }

    fn job(&self, id: JobId) -> Result<&Job, StoreError> {
        self.jobs.get(&id).ok_or(StoreError::NoSuchJob(id))
    }

    fn job_mut(&mut self, id: JobId) -> Result<&mut Job, StoreError> {
        self.jobs.get_mut(&id).ok_or(StoreError::NoSuchJob(id))
    }

    /// `QueryInterface(IID_IBitsTokenOptions)` on a job, as `caller`'s token.
    fn query_interface(&self, id: JobId, caller: &TokenInfo) -> Result<TokenOptions, StoreError> {
        self.job(id)?
            .query_interface(caller)
            .map_err(|e| StoreError::QueryInterface(Box::new(e)))
    }

    fn set_helper_token_flags(
        &mut self,
        opts: &TokenOptions,
        flags: u32,
    ) -> Result<Explained<Decision>, StoreError> {
        Ok(opts.set_helper_token_flags(self.job_mut(opts.job())?, flags)?)
    }

    fn get_helper_token_flags(
        &self,
        opts: &TokenOptions,
    ) -> Result<Explained<Decision>, StoreError> {
        Ok(opts.get_helper_token_flags(self.job(opts.job())?)?)
    }

    /// `SetHelperToken`, with the token the client impersonates at call time (A-9).
    fn set_helper_token(
        &mut self,
        opts: &TokenOptions,
        impersonating: &TokenInfo,
    ) -> Result<Explained<Decision>, StoreError> {
        Ok(opts.set_helper_token(self.job_mut(opts.job())?, Impersonation::of(impersonating))?)
    }

    fn clear_helper_token(
        &mut self,
        opts: &TokenOptions,
    ) -> Result<Explained<Decision>, StoreError> {
        Ok(opts.clear_helper_token(self.job_mut(opts.job())?)?)
    }

    fn get_helper_token_sid(&self, opts: &TokenOptions) -> Result<Explained<Decision>, StoreError> {
        Ok(opts.get_helper_token_sid(self.job(opts.job())?)?)
    }
}

fn show(what: &str, d: Result<Explained<Decision>, StoreError>) {
    match d {
        Ok(d) => println!("  {what:<56} {d}"),
        Err(e) => println!("  {what:<56} store error: {e}"),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let alice = TokenInfo::standard_user("S-1-5-21-1-2-3-1001".parse()?);
    let bob = TokenInfo::standard_user("S-1-5-21-1-2-3-1002".parse()?);
    let helper = TokenInfo::standard_user("S-1-5-21-1-2-3-1003".parse()?);
    let service = TokenInfo::network_service();

    let mut store = Store::default();
    let profile = Profile::default();
    let alices = store.create(profile, &alice);
    let bobs = store.create(profile, &bob);
    let services = store.create(profile, &service);
    println!("three jobs: Alice's {alices}, Bob's {bobs}, NetworkService's {services}");

    // Each client queries the interface on its own job. Bob also asks on Alice's: the
    // access check inside QueryInterface refuses him (A-5, Q-9), and he gets no handle.
    let alice_opts = store.query_interface(alices, &alice)?;
    let bob_opts = store.query_interface(bobs, &bob)?;
    match store.query_interface(alices, &bob) {
        Ok(_) => return Err("Bob got a handle on Alice's job".into()),
        Err(refused) => println!("Bob: QueryInterface on Alice's job\n    -> {refused}"),
    }
    let svc_opts = store.query_interface(services, &service)?;

    println!("Alice's job");
    show(
        "Alice: SetHelperToken(helper)",
        store.set_helper_token(&alice_opts, &helper),
    );
    show(
        "Alice: SetHelperTokenFlags(LOCAL_FILE)",
        store.set_helper_token_flags(&alice_opts, 0x1),
    );
    show(
        "Alice: GetHelperTokenSid",
        store.get_helper_token_sid(&alice_opts),
    );

    println!("Bob's job (his handle reaches only it)");
    show(
        "Bob: GetHelperTokenFlags",
        store.get_helper_token_flags(&bob_opts),
    );
    show(
        "Bob: SetHelperTokenFlags(NETWORK)",
        store.set_helper_token_flags(&bob_opts, 0x2),
    );
    show("Bob: ClearHelperToken", store.clear_helper_token(&bob_opts));

    println!("NetworkService's job");
    show(
        "NetworkService: SetHelperToken(helper)",
        store.set_helper_token(&svc_opts, &helper),
    );
    show(
        "NetworkService: SetHelperTokenFlags(NETWORK)",
        store.set_helper_token_flags(&svc_opts, 0x2),
    );

    // An embedding mistake: Bob's handle applied to Alice's job directly.
    let alice_job = store.job_mut(alices)?;
    let misuse = bob_opts.set_helper_token_flags(alice_job, 0);
    show(
        "Bob's handle applied to Alice's job by mistake",
        misuse.map_err(StoreError::from),
    );

    // L-5: Alice logs off; her job has flags and is not finished, so it fails.
    let d = store.job_mut(alices)?.logoff_owner();
    println!("Alice logs off: {d}");
    for (name, id) in [
        ("Alice's", alices),
        ("Bob's", bobs),
        ("NetworkService's", services),
    ] {
        let job = store.job(id)?;
        println!(
            "  {name:<17} state {:<10} flags {:#x} helper {}",
            job.state().to_string(),
            job.flags().bits(),
            job.helper_token()
                .map_or("none".to_string(), |h| h.sid.to_string())
        );
    }
    Ok(())
}
