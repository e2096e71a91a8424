//! The fixes the rules suggest. Each piece of advice is chosen by the rule ids (and
//! HRESULTs) of the model's answers, never by deciding again: the doctor reads what the
//! model said and names the rule whose fix it is.
#![forbid(unsafe_code)]

use super::{Answer, Answers};
use crate::decide::route::Principal;
use crate::hresult::HResult;
use crate::rule::RuleId;
use crate::scenario::{JobSnapshot, StepResult, StepValue};
use crate::token::IntegrityLevel;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// One fix: the rule whose fix it is, what to do, and the answers that call for it
/// (`"transfer: L-8"`, `"add_file: L-15"`).
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Advice {
    /// The SPEC rule whose fix this is.
    pub rule: RuleId,
    /// What to do.
    pub text: String,
    /// The answers that call for it: `"KEY: RULE"`.
    pub because: Vec<String>,
}

fn ok(a: &Answer) -> Option<&StepResult> {
    a.result.as_ref().ok()
}

/// The keys of the caller's calls refused with `rule`.
fn refused_by(answers: &Answers, rule: RuleId) -> Vec<&'static str> {
    answers
        .caller_may
        .iter()
        .filter(|(_, a)| ok(a).is_some_and(|r| r.hresult.is_failure() && r.rule == rule))
        .map(|(k, _)| *k)
        .collect()
}

fn because(keys: &[&str], rule: RuleId) -> Vec<String> {
    keys.iter().map(|k| format!("{k}: {rule}")).collect()
}

fn answer_of(answers: &Answers, key: &str) -> String {
    match answers.get(key).and_then(ok) {
        Some(r) => format!("{} {}", r.hresult.name().unwrap_or("?"), r.rule),
        None => "no answer".to_string(),
    }
}

