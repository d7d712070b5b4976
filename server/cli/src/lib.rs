//! `runboard`: the terminal client of a Runboard server, over the same JSON API as the browser.
//!
//! ```text
//! runboard import prices.csv --name "SPY 1m"        stream a CSV (or .csv.gz) in, watch the import
//! runboard submit optimize --dataset ID --strategy sma_cross --range n1=2:200:1 --range n2=2:200:1 --wait
//! runboard watch ID                                 follow a job; exit 0 SUCCEEDED, 1 FAILED, 3 CANCELLED
//! runboard jobs [--state RUNNING] [--kind optimize] [--page 2]
//! runboard cancel ID
//! runboard result ID [--csv]
//! ```
//!
//! `--server` (or `RUNBOARD_URL`, default `http://127.0.0.1:3000`) and `--token` (or
//! `RUNBOARD_TOKEN`). On a terminal, progress is an indicatif bar on stderr; elsewhere plain
//! lines, so output stays readable in logs and pipes. Results go to stdout.

pub mod client;
pub mod submit;
pub mod watch;

use std::fs::File;
use std::io::{BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};

use client::{ok_or_error, Client};
use submit::{build_request, RequestFlags};

#[derive(Parser)]
#[command(
    name = "runboard",
    version,
    about = "Terminal client of a Runboard server"
)]
struct Cli {
    /// The server's URL.
    #[arg(
        long,
        env = "RUNBOARD_URL",
        default_value = "http://127.0.0.1:3000",
        global = true
    )]
    server: String,
    /// The server's token (RUNBOARD_TOKEN on the server), sent as a bearer token.
    #[arg(long, env = "RUNBOARD_TOKEN", hide_env_values = true, global = true)]
    token: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Stream a CSV file (OHLCV with a header; .gz is sent compressed) into a new dataset.
    Import {
        file: PathBuf,
        /// The dataset's name (must be new).
        #[arg(long)]
        name: String,
        /// Return once the upload is accepted, without waiting for the import job.
        #[arg(long)]
        no_wait: bool,
    },
    /// Queue a job: backtest, optimize, walk-forward or train.
    Submit {
        kind: String,
        #[command(flatten)]
        flags: Box<RequestFlags>,
        /// Then watch it until it ends (the exit status follows its end state).
        #[arg(long)]
        wait: bool,
    },
    /// Follow a job until it ends.
    Watch {
        id: String,
        /// Give up after this many seconds.
        #[arg(long)]
        timeout: Option<u64>,
    },
    /// List jobs, newest first.
    Jobs {
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long, default_value_t = 1)]
        page: u32,
        #[arg(long, default_value_t = 20)]
        per_page: u32,
    },
    /// Ask a job to stop.
    Cancel { id: String },
    /// Print a finished job's result (JSON, or its main table as CSV).
    Result {
        id: String,
        #[arg(long)]
        csv: bool,
    },
}

/// Runs the command line `args` (the program name first) and returns the exit status:
/// the job's end state for `watch` and `--wait`, [`watch::EXIT_FAILED`] after an error (which
/// is printed to stderr), clap's own status for a bad command line.
pub fn main_with<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("runboard: {e:#}");
            watch::EXIT_FAILED
        }
    }
}

fn run(cli: Cli) -> Result<i32> {
    let client = Client::new(&cli.server, cli.token)?;
    match cli.command {
        Command::Import {
            file,
            name,
            no_wait,
        } => import(&client, &file, &name, no_wait),
        Command::Submit { kind, flags, wait } => {
            let request = build_request(&kind, &flags)?;
            let status = client.call("submit_job", json!({ "request": request }))?;
            let id = status["id"].as_str().unwrap_or_default().to_string();
            println!("{id}");
            if wait {
                watch::watch(&client, &id, None)
            } else {
                Ok(0)
            }
        }
        Command::Watch { id, timeout } => {
            watch::watch(&client, &id, timeout.map(Duration::from_secs))
        }
        Command::Jobs {
            state,
            kind,
            page,
            per_page,
        } => {
            let list = client.call(
                "list_jobs",
                json!({"state": state, "kind": kind, "page": page, "per_page": per_page}),
            )?;
            print_jobs(&list);
            Ok(0)
        }
        Command::Cancel { id } => {
            let status = client.call("cancel_job", json!({ "id": id }))?;
            println!("{}", watch::status_line(&status));
            Ok(0)
        }
        Command::Result { id, csv } => {
            if csv {
                let (status, text) = client.get_text(&format!("/api/jobs/{id}/result.csv"))?;
                if !(200..300).contains(&status) {
                    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
                    bail!(client::describe_error(status, &body));
                }
                print!("{text}");
            } else {
                let result = client.call("job_result", json!({ "id": id }))?;
                println!("{}", serde_json::to_string_pretty(&result)?);
            }
            Ok(0)
        }
    }
}

