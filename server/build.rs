//! Records the program version the server stamps on every job it accepts.
//!
//! Sets `RUNBOARD_VERSION` to `<crate version> (<12-digit git commit>)`, or to the crate version
//! alone when no commit is known, and `RUNBOARD_GIT_COMMIT` when one is. The commit comes from
//! `RUNBOARD_GIT_COMMIT` in the build environment if set (builds from a tarball or a container),
//! else from `git rev-parse --short=12 HEAD`. Without git, or outside a repository, the build
//! goes on with the crate version only: nothing here can fail the build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RUNBOARD_GIT_COMMIT");
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_else(|_| "0.0.0".into());
    let commit = std::env::var("RUNBOARD_GIT_COMMIT")
        .ok()
        .filter(|c| is_commit(c))
        .or_else(git_commit);
    match &commit {
        Some(commit) => {
            println!("cargo:rustc-env=RUNBOARD_GIT_COMMIT={commit}");
            println!("cargo:rustc-env=RUNBOARD_VERSION={version} ({commit})");
        }
        None => println!("cargo:rustc-env=RUNBOARD_VERSION={version}"),
    }
    watch_git_head();
}

/// A plausible abbreviated commit: 4 to 40 hex digits.
fn is_commit(s: &str) -> bool {
    (4..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

fn git_commit() -> Option<String> {
    git(&["rev-parse", "--short=12", "HEAD"]).filter(|c| is_commit(c))
}

/// Re-runs this script when HEAD moves: `HEAD` itself (a checkout), the branch it names (a
/// commit) and `packed-refs`. Only files that exist are named (a missing one would make Cargo
/// re-run the script on every build). Works for worktrees, whose refs live in the common dir.
fn watch_git_head() {
    let (Some(git_dir), Some(common)) = (
        git(&["rev-parse", "--absolute-git-dir"]),
        git(&["rev-parse", "--git-common-dir"]),
    ) else {
        return;
    };
    let git_dir = PathBuf::from(git_dir);
    let common = if Path::new(&common).is_absolute() {
        PathBuf::from(common)
    } else {
        // Relative to the current directory (the crate's manifest directory).
        std::env::current_dir()
            .map(|d| d.join(&common))
            .unwrap_or_else(|_| PathBuf::from(common))
    };
    let head = git_dir.join("HEAD");
    let mut watched = vec![head.clone(), common.join("packed-refs")];
    if let Ok(text) = std::fs::read_to_string(&head) {
        if let Some(reference) = text.trim().strip_prefix("ref: ") {
            watched.push(git_dir.join(reference));
            watched.push(common.join(reference));
        }
    }
    for path in watched {
        if path.is_file() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}
