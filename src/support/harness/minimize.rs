//! Shrinking a disagreement by hand, after proptest's shrinking: [`minimize`].

use super::{Compare, Disagreement, SystemUnderTest, compare};
use crate::scenario::{HandleName, JobSpec, Scenario, Step};
use alloc::collections::BTreeSet;
use alloc::vec::Vec;

/// The token names a scenario uses: the owner, and every caller and impersonated token.
fn used_tokens(s: &Scenario) -> BTreeSet<&str> {
    let mut used = BTreeSet::new();
    used.insert(s.job.owner.as_str());
    if let Some(helper) = &s.job.helper_token {
        used.insert(helper.as_str());
    }
    for step in &s.steps {
        used.extend(step.tokens());
    }
    used
}

/// Smaller scenarios to try instead of `s` (the disagreement is at its last step), the
/// boldest first: whole handles (a `query_interface` and every use), two handles as one,
/// single steps, unused
/// tokens, the job's and the profile's settings back to their defaults, smaller arguments.
fn candidates(s: &Scenario) -> Vec<Scenario> {
    let mut out = Vec::new();
    let last = s.steps.len().saturating_sub(1);
    let with_steps = |steps: Vec<Step>| {
        let mut c = s.clone();
        c.steps = steps;
        c
    };
    // A whole handle: its query_interface and every use (the last step's handle stays).
    for (i, step) in s.steps.iter().enumerate().take(last) {
        if let Step::QueryInterface { handle, .. } = step {
            let keep: Vec<Step> = s
                .steps
                .iter()
                .enumerate()
                .filter(|&(j, st)| j != i && st.handle() != Some(handle))
                .map(|(_, st)| st.clone())
                .collect();
            if keep.len() < s.steps.len() && keep.last() == s.steps.last() {
                out.push(with_steps(keep));
            }
        }
    }
    // Two handles as one: a handle's uses go through an earlier handle, and its
    // query_interface goes.
    let handles: Vec<(usize, &HandleName)> = s
        .steps
        .iter()
        .enumerate()
        .filter_map(|(i, st)| match st {
            Step::QueryInterface { handle, .. } => Some((i, handle)),
            _ => None,
        })
        .collect();
    // Either caller may stay: the earlier handle's, or the later one's, queried early.
    for (n, &(i, later)) in handles.iter().enumerate() {
        for &(k, earlier) in &handles[..n] {
            let merged: Vec<Step> = s
                .steps
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, st)| {
                    let mut st = st.clone();
                    if let Some(h) = st.handle_mut().filter(|h| *h == later) {
                        *h = earlier.clone();
                    }
                    st
                })
                .collect();
            let mut early = merged.clone();
            if let Step::QueryInterface { handle, .. } = &mut early[k] {
                let mut query = s.steps[i].clone();
                if let Step::QueryInterface { handle: h, .. } = &mut query {
                    *h = handle.clone();
                }
                early[k] = query;
            }
            out.push(with_steps(merged));
            out.push(with_steps(early));
        }
    }
    // One step before the last.
    for i in (0..last).rev() {
        let mut steps = s.steps.clone();
        steps.remove(i);
        out.push(with_steps(steps));
    }
    // Unused tokens.
    let used = used_tokens(s);
    if used.len() < s.tokens.len() {
        let mut c = s.clone();
        c.tokens.retain(|name, _| used.contains(name.as_str()));
        out.push(c);
    }
    // The profile, the environment and the job back to their defaults, one at a time.
    let defaults = Scenario::new(&s.job.owner);
    let fresh = JobSpec::new(&s.job.owner);
    let mut header: Vec<Scenario> = Vec::new();
    let mut push = |f: &dyn Fn(&mut Scenario)| {
        let mut c = s.clone();
        f(&mut c);
        if c != *s {
            header.push(c);
        }
    };
    push(&|c| c.release = defaults.release);
    push(&|c| c.knobs = defaults.knobs);
    push(&|c| c.environment = defaults.environment);
    push(&|c| c.explain = false);
    push(&|c| c.job.owner_elevated = fresh.owner_elevated);
    push(&|c| c.job.owner_integrity = fresh.owner_integrity);
    push(&|c| c.job.job_type = fresh.job_type);
    push(&|c| c.job.remote = fresh.remote);
    push(&|c| c.job.client_certificate = fresh.client_certificate);
    push(&|c| c.job.proxy = fresh.proxy);
    push(&|c| c.job.challenges = fresh.challenges);
    push(&|c| c.job.ie_settings = fresh.ie_settings);
    push(&|c| c.job.has_file = fresh.has_file);
    push(&|c| c.job.owner_logged_on = fresh.owner_logged_on);
    push(&|c| c.job.server_requests_certificate = fresh.server_requests_certificate);
    push(&|c| c.job.use_stored_credentials = fresh.use_stored_credentials);
    push(&|c| c.job.credentials = fresh.credentials);
    out.extend(header);
    // Smaller arguments: fewer flag bits, impersonation allowed, tokens already in use.
    let names: Vec<&str> = used.iter().copied().collect();
    for (i, step) in s.steps.iter().enumerate() {
        let mut replace = |new: Step| {
            if new != *step {
                let mut steps = s.steps.clone();
                steps[i] = new;
                out.push(with_steps(steps));
            }
        };
        match step {
            Step::SetHelperTokenFlags {
                handle,
                flags,
                level,
            } => {
                for smaller in [0, flags & flags.wrapping_sub(1), flags & 3, flags >> 1] {
                    if smaller < *flags {
                        replace(Step::SetHelperTokenFlags {
                            handle: handle.clone(),
                            flags: smaller,
                            level: *level,
                        });
                    }
                }
            }
            Step::SetHelperToken {
                handle,
                impersonating,
                can_impersonate,
                level,
            } => {
                if can_impersonate.is_some() || level.is_some() {
                    replace(Step::SetHelperToken {
                        handle: handle.clone(),
                        impersonating: impersonating.clone(),
                        can_impersonate: None,
                        level: None,
                    });
                }
                for name in &names {
                    if *name < impersonating.as_str() {
                        replace(Step::SetHelperToken {
                            handle: handle.clone(),
                            impersonating: (*name).into(),
                            can_impersonate: *can_impersonate,
                            level: *level,
                        });
                    }
                }
            }
            Step::QueryInterface {
                caller,
                handle,
                level,
            } => {
                for name in &names {
                    if *name < caller.as_str() {
                        replace(Step::QueryInterface {
                            caller: (*name).into(),
                            handle: handle.clone(),
                            level: *level,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Whether `d` is the same disagreement as `target`, at the last step of its scenario: the
/// same op and the same kind of difference, and the model's same rule.
fn faithful(d: &Disagreement, target: &Disagreement) -> bool {
    d.error.is_none()
        && d.step == d.scenario.steps.len()
        && d.op() == target.op()
        && d.mismatch == target.mismatch
        && d.expected.map(|e| e.rule) == target.expected.map(|e| e.rule)
}

/// Shrinks a disagreeing scenario to a smallest faithful one: drops the steps after the
/// disagreement, then, until nothing more goes, whole handles, single steps, unused
/// tokens, non-default job and profile settings, and large arguments — keeping only a
/// candidate that is valid and disagrees the same way at its last step (same op, same kind
/// of difference, same rule of the model). `None` when `scenario` does not disagree.
/// Deterministic; each round is linear in the scenario's size times one comparison.
pub fn minimize<S: SystemUnderTest + ?Sized>(
    sut: &mut S,
    scenario: &Scenario,
    mode: Compare,
) -> Option<Disagreement> {
    let first = compare(sut, scenario, mode).err()?;
    if first.step == 0 || first.step > scenario.steps.len() {
        return Some(first);
    }
    let mut best = first.clone();
    let mut truncated = scenario.clone();
    truncated.steps.truncate(first.step);
    if let Err(d) = compare(sut, &truncated, mode)
        && faithful(&d, &first)
    {
        best = d;
    }
    'shrink: loop {
        for candidate in candidates(&best.scenario) {
            if candidate.validate().is_err() {
                continue;
            }
            if let Err(d) = compare(sut, &candidate, mode)
                && faithful(&d, &first)
            {
                best = d;
                continue 'shrink;
            }
        }
        return Some(best);
    }
}
