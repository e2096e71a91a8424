//! The conformance runner: plays role-based scenarios against an `IBitsTokenOptions`
//! provider with real tokens and compares every step with the model.
//!
//! ```text
//! cargo run --example conformance --features windows,cli                    # the real BITS
//! cargo run --example conformance --features windows,cli -- --provider model # the model's COM object
//! cargo run --example conformance --features windows,cli -- --report FILE    # where the JSON report goes
//! ```
//!
//! It prints a table (scenario, step, real, model, agree), then one line
//! `N scenarios run, D disagreements, M skipped`, and writes a JSON report of every
//! disagreement (with the release or knob settings that would explain it) and every
//! skipped scenario with its reason. Exit status 0 when it ran — disagreements are
//! findings — and 1 only when it could not run. Every BITS job it creates is cancelled.
//!
//! Roles: `current` (this process's token), `filtered` (Administrators deny-only), `low`
//! (filtered, at Low integrity), `identify` (an identification-level copy), `other` (the
//! account in BITS_CONFORMANCE_USER / BITS_CONFORMANCE_PASSWORD / BITS_CONFORMANCE_DOMAIN),
//! `system` (when run as LocalSystem).

#[cfg(not(all(windows, feature = "windows", feature = "cli")))]
fn main() {
    println!(
        "conformance: needs Windows and the `windows` and `cli` features \
         (cargo run --example conformance --features windows,cli; scripts/test-windows under Wine)"
    );
}

#[cfg(all(windows, feature = "windows", feature = "cli"))]
fn main() -> std::process::ExitCode {
    match live::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("conformance: could not run: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(all(windows, feature = "windows", feature = "cli"))]
#[allow(unsafe_code)]
mod live {
    use std::error::Error;

    use bits_helper_token::Profile;
    use bits_helper_token::windows::conformance::{
        self, Cast, ModelObject, Provider, RealBits, Report, Role, SCENARIOS,
    };
    use serde_json::json;
    use windows::Win32::Foundation::RPC_E_TOO_LATE;
    use windows::Win32::System::Com::{
        COINIT_MULTITHREADED, CoInitializeEx, CoInitializeSecurity, EOAC_DYNAMIC_CLOAKING,
        RPC_C_AUTHN_LEVEL_DEFAULT, RPC_C_IMP_LEVEL_IMPERSONATE,
    };

    type Result<T> = std::result::Result<T, Box<dyn Error>>;

    pub fn run() -> Result<()> {
        let mut provider_name = "bits".to_string();
        let mut report_path = "conformance-report.json".to_string();
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--provider" => {
                    provider_name = args.next().ok_or("--provider needs bits or model")?
                }
                "--report" => report_path = args.next().ok_or("--report needs a file name")?,
                "--help" | "-h" => {
                    println!("usage: conformance [--provider bits|model] [--report FILE]");
                    return Ok(());
                }
                other => return Err(format!("unknown argument {other:?} (try --help)").into()),
            }
        }

        // SAFETY: the first COM call on this thread; no reserved pointer.
        unsafe { CoInitializeEx(None, COINIT_MULTITHREADED) }.ok()?;
        // Impersonate level and dynamic cloaking: BITS must see the token the runner
        // impersonates (A-1, A-9).
        // SAFETY: every pointer is None; called once, before any marshalling.
        match unsafe {
            CoInitializeSecurity(
                None,
                -1,
                None,
                None,
                RPC_C_AUTHN_LEVEL_DEFAULT,
                RPC_C_IMP_LEVEL_IMPERSONATE,
                None,
                EOAC_DYNAMIC_CLOAKING,
                None,
            )
        } {
            Ok(()) => {}
            Err(e) if e.code() == RPC_E_TOO_LATE => {}
            Err(e) => return Err(format!("CoInitializeSecurity: {e}").into()),
        }

        let (build, release) = conformance::detect_release();
        let profile = Profile::new(release);
        let cast = Cast::from_machine()?;
        println!(
            "conformance: Windows build {}, model release {release} (A-3)",
            build.map_or("unknown".to_string(), |b| b.to_string())
        );
        for &role in Role::ALL {
            match cast.token(role) {
                Ok(t) => {
                    let who = t.identity();
                    println!(
                        "  role {role:<9} {} admin={} elevated={} integrity={}",
                        who.sid, who.admin, who.elevated, who.integrity
                    );
                }
                Err(why) => println!("  role {role:<9} not cast: {why}"),
            }
        }
        let report = match provider_name.as_str() {
            "bits" => match RealBits::connect() {
                Ok(bits) => play(&bits, profile, &cast),
                Err(hr) => return Err(format!("BITS is unavailable here: {hr}").into()),
            },
            "model" => play(&ModelObject { profile }, profile, &cast),
            other => return Err(format!("unknown provider {other:?}: bits or model").into()),
        };
        std::fs::write(&report_path, to_json(&report, build).to_string() + "\n")?;
        println!("{}", report.summary());
        println!("conformance: report written to {report_path}");
        Ok(())
    }

    fn play(provider: &dyn Provider, profile: Profile, cast: &Cast) -> Report {
        println!("  provider  {}", provider.name());
        let report = conformance::run(provider, profile, cast, SCENARIOS);
        println!(
            "\n{:<34} {:<44} {:<36} {:<36} agree",
            "scenario", "step", "real", "model"
        );
        for row in &report.rows {
            println!(
                "{:<34} {:<44} {:<36} {:<36} {}",
                row.scenario,
                format!("{}. {}", row.step, row.call),
                row.real.to_string(),
                format!("{} [{}]", row.model, row.rule),
                if row.agrees() {
                    "yes".to_string()
                } else if row.explained_by.is_empty() {
                    "NO".to_string()
                } else {
                    format!("NO (as with {})", row.explained_by.join(", "))
                }
            );
        }
        for (name, why) in &report.skipped {
            println!("{name:<34} skipped: {why}");
        }
        report
    }

    fn to_json(report: &Report, build: Option<u32>) -> serde_json::Value {
        let answer = |a: &conformance::Answer| json!({ "hresult": a.hresult, "value": a.value });
        json!({
            "provider": report.provider,
            "windows_build": build,
            "release": report.release,
            "summary": report.summary(),
            "scenarios_run": report.run,
            "disagreements": report.disagreements().map(|r| json!({
                "scenario": r.scenario,
                "step": r.step,
                "call": r.call,
                "real": answer(&r.real),
                "model": answer(&r.model),
                "rule": r.rule,
                "explained_by": r.explained_by,
            })).collect::<Vec<_>>(),
            "skipped": report.skipped.iter().map(|(name, why)| json!({
                "scenario": name,
                "reason": why,
            })).collect::<Vec<_>>(),
        })
    }
}
