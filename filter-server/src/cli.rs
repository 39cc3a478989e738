//! The command line: `serve` (also with no subcommand), `scan`, `redact`,
//! `check-wordlists`, `pseudonymize`, `restore` and `health`.
//!
//! Exit status: `scan` follows grep (0 nothing found, 1 something found,
//! 2 error); `redact` is 0 when it wrote its output, found something or
//! not, and 2 on error; `serve` exits 0 after a clean shutdown and 2 on bad
//! configuration, before binding; `health` is 0 when the server serves, 1
//! when not, 2 on bad arguments. A closed output pipe (`scan | head`)
//! ends a command quietly with status 0.

use std::borrow::Cow;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use filter_core::{
    Finding, HashKey, Kind, Lexicon, OffsetMapper, RedactionPolicy, ScanOptions, Scanner, Vault,
    VaultKey,
};
use serde::Serialize;

use crate::config::{ConfigError, LogFormat, ServeArgs};
use crate::health_check::{self, HealthArgs, HealthArgsError};
use crate::input_file::{self, InputBytes};
use crate::operators::{policy_from_settings, OperatorError};
use crate::parallel;
use crate::server::{self, ServeError};
use crate::wordlists::Wordlists;

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
    /// Print FILEs (or standard input) with personal data replaced by
    /// numbered placeholders (`[PHONE_1]`) or surrogates, recorded in a
    /// sealed vault.
    Pseudonymize(PseudonymizeArgs),
    /// Print FILEs (or standard input) with a vault's values put back.
    Restore(RestoreArgs),
    /// Ask a running server's gRPC health service whether it serves: exit
    /// 0 when it does, 1 when not or unreachable (container health checks).
    Health(HealthArgs),
}

/// The sealed vault of a conversation and its key.
#[derive(Args, Debug)]
struct VaultArgs {
    /// The sealed vault: `pseudonymize` creates it when missing and extends
    /// it when present; `restore` reads it.
    #[arg(long, value_name = "FILE")]
    vault: PathBuf,
    /// File holding the vault key (at least 16 bytes; one trailing line
    /// ending is not part of it).
    #[arg(long, value_name = "FILE", env = "FILTER_VAULT_KEY_FILE")]
    vault_key_file: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum PseudonymMode {
    /// `[PHONE_1]`, `[ID_CARD_2]`: the kind's label and a number.
    Placeholder,
    /// A fake value of the same kind and shape that passes the same
    /// validation (checksums, segments, networks), in the original's
    /// formatting; `restore` finds it again however a model re-writes it.
    Surrogate,
}

impl From<PseudonymMode> for filter_core::PseudonymMode {
    fn from(mode: PseudonymMode) -> filter_core::PseudonymMode {
        match mode {
            PseudonymMode::Placeholder => filter_core::PseudonymMode::Placeholder,
            PseudonymMode::Surrogate => filter_core::PseudonymMode::Surrogate,
        }
    }
}

#[derive(Args, Debug)]
struct PseudonymizeArgs {
    #[command(flatten)]
    selection: Selection,
    #[command(flatten)]
    vault: VaultArgs,
    /// What replaces personal data.
    #[arg(long, value_enum, default_value_t = PseudonymMode::Placeholder)]
    mode: PseudonymMode,
}

#[derive(Args, Debug)]
struct RestoreArgs {
    #[command(flatten)]
    vault: VaultArgs,
    /// Directory of word lists whose `detectors.toml` found the values
    /// (surrogates of custom detectors are found again by them)
    /// [default: the lists bundled in the binary].
    #[arg(long, value_name = "DIR", env = "FILTER_WORDLISTS")]
    wordlists: Option<PathBuf>,
    /// Files to read; `-` or none for standard input.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Read files rather than map them into memory (as for `scan`).
    #[arg(long)]
    no_mmap: bool,
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// The word-list directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
}

/// A kind on the command line.
/// `--kinds` values: every kind of the registry, with its summary as help.
fn kind_parser() -> impl clap::builder::TypedValueParser<Value = Kind> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new(
        Kind::ALL
            .iter()
            .map(|k| PossibleValue::new(k.as_str()).help(k.summary())),
    )
    .map(|name| name.parse::<Kind>().expect("a kind the parser lists"))
}