/// A reader that counts the bytes read through it into a progress bar.
struct Counting<R> {
    inner: R,
    bar: Option<ProgressBar>,
    read: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if let Some(bar) = &self.bar {
            bar.set_position(self.read);
        }
        Ok(n)
    }
}

/// `name` percent-encoded for a query string.
fn encode_query(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn import(client: &Client, file: &Path, name: &str, no_wait: bool) -> Result<i32> {
    let f = File::open(file).with_context(|| format!("{}: could not open it", file.display()))?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let gzip = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(size);
        bar.set_style(
            ProgressStyle::with_template(
                "upload [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar
    });
    if bar.is_none() {
        eprintln!("uploading {} ({size} bytes)", file.display());
    }
    let mut body = Counting {
        inner: BufReader::with_capacity(1 << 16, f),
        bar: bar.clone(),
        read: 0,
    };
    let path = format!("/api/datasets?name={}", encode_query(name));
    let answer = client.post_stream(&path, "text/csv", gzip, &mut body)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let status = ok_or_error(answer)?;
    let id = status["id"].as_str().unwrap_or_default().to_string();
    eprintln!("uploaded {} bytes; import job {id}", body.read);
    if no_wait {
        println!("{id}");
        return Ok(0);
    }
    let code = watch::watch(client, &id, None)?;
    if code == watch::EXIT_SUCCEEDED {
        let result = client.call("job_result", json!({ "id": id }))?;
        let info = result.get("result").unwrap_or(&result);
        println!("{}", serde_json::to_string_pretty(info)?);
    }
    Ok(code)
}

fn print_jobs(list: &Value) {
    let empty = Vec::new();
    let jobs = list["jobs"].as_array().unwrap_or(&empty);
    println!(
        "{:<36}  {:<12}  {:<9}  {:>4}  {:<20}  MESSAGE",
        "ID", "KIND", "STATE", "%", "CREATED"
    );
    for j in jobs {
        let pct = j["progress"]
            .as_f64()
            .map(|p| format!("{:.0}", (p * 100.0).floor()))
            .unwrap_or_default();
        let created: String = j["created_at"]
            .as_str()
            .unwrap_or("")
            .chars()
            .take(19)
            .collect();
        println!(
            "{:<36}  {:<12}  {:<9}  {:>4}  {:<20}  {}",
            j["id"].as_str().unwrap_or(""),
            j["kind"].as_str().unwrap_or(""),
            j["state"].as_str().unwrap_or(""),
            pct,
            created.replace('T', " "),
            j["progress_message"].as_str().unwrap_or(""),
        );
    }
    if let (Some(total), Some(page)) = (list["total"].as_i64(), list["page"].as_u64()) {
        println!("({total} jobs; page {page})");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_percent_encoded() {
        assert_eq!(encode_query("SPY 1m/2024"), "SPY%201m%2F2024");
        assert_eq!(encode_query("é"), "%C3%A9");
    }

    #[test]
    fn the_command_line_parses() {
        let cli = Cli::try_parse_from([
            "runboard",
            "submit",
            "optimize",
            "--dataset",
            "d",
            "--range",
            "n1=2:10:1",
            "--wait",
        ])
        .unwrap();
        assert!(matches!(cli.command, Command::Submit { wait: true, .. }));
        assert!(Cli::try_parse_from(["runboard", "watch"]).is_err());
    }
}
