//! Which answers depend on an unknown fact: the doctor gives the fact each other value it
//! can take (one fact at a time), asks the model again, and compares. It never reasons
//! about a rule itself.
#![forbid(unsafe_code)]

use super::{Answers, Fact, Input, ask_from, session_now};
use crate::challenge::Challenges;
use crate::net::{AuthScheme, AuthTarget, Credential, Credentials, ProxyUsage};
use crate::profile::Release;
use crate::scenario::{JobSnapshot, Scenario};
use crate::sid::Sid;
use crate::state::{JobType, Remote};
use crate::token::IntegrityLevel;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// The name of the stand-in owner token a variant of [`Fact::Owner`] adds.
const OTHER_OWNER: &str = "doctor:other_owner";

/// The other users an unknown owner may be: LocalSystem, and a user who is not the caller.
const OTHER_USERS: [&str; 2] = ["S-1-5-18", "S-1-5-21-0-0-0-1000"];

/// The scenarios that differ from `input`'s in `fact` alone.
fn variants(input: &Input, now: &JobSnapshot, fact: Fact) -> Vec<Scenario> {
    let base = &input.scenario;
    let with = |change: &dyn Fn(&mut Scenario)| {
        let mut s = base.clone();
        change(&mut s);
        s
    };
    let mut out = Vec::new();
    match fact {
        Fact::Release => {
            for &r in Release::ALL.iter().filter(|&&r| r != base.release) {
                out.push(with(&|s| s.release = r));
            }
        }
        Fact::Owner => {
            let mut users: Vec<Sid> = OTHER_USERS.iter().filter_map(|u| u.parse().ok()).collect();
            if let Some(caller) = base.tokens.get(&input.caller) {
                users.push(caller.user);
            }
            for user in users.into_iter().filter(|u| *u != now.owner) {
                if let Some(owner) = base.tokens.get(&base.job.owner) {
                    let mut token = owner.clone();
                    token.user = user;
                    out.push(with(&|s| {
                        s.tokens.insert(OTHER_OWNER.to_string(), token.clone());
                        s.job.owner = OTHER_OWNER.to_string();
                    }));
                }
            }
        }
        Fact::OwnerElevated => {
            out.push(with(&|s| s.job.owner_elevated = Some(!now.owner_elevated)))
        }
        Fact::OwnerIntegrity => {
            for &l in IntegrityLevel::ALL
                .iter()
                .filter(|&&l| l != now.owner_integrity)
            {
                out.push(with(&|s| s.job.owner_integrity = Some(l)));
            }
        }
        Fact::OwnerLoggedOn => {
            out.push(with(&|s| {
                s.job.owner_logged_on = Some(!now.owner_logged_on)
            }));
        }
        Fact::Type => {
            for &t in JobType::ALL.iter().filter(|&&t| t != base.job.job_type) {
                out.push(with(&|s| s.job.job_type = t));
            }
        }
        Fact::Remote => {
            for &r in Remote::ALL.iter().filter(|&&r| r != base.job.remote) {
                out.push(with(&|s| s.job.remote = r));
            }
        }
        Fact::ClientCertificate => {
            out.push(with(&|s| {
                s.job.client_certificate = !base.job.client_certificate
            }));
        }
        Fact::Proxy => {
            for &p in ProxyUsage::ALL.iter().filter(|&&p| p != base.job.proxy) {
                out.push(with(&|s| s.job.proxy = p));
            }
        }
        Fact::Challenges => {
            let server = |scheme| Challenges::NONE.with(AuthTarget::Server, scheme);
            let options = [
                Challenges::NONE,
                server(AuthScheme::Negotiate),
                server(AuthScheme::Ntlm),
                server(AuthScheme::Basic),
                Challenges::NONE.with(AuthTarget::Proxy, AuthScheme::Negotiate),
            ];
            for c in options.into_iter().filter(|c| *c != base.job.challenges) {
                out.push(with(&|s| s.job.challenges = c));
            }
        }
        Fact::Credentials => {
            let implicit = |target| {
                Credentials::NONE
                    .set(target, AuthScheme::Negotiate, Credential::Implicit)
                    .unwrap_or(Credentials::NONE)
            };
            let basic = Credentials::NONE
                .set(AuthTarget::Server, AuthScheme::Basic, Credential::Explicit)
                .unwrap_or(Credentials::NONE);
            let options = [
                Credentials::NONE,
                implicit(AuthTarget::Server),
                implicit(AuthTarget::Proxy),
                basic,
            ];
            for c in options.into_iter().filter(|c| *c != base.job.credentials) {
                out.push(with(&|s| s.job.credentials = c));
            }
        }
        Fact::Flags => {
            for f in (0..=3).filter(|&f| f != base.job.flags) {
                out.push(with(&|s| s.job.flags = f));
            }
        }
        Fact::UseStoredCredentials => {
            out.push(with(&|s| {
                s.job.use_stored_credentials = !base.job.use_stored_credentials;
            }));
        }
        Fact::HelperToken => {
            let options = [None, Some(input.caller.clone())];
            for h in options.into_iter().filter(|h| *h != base.job.helper_token) {
                out.push(with(&|s| s.job.helper_token = h.clone()));
            }
        }
    }
    out
}

/// An answer as text, to compare (the result as the oracle writes it, or the refusal).
fn rendered(answers: &Answers) -> BTreeMap<String, String> {
    answers
        .all()
        .map(|(key, a)| {
            let text = match &a.result {
                Ok(r) => serde_json::to_string(r).unwrap_or_default(),
                Err(e) => alloc::format!("error: {e}"),
            };
            (key, text)
        })
        .collect()
}

/// For each answer that changes when one of `input`'s unknown facts takes another value
/// the model accepts: those facts.
pub(super) fn depends(
    input: &Input,
    now: &JobSnapshot,
    base: &Answers,
) -> BTreeMap<String, BTreeSet<Fact>> {
    let mut out: BTreeMap<String, BTreeSet<Fact>> = BTreeMap::new();
    if input.unknown.is_empty() {
        return out;
    }
    let base = rendered(base);
    for &fact in input.unknown.keys() {
        for variant in variants(input, now, fact) {
            let now = session_now(&variant);
            if now.is_err() {
                continue; // a job the model cannot reach: not a value the fact can take
            }
            let other = rendered(&ask_from(&now, &variant, &input.caller));
            for (key, text) in &base {
                if other.get(key) != Some(text) {
                    out.entry(key.clone()).or_default().insert(fact);
                }
            }
        }
    }
    out
}