#[derive(Args, Debug)]
struct Selection {
    /// Directory of word lists (`*.txt`, see wordlists/README.md)
    /// [default: the lists bundled in the binary, as `serve` uses].
    #[arg(long, value_name = "DIR", env = "FILTER_WORDLISTS")]
    wordlists: Option<PathBuf>,
    /// Only these kinds, comma-separated [default: all].
    #[arg(long, value_parser = kind_parser(), value_delimiter = ',', value_name = "KIND")]
    kinds: Vec<Kind>,
    /// Only sensitive words of these word-list categories, comma-separated
    /// [default: all].
    #[arg(long, value_delimiter = ',', value_name = "CATEGORY")]
    categories: Vec<String>,
    /// Report personal data of at least this confidence, 0 to 1 [default:
    /// the word lists' `detectors.toml`, else 0.4].
    #[arg(long, value_name = "MIN", value_parser = confidence)]
    min_confidence: Option<f32>,
    /// Files to read; `-` or none for standard input.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Read files rather than map them into memory (files of 1 MiB or more
    /// are mapped: faster, but a file truncated while it is read ends the
    /// process with SIGBUS).
    #[arg(long)]
    no_mmap: bool,
}

#[derive(Args, Debug)]
struct ScanArgs {
    #[command(flatten)]
    selection: Selection,
    #[command(flatten)]
    threads: Threads,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Args, Debug)]
struct RedactArgs {
    #[command(flatten)]
    selection: Selection,
    #[command(flatten)]
    threads: Threads,
    /// Operator for a kind, repeatable: `phone=mask:3:4`, `email=hash`,
    /// `id_card=label`, `bank_card=remove`, `secret=label:[KEY]`.
    #[arg(long = "operator", value_name = "KIND=OP")]
    operators: Vec<String>,
    /// File holding the key of the `hash` operator: its bytes without one
    /// trailing line ending, the same rule as `serve`.
    #[arg(long, value_name = "FILE", env = "FILTER_HASH_KEY_FILE")]
    hash_key_file: Option<PathBuf>,
}

/// How many files are worked on at once.
#[derive(Args, Debug)]
struct Threads {
    /// Files scanned at once, output still in the order given [default:
    /// the number of CPUs].
    #[arg(short = 'j', long = "threads", value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
}

impl Threads {
    fn get(&self) -> usize {
        self.threads.map_or_else(
            || std::thread::available_parallelism().map_or(1, usize::from),
            usize::from,
        )
    }
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    /// `FILE:LINE:COLUMN: KIND TEXT`, one finding a line.
    Text,
    /// One JSON object a finding a line.
    Json,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error("--wordlists {lists}: {source}")]
    Wordlists {
        lists: Wordlists,
        source: filter_core::Error,
    },
    #[error("{0}")]
    Selection(String),
    #[error(transparent)]
    Operator(#[from] OperatorError),
    #[error("--hash-key-file: {0}")]
    HashKey(filter_core::Error),
    #[error("--vault-key-file: {0}")]
    VaultKey(filter_core::Error),
    #[error("--vault {path}: {source}")]
    Vault {
        path: String,
        source: filter_core::Error,
    },
    #[error("--vault {path}: {source}")]
    VaultFile { path: String, source: io::Error },
    #[error("{name}: {source}")]
    Input { name: String, source: io::Error },
    #[error("{name}: not UTF-8 (invalid byte at offset {offset})")]
    NotUtf8 { name: String, offset: usize },
    #[error("--log {filter:?}: {reason}")]
    Log { filter: String, reason: String },
    #[error("writing the output: {0}")]
    Output(io::Error),
    #[error("starting the runtime: {0}")]
    Runtime(io::Error),
    #[error(transparent)]
    Health(#[from] HealthArgsError),
}

impl CliError {
    fn output(e: io::Error) -> CliError {
        CliError::Output(e)
    }
}

/// Runs the command line and returns the process exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => serve(&cli.serve).map(|()| 0),
        Some(Command::Serve(args)) => serve(&args).map(|()| 0),
        Some(Command::Scan(args)) => scan(&args).map(u8::from),
        Some(Command::Redact(args)) => redact(&args).map(|()| 0),
        Some(Command::CheckWordlists(args)) => check_wordlists(&args).map(|()| 0),
        Some(Command::Pseudonymize(args)) => pseudonymize(&args).map(|()| 0),
        Some(Command::Restore(args)) => restore(&args).map(|()| 0),
        Some(Command::Health(args)) => health_check::health(&args).map_err(CliError::from),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // `scan | head`: the reader has what it wanted.
        Err(CliError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(0),
        Err(CliError::Serve(e)) if !e.is_startup() => {
            let _ = writeln!(io::stderr(), "filter-server: {e}");
            ExitCode::from(1)
        }
        Err(e) => {
            let _ = writeln!(io::stderr(), "filter-server: {e}");
            ExitCode::from(2)
        }
    }
}

