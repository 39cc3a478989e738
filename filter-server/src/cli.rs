//! The command line: `serve` (also with no subcommand), `scan`, `redact`,
//! `check-wordlists`.
//!
//! Exit status of `scan` and `redact` follows grep: 0 when nothing was
//! found, 1 when something was, 2 on error. `serve` exits 0 after a clean
//! shutdown and 2 on bad configuration, before binding.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use filter_core::{Finding, Kind, Lexicon, OffsetMapper, ScanOptions, Scanner};
use serde::Serialize;

use crate::config::{LogFormat, ServeArgs};
use crate::operators::policy_from_settings;
use crate::server::{self, ServeError};

/// Compliance content filter: finds and redacts personal data and
/// sensitive words in Chinese and English text.
#[derive(Parser, Debug)]
#[command(
    name = "filter-server",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// With no subcommand, the `serve` options.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the gRPC service (the default).
    Serve(Box<ServeArgs>),
    /// Print what is found in FILEs (or standard input).
    Scan(ScanArgs),
    /// Print FILEs (or standard input) with what is found redacted.
    Redact(RedactArgs),
    /// Validate a word-list directory: print counts and warnings, exit 2 on error.
    CheckWordlists(CheckArgs),
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// The word-list directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
}

#[derive(Args, Debug)]
struct Selection {
    /// Directory of word lists (`*.txt`, see wordlists/README.md).
    #[arg(long, value_name = "DIR", env = "FILTER_WORDLISTS")]
    wordlists: Option<PathBuf>,
    /// Only these kinds, comma-separated (id_card, phone, bank_card, email,
    /// secret, sensitive_word). Default: all.
    #[arg(long, value_delimiter = ',', value_name = "KIND")]
    kinds: Vec<String>,
    /// Files to read; `-` or none for standard input.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[derive(Args, Debug)]
struct ScanArgs {
    #[command(flatten)]
    selection: Selection,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Args, Debug)]
struct RedactArgs {
    #[command(flatten)]
    selection: Selection,
    /// Operator for a kind, repeatable: `phone=mask:3:4`, `email=hash`,
    /// `id_card=label`, `bank_card=remove`, `secret=label:[KEY]`.
    #[arg(long = "operator", value_name = "KIND=OP")]
    operators: Vec<String>,
    /// File holding the key for the `hash` operator (HMAC-SHA256).
    #[arg(long, value_name = "FILE")]
    hash_key_file: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    /// `FILE:LINE:COLUMN: KIND TEXT`, one finding a line.
    Text,
    /// One JSON object a finding a line.
    Json,
}

/// Runs the command line and returns the process exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => return serve(&cli.serve),
        Some(Command::Serve(args)) => return serve(&args),
        Some(Command::Scan(args)) => scan(&args),
        Some(Command::Redact(args)) => redact(&args),
        Some(Command::CheckWordlists(args)) => check_wordlists(&args).map(|()| false),
    };
    match result {
        Ok(false) => ExitCode::from(0),
        Ok(true) => ExitCode::from(1),
        Err(msg) => {
            let _ = writeln!(io::stderr(), "filter-server: {msg}");
            ExitCode::from(2)
        }
    }
}

fn serve(args: &ServeArgs) -> ExitCode {
    let fail = |msg: &str| {
        let _ = writeln!(io::stderr(), "filter-server: {msg}");
        ExitCode::from(2)
    };
    let config = match args.resolve() {
        Ok(c) => c,
        Err(msg) => return fail(&msg),
    };
    let filter = match tracing_subscriber::EnvFilter::try_new(&config.log) {
        Ok(f) => f,
        Err(e) => return fail(&format!("--log {:?}: {e}", config.log)),
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::IsTerminal::is_terminal(&io::stderr()));
    match config.log_format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.init(),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(&format!("starting the runtime: {e}")),
    };
    match runtime.block_on(server::run(config)) {
        Ok(()) => ExitCode::from(0),
        Err(ServeError::Startup(msg)) => fail(&msg),
        Err(ServeError::Runtime(msg)) => {
            let _ = writeln!(io::stderr(), "filter-server: {msg}");
            ExitCode::from(1)
        }
    }
}

/// An input: its name for messages and its text.
struct Input {
    name: String,
    text: String,
}