/// The advice for these answers on this job (its error's rule, if it is in ERROR).
pub(super) fn derive(
    answers: &Answers,
    job: &JobSnapshot,
    error: Option<RuleId>,
    caller: crate::sid::Sid,
) -> Vec<Advice> {
    let mut out = Vec::new();
    let mut push = |rule, text: String, because: Vec<String>| {
        if !because.is_empty() {
            out.push(Advice {
                rule,
                text,
                because,
            });
        }
    };
    let transfer = ok(&answers.transfer);
    let owner = job.owner;

    // L-8 / L-11: the owner is not logged on, so the job does not transfer; L-15 / L-11: the
    // caller is not logged on, so it cannot add files (one piece of advice when the caller
    // is the owner).
    let not_logged_on: Vec<&str> = answers
        .caller_may
        .iter()
        .filter(|(_, a)| ok(a).is_some_and(|r| r.hresult == HResult::ERROR_NOT_LOGGED_ON))
        .map(|(k, _)| *k)
        .collect();
    let owner_off = transfer.is_some_and(|r| r.rule == RuleId::L8 && r.hresult == HResult::S_FALSE);
    if owner_off {
        let mut why = because(&["transfer"], RuleId::L8);
        if caller == owner {
            why.extend(because(&not_logged_on, RuleId::L15));
        }
        push(
            RuleId::L11,
            format!(
                "log on as {owner} interactively (console or Remote Desktop; RunAs, a \
                 scheduled task, a service or WinRM does not count), or take ownership from \
                 an elevated prompt (take_ownership: {})",
                answer_of(answers, "take_ownership")
            ),
            why,
        );
    }
    if !(owner_off && caller == owner) {
        push(
            RuleId::L11,
            format!(
                "log on as {caller} interactively (console or Remote Desktop) to add files, \
                 or add them from a session that counts"
            ),
            because(&not_logged_on, RuleId::L15),
        );
    }
    // the gate (integrity, elevation).
    let gate = refused_by(answers, RuleId::A11);
    let text = if job.owner_integrity > IntegrityLevel::High {
        format!(
            "the job was made at integrity level {}: change it as {} (a service or a SYSTEM \
             scheduled task); from an elevated prompt (High) it can only be read",
            job.owner_integrity, owner
        )
    } else {
        "elevate: run from an elevated prompt (Run as administrator); the job was made \
         elevated or at a higher integrity level than the caller's"
            .to_string()
    };
    push(RuleId::A11, text, because(&gate, RuleId::A11));
    // owner only.
    let owner_only = refused_by(answers, RuleId::A13);
    push(
        RuleId::A13,
        format!("call these as the owner {owner} (an administrator may call only the others)"),
        because(&owner_only, RuleId::A13),
    );
    // restricted token.
    let restricted = refused_by(answers, RuleId::A14);
    push(
        RuleId::A14,
        "call from an unrestricted token".to_string(),
        because(&restricted, RuleId::A14),
    );
    // IBitsTokenOptions is not available to this caller.
    push(
        RuleId::A2,
        "IBitsTokenOptions needs BITS 4.0 or later (Windows 7, Server 2008 R2)".to_string(),
        because(&refused_by(answers, RuleId::A2), RuleId::A2),
    );
    push(
        RuleId::A4,
        "before Windows 10 1607 only an administrator may use IBitsTokenOptions".to_string(),
        because(&refused_by(answers, RuleId::A4), RuleId::A4),
    );

    // The transfer's failure, and the error the job is in now.
    let mut failures: Vec<(RuleId, String)> = Vec::new();
    if let Some(r) = transfer.filter(|r| r.hresult.is_failure()) {
        failures.push((r.rule, "transfer".to_string()));
    }
    if let Some(rule) = error {
        failures.push((rule, "job error".to_string()));
    }
    if let Some(r) = answers.get("set_helper_token_flags").and_then(ok)
        && let Some(f) = r.transfer_failure
    {
        failures.push((
            f.rule.id,
            "set_helper_token_flags: transfer_failure".to_string(),
        ));
    }
    let from = |wanted: &[RuleId]| -> Vec<String> {
        failures
            .iter()
            .filter(|(rule, _)| wanted.contains(rule))
            .map(|(rule, key)| format!("{key}: {rule}"))
            .collect()
    };
    push(
        RuleId::L6,
        "set a helper token (SetHelperToken) for the flags the job uses, or clear the flags \
         (SetHelperTokenFlags(0)); then Resume"
            .to_string(),
        from(&[RuleId::L5, RuleId::L6]),
    );
    push(
        RuleId::X1,
        "clear the NETWORK flag (SetHelperTokenFlags without BG_TOKEN_NETWORK) or the client \
         certificate (RemoveClientCertificate)"
            .to_string(),
        from(&[RuleId::X1]),
    );
    push(
        RuleId::X4,
        "the server asks for a client certificate: set one (SetClientCertificateByID)".to_string(),
        from(&[RuleId::X4]),
    );
    // a challenge nobody answers; per scheme, the routes say why.
    for (access, a) in &answers.routes {
        let Some(r) = ok(a) else { continue };
        if let Some(StepValue::Route {
            principal: Principal::NoCredentials,
            ..
        }) = r.value
            && r.rule == RuleId::R3
            && let Some((target, scheme)) = access.as_challenge()
        {
            push(
                RuleId::R3,
                format!(
                    "call SetCredentials({target}, {}, NULL, NULL) to allow implicit \
                     credentials (or give explicit ones)",
                    scheme_name(scheme.name())
                ),
                alloc::vec![format!("route {access}: R-3")],
            );
        }
    }
    let unanswered: Vec<String> = answers
        .routes
        .iter()
        .filter_map(|(access, a)| {
            let r = ok(a)?;
            matches!(
                r.value,
                Some(StepValue::Route {
                    principal: Principal::Unanswered,
                    ..
                })
            )
            .then(|| format!("route {access}: X-3"))
        })
        .collect();
    push(
        RuleId::X3,
        "a challenge no offered scheme can answer: set credentials for one of its schemes"
            .to_string(),
        unanswered,
    );
    // L-13: the network is down.
    if transfer.is_some_and(|r| r.rule == RuleId::L13 && r.hresult == HResult::S_FALSE) {
        push(
            RuleId::L13,
            "the network is disconnected: the job resumes when it returns".to_string(),
            because(&["transfer"], RuleId::L13),
        );
    }
    out
}

/// `negotiate` → `Negotiate`, as the `BG_AUTH_SCHEME_*` names are written in prose.
fn scheme_name(name: &str) -> String {
    match name {
        "ntlm" => "NTLM".to_string(),
        other => {
            let mut chars = other.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_uppercase().chain(chars).collect::<String>()
            })
        }
    }
}