fn serve(args: &ServeArgs) -> Result<(), CliError> {
    if args.print_config {
        let settings = args.merged()?.with_defaults();
        let text = toml::to_string(&settings).map_err(|e| CliError::Selection(e.to_string()))?;
        return io::stdout()
            .write_all(text.as_bytes())
            .map_err(CliError::output);
    }
    let config = args.resolve()?;
    let filter =
        tracing_subscriber::EnvFilter::try_new(&config.log).map_err(|e| CliError::Log {
            filter: config.log.clone(),
            reason: e.to_string(),
        })?;
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::IsTerminal::is_terminal(&io::stderr()));
    match config.log_format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.init(),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Large scans run on the blocking pool, at most this many at once:
        // each holds several times its text in scratch.
        .max_blocking_threads(4)
        .build()
        .map_err(CliError::Runtime)?;
    runtime.block_on(server::run(config))?;
    Ok(())
}

/// An input: its name for messages and its text.
struct Input {
    name: String,
    bytes: InputBytes,
}

impl Input {
    /// The text, or an error naming the input and the offset of the first
    /// byte that is not UTF-8. Checked by a SIMD validator (several GB/s,
    /// against about one for the standard library's on Chinese text).
    fn text(&self) -> Result<&str, CliError> {
        simdutf8::basic::from_utf8(&self.bytes).map_err(|_| {
            // Where: the standard library's error says.
            let offset =
                std::str::from_utf8(&self.bytes).map_or_else(|e| e.valid_up_to(), str::len);
            CliError::NotUtf8 {
                name: self.name.clone(),
                offset,
            }
        })
    }
}

/// Every input, read and checked before any is used (`pseudonymize` and
/// `restore` write one vault for all of them); large files mapped unless
/// `no_mmap`.
fn read_inputs(files: &[PathBuf], no_mmap: bool) -> Result<Vec<Input>, CliError> {
    input_paths(files)
        .iter()
        .map(|path| {
            let input = read_input(path, no_mmap)?;
            input.text()?;
            Ok(input)
        })
        .collect()
}

/// The files to read: standard input (`-`) when none is given.
fn input_paths(files: &[PathBuf]) -> Vec<PathBuf> {
    if files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        files.to_vec()
    }
}

fn read_input(path: &std::path::Path, no_mmap: bool) -> Result<Input, CliError> {
    let stdin = path.as_os_str() == "-";
    let read = if stdin {
        input_file::read_stdin()
    } else {
        input_file::read_file(path, !no_mmap)
    };
    let bytes = read.map_err(|source| CliError::Input {
        name: if stdin {
            "standard input".into()
        } else {
            path.display().to_string()
        },
        source,
    })?;
    let name = path.display().to_string();
    // Word offsets are 32-bit inside the scanner.
    if bytes.len() > u32::MAX as usize {
        return Err(CliError::Selection(format!(
            "{name}: {} bytes, over the 4 GiB a scan takes at once; split the file",
            bytes.len()
        )));
    }
    Ok(Input { name, bytes })
}

