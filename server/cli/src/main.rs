//! The `runboard` binary: see the library's docs (`runboard_cli`).

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(runboard_cli::main_with(std::env::args_os()).clamp(0, 255) as u8)
}