fn read_inputs(files: &[PathBuf]) -> Result<Vec<Input>, String> {
    let stdin_only = [PathBuf::from("-")];
    let files = if files.is_empty() {
        &stdin_only[..]
    } else {
        files
    };
    files
        .iter()
        .map(|path| {
            let (name, bytes) = if path.as_os_str() == "-" {
                let mut buf = Vec::new();
                io::stdin()
                    .read_to_end(&mut buf)
                    .map_err(|e| format!("standard input: {e}"))?;
                ("-".to_string(), buf)
            } else {
                let name = path.display().to_string();
                let bytes = std::fs::read(path).map_err(|e| format!("{name}: {e}"))?;
                (name, bytes)
            };
            let text = String::from_utf8(bytes).map_err(|e| {
                format!(
                    "{name}: not UTF-8 (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                )
            })?;
            Ok(Input { name, text })
        })
        .collect()
}

fn build(selection: &Selection) -> Result<(Scanner, ScanOptions), String> {
    let kinds = selection
        .kinds
        .iter()
        .map(|k| k.trim().parse::<Kind>().map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut builder = Scanner::builder();
    if let Some(dir) = &selection.wordlists {
        let lexicon = Lexicon::from_dir(dir).map_err(|e| e.to_string())?;
        for w in lexicon.warnings() {
            let _ = writeln!(io::stderr(), "filter-server: warning: {w}");
        }
        builder.words(lexicon);
    }
    let scanner = builder.build().map_err(|e| e.to_string())?;
    Ok((scanner, ScanOptions::new().kinds(&kinds)))
}

fn scan(args: &ScanArgs) -> Result<bool, String> {
    let (scanner, options) = build(&args.selection)?;
    let inputs = read_inputs(&args.selection.files)?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut any = false;
    for input in &inputs {
        let findings = scanner.scan_with(&input.text, &options);
        any |= !findings.is_empty();
        print_findings(&mut out, input, &findings, args.format).map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(any)
}

fn print_findings(
    out: &mut impl Write,
    input: &Input,
    findings: &[Finding<'_>],
    format: Format,
) -> io::Result<()> {
    let mut offsets = OffsetMapper::new(&input.text);
    let mut lines = LineCounter::default();
    for f in findings {
        let (cp_start, u16_start) = offsets.map(f.start());
        let (cp_end, u16_end) = offsets.map(f.end());
        match format {
            Format::Json => {
                let line = JsonFinding {
                    file: &input.name,
                    kind: f.kind().as_str(),
                    start: f.start(),
                    end: f.end(),
                    cp_start,
                    cp_end,
                    utf16_start: u16_start,
                    utf16_end: u16_end,
                    match_type: f.match_type().as_str(),
                    text: f.as_str(),
                    category: Some(f.category()).filter(|c| !c.is_empty()),
                    term: f.term(),
                    edit_distance: f.term().map(|_| f.edit_distance()),
                };
                serde_json::to_writer(&mut *out, &line)?;
                out.write_all(b"\n")?;
            }
            Format::Text => {
                let (line, col) = lines.position(&input.text, f.start());
                let what = match f.term() {
                    Some(term) => format!("{} [{}: {}]", f.kind(), f.category(), term),
                    None => f.kind().to_string(),
                };
                writeln!(out, "{}:{line}:{col}: {what} {}", input.name, f.as_str())?;
            }
        }
    }
    Ok(())
}

/// One line of `scan --format json`, written straight from the finding
/// (no intermediate map: a large file can have millions of findings).
#[derive(Serialize)]
struct JsonFinding<'a> {
    file: &'a str,
    kind: &'static str,
    start: usize,
    end: usize,
    cp_start: usize,
    cp_end: usize,
    utf16_start: usize,
    utf16_end: usize,
    match_type: &'static str,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    term: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    edit_distance: Option<u32>,
}

/// 1-based line and column (in characters) of increasing byte offsets.
#[derive(Default)]
struct LineCounter {
    byte: usize,
    line: usize,
    line_start: usize,
}

impl LineCounter {
    fn position(&mut self, text: &str, byte: usize) -> (usize, usize) {
        if byte < self.byte {
            *self = LineCounter::default();
        }
        for (i, b) in text.as_bytes()[self.byte..byte].iter().enumerate() {
            if *b == b'\n' {
                self.line += 1;
                self.line_start = self.byte + i + 1;
            }
        }
        self.byte = byte;
        (
            self.line + 1,
            text[self.line_start..byte].chars().count() + 1,
        )
    }
}

fn redact(args: &RedactArgs) -> Result<bool, String> {
    let (scanner, options) = build(&args.selection)?;
    let key = match &args.hash_key_file {
        Some(path) => Some(std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?),
        None => std::env::var("FILTER_HASH_KEY")
            .ok()
            .map(String::into_bytes),
    };
    let policy = policy_from_settings(&args.operators, key.as_deref())?;
    let inputs = read_inputs(&args.selection.files)?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut any = false;
    for input in &inputs {
        let findings = scanner.scan_with(&input.text, &options);
        any |= !findings.is_empty();
        out.write_all(policy.apply(&input.text, &findings).as_bytes())
            .map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(any)
}

fn check_wordlists(args: &CheckArgs) -> Result<(), String> {
    let lexicon = Lexicon::from_dir(&args.dir).map_err(|e| e.to_string())?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let write = |out: &mut io::StdoutLock<'_>, line: String| {
        writeln!(out, "{line}").map_err(|e| e.to_string())
    };
    for (category, count) in lexicon.category_counts() {
        let action = lexicon.category_action(category).map_or("", |a| a.as_str());
        write(&mut out, format!("{category}: {count} terms ({action})"))?;
    }
    write(&mut out, format!("allow: {} terms", lexicon.allow_count()))?;
    write(
        &mut out,
        format!(
            "total: {} terms in {} categories, {} warnings",
            lexicon.term_count(),
            lexicon.category_counts().len(),
            lexicon.warnings().len()
        ),
    )?;
    for w in lexicon.warnings() {
        write(&mut out, format!("warning: {w}"))?;
    }
    Ok(())
}