/// A confidence between 0 and 1.
fn confidence(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err(format!("{s:?} is not a number between 0 and 1")),
    }
}

/// The scanner and options of a selection. A selection that can find
/// nothing is an error, not a silent empty answer.
fn build(selection: &Selection) -> Result<(Scanner, ScanOptions), CliError> {
    let kinds: Vec<Kind> = selection.kinds.clone();
    let words = kinds.is_empty() || kinds.contains(&Kind::SensitiveWord);
    if !selection.categories.is_empty() && !words {
        return Err(CliError::Selection(
            "--categories selects sensitive words, which --kinds leaves out".into(),
        ));
    }
    let mut builder = Scanner::builder();
    // The lists are read even without sensitive words: their
    // `detectors.toml` configures the personal-data detectors.
    {
        let lists = Wordlists::from_option(selection.wordlists.clone());
        let lexicon = lists.load().map_err(|source| CliError::Wordlists {
            lists: lists.clone(),
            source,
        })?;
        for w in filter_wordlists::warning_lines(&lexicon) {
            let _ = writeln!(io::stderr(), "filter-server: warning: {w}");
        }
        check_categories(&lexicon, &selection.categories)?;
        if kinds == [Kind::SensitiveWord] && lexicon.term_count() == 0 {
            return Err(CliError::Selection(format!(
                "--kinds sensitive_word: {lists} hold no terms, so nothing can be found"
            )));
        }
        builder.words(lexicon).kind(Kind::SensitiveWord, words);
    }
    let scanner = builder
        .build()
        .map_err(|e| CliError::Selection(e.to_string()))?;
    let options = ScanOptions::new()
        .kinds(&kinds)
        .categories(&selection.categories);
    Ok((
        scanner,
        match selection.min_confidence {
            Some(min) => options.min_confidence(min),
            None => options,
        },
    ))
}

fn check_categories(lexicon: &Lexicon, wanted: &[String]) -> Result<(), CliError> {
    let unknown: Vec<&str> = wanted
        .iter()
        .map(String::as_str)
        .filter(|c| !lexicon.categories().any(|k| k == *c))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let known: Vec<&str> = lexicon.categories().collect();
    Err(CliError::Selection(format!(
        "--categories: unknown {} (known: {})",
        unknown.join(", "),
        known.join(", ")
    )))
}

fn scan(args: &ScanArgs) -> Result<bool, CliError> {
    let (scanner, options) = build(&args.selection)?;
    let files = input_paths(&args.selection.files);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut any = false;
    if let [file] = &files[..] {
        // One input: findings go straight to the output as they are
        // written, and the threads share its scan (words and personal
        // data apart).
        let threads = args.threads.get();
        any = scan_file(file, &scanner, &options, args, threads, &mut out)?;
    } else {
        parallel::ordered(
            &files,
            args.threads.get(),
            |path| {
                let mut lines = Vec::new();
                let found = scan_file(path, &scanner, &options, args, 1, &mut lines)?;
                Ok((found, lines))
            },
            |done: Result<(bool, Vec<u8>), CliError>| {
                let (found, lines) = done?;
                any |= found;
                out.write_all(&lines).map_err(CliError::output)
            },
        )?;
    }
    out.flush().map_err(CliError::output)?;
    Ok(any)
}

/// Reads, scans (on up to `threads` threads) and prints one input; whether
/// something was found.
fn scan_file(
    path: &std::path::Path,
    scanner: &Scanner,
    options: &ScanOptions,
    args: &ScanArgs,
    threads: usize,
    out: &mut impl Write,
) -> Result<bool, CliError> {
    let input = read_input(path, args.selection.no_mmap)?;
    let text = input.text()?;
    let findings = scanner.scan_with_threads(text, options, threads);
    print_findings(out, &input.name, text, &findings, args.format).map_err(CliError::output)?;
    Ok(!findings.is_empty())
}

