//! The live mode (Windows, feature `windows`): this machine's jobs as the doctor's input.

use bits_helper_token::doctor::Input;

/// The jobs the caller may see, each as an offline input line.
pub fn read_jobs() -> Result<Vec<Input>, String> {
    Err("not written yet".into())
}
