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
//! `N scenarios run, D disagreements, M skipped`, and writes the JSON report
//! (`calibration::Report`: every step with both answers, the release or knob settings that
//! would explain each disagreement, every skipped scenario with its reason) that
//! `bits-helper-token-calibrate` reads. Exit status 0 when it ran — disagreements are
//! findings — and 1 only when it could not run. Every BITS job it creates transfers
//! whatever the network costs and is cancelled. The scenarios that transfer download
//! from a file server the runner starts on 127.0.0.1 for each: open, or challenging with
//! NTLM or Negotiate as the server or as the job's proxy, recording who answered. `--model-profile '{"knobs": …}'`
//! runs the model's COM object under other settings (a provider with known differences).
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
    use bits_helper_token::calibration::{Report, SCENARIOS};
    use bits_helper_token::windows::conformance::{
        self, Cast, ModelObject, Provider, RealBits, Role,
    };
    use windows::Win32::Foundation::RPC_E_TOO_LATE;
    use windows::Win32::System::Com::{
        COINIT_MULTITHREADED, CoInitializeEx, CoInitializeSecurity, EOAC_DYNAMIC_CLOAKING,
        RPC_C_AUTHN_LEVEL_DEFAULT, RPC_C_IMP_LEVEL_IMPERSONATE,
    };

    type Result<T> = std::result::Result<T, Box<dyn Error>>;

    pub fn run() -> Result<()> {
        let mut provider_name = "bits".to_string();
        let mut report_path = "conformance-report.json".to_string();
        let mut provider_profile: Option<Profile> = None;
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--provider" => {
                    provider_name = args.next().ok_or("--provider needs bits or model")?
                }
                "--report" => report_path = args.next().ok_or("--report needs a file name")?,
                "--model-profile" => {
                    let text = args
                        .next()
                        .ok_or("--model-profile needs a profile's JSON")?;
                    provider_profile = Some(
                        serde_json::from_str(&text).map_err(|e| format!("--model-profile: {e}"))?,
                    );
                }
                "--help" | "-h" => {
                    println!(
                        "usage: conformance [--provider bits|model] [--model-profile JSON] [--report FILE]"
                    );
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
            match cast.windows_token(role) {
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
            "bits" => {
                let bits =
                    RealBits::connect().map_err(|hr| format!("BITS is unavailable here: {hr}"))?;
                play(&bits, profile, build, &cast, true)?
            }
            "model" => {
                let object = ModelObject {
                    profile: provider_profile.unwrap_or(profile),
                };
                play(&object, profile, build, &cast, false)?
            }
            other => return Err(format!("unknown provider {other:?}: bits or model").into()),
        };
        std::fs::write(&report_path, report.to_json()? + "\n")?;
        println!("{}", report.summary());
        println!("conformance: report written to {report_path}");
        Ok(())
    }

    fn play(
        provider: &dyn Provider,
        profile: Profile,
        build: Option<u32>,
        cast: &Cast,
        serve: bool,
    ) -> Result<Report> {
        println!("  provider  {}", provider.name());
        let report = conformance::run(provider, profile, build, cast, serve, SCENARIOS)?;
        println!(
            "\n{:<34} {:<44} {:<36} {:<36} agree",
            "scenario", "step", "real", "model"
        );
        for (scenario, step, row) in report.rows() {
            println!(
                "{:<34} {:<44} {:<36} {:<36} {}",
                scenario,
                format!("{step}. {}", row.call),
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
        for skipped in &report.skipped {
            println!("{:<34} skipped: {}", skipped.name, skipped.reason);
        }
        Ok(report)
    }
}