fn print_findings(
    out: &mut impl Write,
    name: &str,
    text: &str,
    findings: &[Finding<'_>],
    format: Format,
) -> io::Result<()> {
    let mut offsets = OffsetMapper::new(text);
    let mut lines = LineCounter::default();
    for f in findings {
        match format {
            Format::Json => {
                let (cp_start, u16_start) = offsets.map(f.start());
                let (cp_end, u16_end) = offsets.map(f.end());
                let line = JsonFinding {
                    file: name,
                    finding: f,
                    cp_start,
                    cp_end,
                    utf16_start: u16_start,
                    utf16_end: u16_end,
                };
                serde_json::to_writer(&mut *out, &line)?;
                out.write_all(b"\n")?;
            }
            Format::Text => {
                let (line, col) = lines.position(text, f.start());
                let what = match f.term() {
                    Some(term) => format!("{} [{}: {}]", f.kind(), f.category(), term),
                    None => f.kind().to_string(),
                };
                writeln!(out, "{name}:{line}:{col}: {what} {}", f.as_str())?;
            }
        }
    }
    Ok(())
}

/// One line of `scan --format json`, written straight from the finding
/// (no intermediate map: a large file can have millions of findings): the
/// file, the finding as filter-core's `serde` support writes it (kind,
/// byte span, match type, text, category, term, edit distance,
/// confidence), and its code-point and UTF-16 spans.
#[derive(Serialize)]
struct JsonFinding<'a, 'h> {
    file: &'a str,
    #[serde(flatten)]
    finding: &'a Finding<'h>,
    cp_start: usize,
    cp_end: usize,
    utf16_start: usize,
    utf16_end: usize,
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

fn redact(args: &RedactArgs) -> Result<(), CliError> {
    if std::env::var_os("FILTER_HASH_KEY").is_some() && args.hash_key_file.is_none() {
        return Err(CliError::Selection(
            "FILTER_HASH_KEY is not read: put the key in a file and pass --hash-key-file \
             (or FILTER_HASH_KEY_FILE), as serve takes it"
                .into(),
        ));
    }
    let key = args
        .hash_key_file
        .as_deref()
        .map(HashKey::from_file)
        .transpose()
        .map_err(CliError::HashKey)?;
    let policy = policy_from_settings(&args.operators, key.as_ref())?;
    let (scanner, options) = build(&args.selection)?;
    let files = input_paths(&args.selection.files);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    parallel::ordered(
        &files,
        args.threads.get(),
        |path| {
            let input = read_input(path, args.selection.no_mmap)?;
            let text = input.text()?;
            let findings = scanner.scan_with(text, &options);
            // Nothing replaced: the input goes out as it came, not copied.
            let redacted = match policy.apply(text, &findings) {
                Cow::Borrowed(_) => None,
                Cow::Owned(redacted) => Some(redacted),
            };
            Ok((input, redacted))
        },
        |done: Result<(Input, Option<String>), CliError>| {
            let (input, redacted) = done?;
            let bytes = redacted.as_ref().map_or(&input.bytes[..], |r| r.as_bytes());
            out.write_all(bytes).map_err(CliError::output)
        },
    )?;
    out.flush().map_err(CliError::output)
}

impl VaultArgs {
    fn key(&self) -> Result<VaultKey, CliError> {
        let path = self.vault_key_file.as_deref().ok_or_else(|| {
            CliError::Selection(
                "a vault key is needed: --vault-key-file FILE or FILTER_VAULT_KEY_FILE \
                 (at least 16 bytes, e.g. `head -c 32 /dev/urandom > vault.key`)"
                    .into(),
            )
        })?;
        VaultKey::from_file(path).map_err(CliError::VaultKey)
    }

    fn display(&self) -> String {
        self.vault.display().to_string()
    }

    /// The vault in the file; with `new_if_missing`, a new one when there
    /// is no file.
    fn open(&self, key: &VaultKey, new_if_missing: bool) -> Result<Vault, CliError> {
        let bytes = match std::fs::read(&self.vault) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound && new_if_missing => {
                return Ok(Vault::new())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(CliError::Selection(format!(
                    "--vault {}: no such file (pseudonymize creates it)",
                    self.display()
                )))
            }
            Err(source) => {
                return Err(CliError::VaultFile {
                    path: self.display(),
                    source,
                })
            }
        };
        Vault::open([key], &bytes).map_err(|source| CliError::Vault {
            path: self.display(),
            source,
        })
    }

    /// Writes the sealed vault whole or not at all: to a file beside it,
    /// then renamed over it.
    fn save(&self, vault: &Vault, key: &VaultKey) -> Result<(), CliError> {
        let fail = |source| CliError::VaultFile {
            path: self.display(),
            source,
        };
        let mut tmp = self.vault.clone().into_os_string();
        tmp.push(format!(".tmp-{}", std::process::id()));
        std::fs::write(&tmp, vault.seal(key)).map_err(fail)?;
        std::fs::rename(&tmp, &self.vault).map_err(fail)
    }
}

fn pseudonymize(args: &PseudonymizeArgs) -> Result<(), CliError> {
    let key = args.vault.key()?;
    let mut vault = args.vault.open(&key, true)?;
    let (scanner, options) = build(&args.selection)?;
    let inputs = read_inputs(&args.selection.files, args.selection.no_mmap)?;
    let policy = RedactionPolicy::new();
    let mut texts = Vec::with_capacity(inputs.len());
    for input in &inputs {
        let text = scanner
            .pseudonymize_as(
                input.text()?,
                &options,
                args.mode.into(),
                &mut vault,
                &policy,
            )
            .map_err(|source| CliError::Vault {
                path: args.vault.display(),
                source,
            })?;
        texts.push(text);
    }
    // The vault first: text whose placeholders no vault holds is lost.
    args.vault.save(&vault, &key)?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for text in &texts {
        out.write_all(text.as_bytes()).map_err(CliError::output)?;
    }
    out.flush().map_err(CliError::output)
}

fn restore(args: &RestoreArgs) -> Result<(), CliError> {
    let key = args.vault.key()?;
    let vault = args.vault.open(&key, false)?;
    let inputs = read_inputs(&args.files, args.no_mmap)?;
    // Surrogates are found again by the detectors; placeholders need none.
    let scanner = if vault.has_surrogates() {
        let selection = Selection {
            wordlists: args.wordlists.clone(),
            kinds: Vec::new(),
            categories: Vec::new(),
            min_confidence: None,
            files: Vec::new(),
            no_mmap: args.no_mmap,
        };
        Some(build(&selection)?.0)
    } else {
        None
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for input in &inputs {
        let restored = match &scanner {
            Some(scanner) => scanner.restore(input.text()?, &vault),
            None => vault.restore(input.text()?),
        };
        out.write_all(restored.as_bytes())
            .map_err(CliError::output)?;
    }
    out.flush().map_err(CliError::output)
}

fn check_wordlists(args: &CheckArgs) -> Result<(), CliError> {
    let lists = Wordlists::Dir(args.dir.clone());
    let lexicon = lists
        .load()
        .map_err(|source| CliError::Wordlists { lists, source })?;
    let mut out = io::stdout().lock();
    let mut write = |line: String| writeln!(out, "{line}").map_err(CliError::output);
    for (category, count) in lexicon.category_counts() {
        let action = lexicon.category_action(category).map_or("", |a| a.as_str());
        write(format!("{category}: {count} terms ({action})"))?;
    }
    write(format!("allow: {} terms", lexicon.allow_count()))?;
    let spellings = match lexicon.pinyin_spelling_count() {
        0 => String::new(),
        n => format!(" and {n} pinyin spellings"),
    };
    write(format!(
        "total: {} terms{spellings} in {} categories, {} warnings",
        lexicon.term_count(),
        lexicon.category_counts().len(),
        lexicon.warnings().len()
    ))?;
    for w in lexicon.warnings() {
        write(format!("warning: {w}"))?;
    }
    Ok(())
}
