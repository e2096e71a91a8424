//! The doctor's live mode against this machine's real BITS (under Wine: Wine's qmgr): the
//! jobs this test creates are listed and diagnosed, what BITS does not answer is reported
//! as unknown (Wine: `GetOwner` is not implemented, `IBitsTokenOptions` is E_NOINTERFACE),
//! the export runs through the offline mode to the same diagnosis, and no job changes (the
//! job list and states are compared before and after). The test cancels its jobs.
//! Runs on Windows and, cross-compiled, under Wine (`scripts/test-windows`).
#![cfg(all(windows, feature = "windows", feature = "cli"))]
#![allow(unsafe_code)]

mod windows_oracle;

use bits_helper_token::doctor::{Fact, Input};
use bits_helper_token::windows::jobs::{self, BitsJobs, read_job};
use bits_helper_token::{HResult, JobState};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;
use windows::Win32::Networking::BackgroundIntelligentTransferService::{
    BG_JOB_TYPE_DOWNLOAD, BackgroundCopyManager, IBackgroundCopyJob, IBackgroundCopyManager,
};
use windows::Win32::System::Com::{CLSCTX_LOCAL_SERVER, CoCreateInstance};
use windows::core::{GUID, HSTRING};

use windows_oracle::under_wine;

/// The test's jobs, cancelled when dropped (on every path).
struct Jobs(Vec<IBackgroundCopyJob>);

impl Drop for Jobs {
    fn drop(&mut self) {
        for job in &self.0 {
            // SAFETY: a live job interface this test created.
            let _ = unsafe { job.Cancel() };
        }
    }
}

fn create(manager: &IBackgroundCopyManager, name: &str, file: bool) -> IBackgroundCopyJob {
    let mut id = GUID::zeroed();
    let mut job = None;
    // SAFETY: a live manager; `id` and `job` are live out-parameters.
    unsafe {
        manager.CreateJob(
            &HSTRING::from(name),
            BG_JOB_TYPE_DOWNLOAD,
            &mut id,
            &mut job,
        )
    }
    .expect("CreateJob");
    let job = job.expect("a job");
    if file {
        let local = std::env::temp_dir().join(format!("{name}.bin"));
        // SAFETY: a live job; both strings live across the call.
        unsafe {
            job.AddFile(
                &HSTRING::from("http://127.0.0.1:9/doctor.bin"),
                &HSTRING::from(local.as_os_str()),
            )
        }
        .expect("AddFile");
    }
    job
}

/// Every job the caller sees, by id, with its state.
fn states(bits: &BitsJobs) -> BTreeMap<String, Result<JobState, HResult>> {
    bits.jobs(false)
        .expect("EnumJobs")
        .iter()
        .map(|j| {
            let r = read_job(j);
            (r.id, r.state)
        })
        .collect()
}

fn doctor(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bits-helper-token-doctor"))
        .args(args)
        .output()
        .expect("the doctor runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty() || out.status.success(), "{stderr}");
    (
        out.status.code(),
        String::from_utf8(out.stdout).expect("UTF-8"),
    )
}

#[test]
fn the_live_mode_lists_diagnoses_and_exports_jobs_and_changes_none() {
    let _ = jobs::initialize_com();
    // SAFETY: COM is initialized on this thread; the CLSID is a constant.
    let manager: IBackgroundCopyManager =
        unsafe { CoCreateInstance(&BackgroundCopyManager, None, CLSCTX_LOCAL_SERVER) }
            .expect("BITS");
    let created = Jobs(vec![
        create(&manager, "bits-doctor-empty", false),
        create(&manager, "bits-doctor-file", true),
    ]);
    let bits = BitsJobs::connect().expect("BITS");
    let ours: Vec<String> = created.0.iter().map(|j| read_job(j).id).collect();
    let before = states(&bits);
    for id in &ours {
        assert!(before.contains_key(id), "{id} is not listed: {before:?}");
    }

    // The export: one input line per job, ours among them.
    let (status, export) = doctor(&["--export"]);
    assert_eq!(status, Some(0));
    let mut found = 0;
    for line in export.lines() {
        let input = Input::from_json_line(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let label = input.label.clone().unwrap_or_default();
        let Some(id) = ours.iter().find(|id| label.starts_with(id.as_str())) else {
            continue;
        };
        found += 1;
        let reading = read_job(
            created
                .0
                .iter()
                .find(|j| read_job(j).id == *id)
                .expect("our job"),
        );
        // What BITS did not answer is unknown, with its HRESULT; never a guess.
        if let Err(e) = reading.owner {
            assert!(
                input.unknown[&Fact::Owner].contains(&e.to_string()),
                "{line}"
            );
        }
        if let Err(e) = reading.token_options {
            assert!(
                input.unknown[&Fact::Flags].contains(&e.to_string()),
                "{line}"
            );
            assert!(input.unknown.contains_key(&Fact::HelperToken), "{line}");
        }
        if under_wine() {
            // Wine's qmgr: GetOwner is not implemented, and there is no IBitsTokenOptions
            // . The test says so instead of passing without them.
            assert_eq!(
                reading.owner,
                Err(HResult::E_NOTIMPL),
                "Wine's GetOwner changed"
            );
            assert_eq!(reading.token_options, Err(HResult::E_NOINTERFACE));
            assert!(input.unknown.contains_key(&Fact::Owner));
            assert!(input.unknown.contains_key(&Fact::Flags));
        }
        assert_eq!(input.scenario.job.state, JobState::Suspended, "{line}");
        if let Ok(remotes) = &reading.remotes {
            assert_eq!(input.scenario.job.has_file, !remotes.is_empty(), "{line}");
        }
    }
    assert_eq!(found, ours.len(), "our jobs in the export:\n{export}");

    // The live diagnosis, and the offline mode on the export: the same.
    let (status, live) = doctor(&["--json"]);
    let path = std::env::temp_dir().join("bits-doctor-export.jsonl");
    std::fs::write(&path, &export).expect("write the export");
    let (offline_status, offline) = doctor(&["--offline", path.to_str().unwrap(), "--json"]);
    assert_eq!(status, offline_status);
    assert_eq!(live, offline, "the live and offline diagnoses differ");
    let mut diagnosed = 0;
    for line in live.lines() {
        let d: Value = serde_json::from_str(line).unwrap();
        let Some(label) = d["label"].as_str() else {
            continue;
        };
        if !ours.iter().any(|id| label.starts_with(id.as_str())) {
            continue;
        }
        diagnosed += 1;
        assert!(d["caller_may"]["resume"]["hresult"].is_string(), "{line}");
        // The answers that hang on an unknown fact are named.
        let depends = d["depends_on_unknown"]
            .as_object()
            .expect("depends_on_unknown");
        assert!(!depends.is_empty(), "{line}");
        if under_wine() {
            assert!(
                d["unknown"]["owner"]
                    .as_str()
                    .unwrap()
                    .contains("0x80004001")
            );
            assert!(
                depends
                    .values()
                    .any(|f| f.as_array().unwrap().iter().any(|f| f == "owner"))
            );
        }
    }
    assert_eq!(diagnosed, ours.len(), "{live}");
    let (_, table) = doctor(&[]);
    println!("--export:\n{export}\nthe table:\n{table}");
    for id in &ours {
        assert!(table.contains(id.as_str()), "{table}");
    }

    // Nothing changed.
    let after = states(&bits);
    assert_eq!(before, after, "the doctor changed a job");
    drop(created);
    let end = states(&bits);
    for id in &ours {
        assert!(
            !matches!(end.get(id), Some(Ok(s)) if *s != JobState::Cancelled),
            "{id} was not cancelled"
        );
    }
}
