//! `gridward`: the server and its operations from the shell.

mod bench;
mod grid_bench;
mod intake_bench;
mod witness;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use gridward_app::auth::NewUser;
use gridward_app::{App, AppError, demo};
use gridward_domain::access::{format_roles, parse_roles};
use gridward_domain::division::DivisionCode;
use gridward_domain::org::format_domains;
use gridward_store::{Actor, Store};

#[derive(Parser)]
#[command(
    name = "gridward",
    version,
    about = "Integrated administrative law enforcement for a city: powers, grids, intake, cases, and a verifiable record."
)]
struct Cli {
    /// Where the embedded database and other files live.
    #[arg(long, global = true, env = "GRIDWARD_DATA_DIR", default_value = "./gridward-data")]
    data_dir: PathBuf,
    /// Database URL: `postgres://…` for PostgreSQL, `sqlite:…` for SQLite; default: gridward.db in the data directory.
    #[arg(long, global = true, env = "GRIDWARD_DB")]
    db: Option<String>,
    /// Hash algorithm of the full-process record, fixed when the ledger is created (later runs keep the
    /// recorded one): SM3 (GB/T 32905) or SHA-256.
    #[arg(long, global = true, env = "GRIDWARD_LEDGER_HASH", value_enum, default_value_t = LedgerHash::Sm3)]
    ledger_hash: LedgerHash,
    /// The name this installation signs checkpoints of its record as, e.g. `nantong.gridward`.
    #[arg(long, global = true, env = "GRIDWARD_ORIGIN", default_value = "gridward")]
    origin: String,
    /// An outside witness whose cosignatures this installation accepts, as NAME=PUBLIC_KEY (SEC1 hex, as
    /// printed by `gridward witness --show-key`). Repeat for several.
    #[arg(long = "witness", global = true, env = "GRIDWARD_WITNESSES", value_delimiter = ',')]
    witnesses: Vec<String>,
    /// Digits of a unit grid's sequence number after its 12-digit community code (provinces differ).
    #[arg(long, global = true, env = "GRIDWARD_GRID_SEQUENCE_DIGITS", default_value_t = 4)]
    grid_sequence_digits: usize,
    /// Log format.
    #[arg(long, global = true, env = "GRIDWARD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LedgerHash {
    Sm3,
    Sha256,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (JSON API, pages, OpenAPI, /healthz, /metrics). Applies migrations first.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "GRIDWARD_ADDR", default_value = "127.0.0.1:8080")]
        addr: String,
        /// Load the Nantong demo city and demo accounts if the database does not have them yet.
        #[arg(long)]
        demo: bool,
        /// Mark cookies Secure (set this when served over HTTPS).
        #[arg(long, env = "GRIDWARD_SECURE_COOKIES")]
        secure_cookies: bool,
        #[command(flatten)]
        intake: IntakeOptions,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Import a file, all or nothing: every bad row is reported and nothing is written unless all are good.
    Import {
        #[arg(value_enum)]
        kind: ImportKind,
        /// The file to read (CSV, or GeoJSON for boundaries).
        file: PathBuf,
        /// For boundaries and grids: where the outlines come from (kept for attribution).
        #[arg(long, default_value = "imported")]
        source: String,
        /// For grids: the datum of a file that names none (wgs84, cgcs2000, gcj02).
        #[arg(long)]
        datum: Option<String>,
    },
    /// Write stored data as CSV (to standard output unless --out is given).
    Export {
        #[arg(value_enum)]
        kind: ExportKind,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check the full-process record.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Watch an installation's record as an outside witness: check that its newest signed head extends
    /// the one this witness cosigned last, cosign it, and refuse loudly (non-zero exit) otherwise. Keeps its
    /// key and state in --data-dir.
    Witness {
        /// The installation, as http://host:port.
        #[arg(long, required_unless_present = "show_key")]
        server: Option<String>,
        /// The name this witness cosigns as (the installation configures it with --witness NAME=KEY).
        #[arg(long)]
        name: String,
        /// The installation's public key, to pin on first contact instead of trusting what it serves.
        #[arg(long)]
        server_key: Option<String>,
        /// Print this witness's NAME=PUBLIC_KEY and exit.
        #[arg(long)]
        show_key: bool,
        /// Keep watching, one round every this many seconds (default: one round, then exit).
        #[arg(long)]
        every: Option<u64>,
    },
    /// Measure the platform at scale on the configured database (use a new --data-dir).
    Bench {
        #[command(subcommand)]
        what: BenchKind,
    },
    /// Manage user accounts.
    Users {
        #[command(subcommand)]
        action: UsersAction,
    },
    /// Manage the keys Open311 client applications post with.
    #[command(name = "open311-key")]
    Open311Key {
        #[command(subcommand)]
        action: KeyAction,
    },
}

/// How public reports are taken in.
#[derive(clap::Args, Clone)]
struct IntakeOptions {
    /// Reports a minute allowed per Open311 key (0: no limit).
    #[arg(long, env = "GRIDWARD_RATE_PER_KEY", default_value_t = 600)]
    rate_per_key: u32,
    /// Reports a minute allowed per client address on the web form (0: no limit).
    #[arg(long, env = "GRIDWARD_RATE_PER_ADDRESS", default_value_t = 20)]
    rate_per_address: u32,
    /// Reports a minute allowed per device (0: no limit).
    #[arg(long, env = "GRIDWARD_RATE_PER_DEVICE", default_value_t = 10)]
    rate_per_device: u32,
    /// Store each public report in its own transaction instead of grouping concurrent ones (group commit).
    #[arg(long)]
    no_group_commit: bool,
    /// Reports of one service within this many metres of an open report are linked to it as duplicates.
    #[arg(long, env = "GRIDWARD_DUPLICATE_RADIUS_M", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    duplicate_radius_m: u32,
    /// … and within this many hours after it.
    #[arg(long, env = "GRIDWARD_DUPLICATE_WINDOW_HOURS", default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=720))]
    duplicate_window_hours: u32,
    /// Reward rules (举报奖励) as CSV `applies_to,min_severity,amount` (applies_to: a service group, a service
    /// code or *); default: the built-in rules shown on /rewards.
    #[arg(long, env = "GRIDWARD_REWARD_RULES")]
    reward_rules: Option<PathBuf>,
    /// The most one reporter is awarded in a calendar month, in yuan.
    #[arg(long, env = "GRIDWARD_REWARD_MONTHLY_CAP", default_value_t = 500)]
    reward_monthly_cap: u32,
    /// The fine on a person, in yuan, from which the party may ask for a hearing (行政处罚法 Art. 63 (1);
    /// set by the province).
    #[arg(long, env = "GRIDWARD_HEARING_THRESHOLD_PERSON", default_value_t = 5_000)]
    hearing_threshold_person: u64,
    /// The same for an organisation.
    #[arg(long, env = "GRIDWARD_HEARING_THRESHOLD_ORGANISATION", default_value_t = 50_000)]
    hearing_threshold_organisation: u64,
}

#[derive(Subcommand)]
enum KeyAction {
    /// Issue a key for a client application and print it (it is shown only this once).
    Create {
        /// The application's name (letters, digits, '-', '_', '.').
        name: String,
        /// Who to contact about the application.
        #[arg(long, default_value = "")]
        contact: String,
    },
    /// Revoke a key: posts with it are refused from then on.
    Revoke { name: String },
    /// List the keys (names and states; never the keys).
    List,
}

#[derive(Subcommand)]
enum BenchKind {
    /// Load the demo city, import GRIDS unit grids over its communities from GeoJSON (timed), then time point
    /// lookups on one core, against PostGIS `ST_Contains` with a GiST index over the same grids and points
    /// (one query per point, and one spatial join) when --postgis names a database with PostGIS available.
    Grids {
        #[arg(long, default_value_t = 100_000)]
        grids: usize,
        /// Random points looked up by Gridward (PostGIS answers a sample of them one by one, all of them joined).
        #[arg(long, default_value_t = 1_000_000)]
        points: usize,
        /// A PostgreSQL URL where `CREATE EXTENSION postgis` works; its bench tables are replaced.
        #[arg(long)]
        postgis: Option<String>,
    },
    /// Post Open311 reports over HTTP on loopback for SECONDS, from CONNECTIONS keep-alive connections: first
    /// with one transaction per report, then with group commit; prints throughput, latency and their ratio.
    Intake {
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Where reports are made: over the whole city, or crowded into 崇川区's urban core (most of them
        /// then repeat an earlier report within 50 m).
        #[arg(long, value_enum, default_value_t = intake_bench::Area::City)]
        area: intake_bench::Area,
    },
    /// Fill an empty ledger, build its tree, serve inclusion proofs and run `audit verify` over it, with
    /// single-core SM3 throughput measured in the same run.
    Ledger {
        /// How many entries to write.
        #[arg(long, default_value_t = 10_000_000)]
        entries: u64,
        /// How many inclusion proofs to time.
        #[arg(long, default_value_t = 1000)]
        proofs: u32,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ImportKind {
    /// `code,name,level,parent_code[,valid_from][,valid_to]`
    Divisions,
    /// GeoJSON FeatureCollection; each feature has a `code` property.
    Boundaries,
    /// `code,name,kind,division_code,parent_code,domains`
    Bodies,
    /// `staff_no,name,body_code,roles,credential_no,credential_valid_from,credential_valid_to,qualification_domains,auxiliary,active`
    Staff,
    /// The power catalog, CSV or XLSX, with the columns of `export catalog` (or their Chinese headings).
    Catalog,
    /// Unit grids: GeoJSON, or a zipped Shapefile (.shp, .dbf, .prj); each feature has a `code`.
    Grids,
    /// The report service list: `code,class,group,name,description,keywords,power_code,verify,dispatch,handle,check,public`
    /// (time limits like `4h` working hours or `2d` working days).
    Services,
    /// The official working-day arrangement of the next years: `date,kind,festival`, `kind` being `holiday`
    /// or `makeup_workday`. Years already known are never changed.
    Calendar,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportKind {
    Divisions,
    Bodies,
    Staff,
    /// The power catalog in force today: XLSX when --out ends in .xlsx, CSV otherwise.
    Catalog,
}

#[derive(Subcommand)]
enum AuditAction {
    /// Sign the current head of the record now (the server also does so every 10 minutes).
    Checkpoint,
    /// Write a self-contained proof that entry SEQ is in the record, for a third party to check offline.
    Prove {
        seq: u64,
        /// Where to write the proof (standard output when absent).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check a proof written by `audit prove`, without any access to the server or its database.
    CheckProof {
        file: PathBuf,
        /// The key id the installation publishes (at /.well-known/gridward-ledger-key); when given, the
        /// proof must be signed by that key.
        #[arg(long)]
        key_id: Option<String>,
    },
    /// Recompute every payload digest, leaf, tree node and the root from the stored entries; name the
    /// first bad entry and exit non-zero if anything differs.
    Verify {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum UsersAction {
    /// List accounts.
    List,
    /// Create an account. The password is read from GRIDWARD_NEW_PASSWORD or standard input.
    Add {
        username: String,
        /// Semicolon-separated roles: admin, leader, dispatcher, officer, auxiliary, legal_reviewer, supervisor, procuratorate.
        #[arg(long)]
        roles: String,
        /// 12-digit division code of the account's territory.
        #[arg(long)]
        scope: String,
        #[arg(long)]
        display_name: Option<String>,
        /// Link to a staff member.
        #[arg(long)]
        staff_no: Option<String>,
    },
    /// Set a password (read from GRIDWARD_NEW_PASSWORD or standard input) and unlock the account.
    Passwd { username: String },
}

const MAX_IMPORT_BYTES: u64 = 64 * 1024 * 1024;
/// Where a generated demo password is kept (owner-only), inside the data directory.
const DEMO_PASSWORD_FILE: &str = "demo-password.txt";

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// The database `--db` names, or by default `gridward.db` in the data directory.
async fn open(cli: &Cli) -> Result<Arc<dyn Store>> {
    let store = match &cli.db {
        Some(url) => gridward_app::open_store(url).await,
        None => {
            std::fs::create_dir_all(&cli.data_dir).with_context(|| format!("creating {}", cli.data_dir.display()))?;
            gridward_app::open_sqlite_file(&cli.data_dir.join("gridward.db")).await
        }
    }
    .map_err(explain)?;
    store.migrate().await.context("applying migrations")?;
    let wanted = match cli.ledger_hash {
        LedgerHash::Sm3 => gridward_ledger::HashAlgorithm::Sm3,
        LedgerHash::Sha256 => gridward_ledger::HashAlgorithm::Sha256,
    };
    let recorded = store.init_ledger(wanted, gridward_app::now()).await.context("creating the ledger")?;
    if recorded != wanted {
        tracing::warn!(recorded = recorded.as_str(), "the ledger keeps the hash algorithm it was created with");
    }
    Ok(store)
}

/// Where the checkpoint signing key lives, inside the data directory (owner-only).
const SIGNING_KEY_FILE: &str = "ledger-signing-key.sm2";
/// Where evidence files are kept, content-addressed, inside the data directory.
const EVIDENCE_DIR: &str = "evidence";

/// The app over the configured store, with the installation's checkpoint key (created on first use).
async fn open_app(cli: &Cli) -> Result<App> {
    let app = new_app(cli).await?;
    std::fs::create_dir_all(&cli.data_dir)?;
    let file = cli.data_dir.join(SIGNING_KEY_FILE);
    let key = match std::fs::read_to_string(&file) {
        Ok(text) => {
            gridward_ledger::CheckpointKey::from_secret_hex(&text).with_context(|| format!("reading {}", file.display()))?
        }
        Err(_) => {
            let key = gridward_ledger::CheckpointKey::generate()?;
            write_private(&file, &key.secret_hex())?;
            tracing::info!(key_id = key.key_id(), file = %file.display(), "created the checkpoint signing key");
            key
        }
    };
    let mut witnesses = std::collections::BTreeMap::new();
    for w in &cli.witnesses {
        let (name, key) = w.split_once('=').ok_or_else(|| anyhow::anyhow!("--witness takes NAME=PUBLIC_KEY, not {w:?}"))?;
        witnesses.insert(name.trim().to_string(), key.trim().to_string());
    }
    let evidence = Arc::new(gridward_app::evidence::FsBlobStore::new(cli.data_dir.join(EVIDENCE_DIR)));
    Ok(app.with_signer(key, cli.origin.clone()).with_witnesses(witnesses).with_evidence_store(evidence))
}

/// The app over the configured store, with this province's grid codes.
async fn new_app(cli: &Cli) -> Result<App> {
    let rule =
        gridward_grid::GridCodeRule::new(cli.grid_sequence_digits).map_err(|e| anyhow::anyhow!("--grid-sequence-digits: {e}"))?;
    Ok(App::new(open(cli).await?).map_err(explain)?.with_grid_rule(rule))
}

/// Turns a use-case error into a message for the terminal, listing every problem.
fn explain(e: AppError) -> anyhow::Error {
    match &e {
        AppError::Invalid(problems) => anyhow::anyhow!("{} ({}):\n{problems}", e.code(), "nothing was written"),
        // The operator at the shell may see what a web caller may not.
        AppError::Internal(detail) => anyhow::anyhow!("internal: {detail}"),
        _ => anyhow::anyhow!("{}: {e}", e.code()),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let started = Instant::now();
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match run(&cli, started).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: &Cli, started: Instant) -> Result<()> {
    match &cli.command {
        Command::Serve { addr, demo, secure_cookies, intake } => serve(cli, started, addr, *demo, *secure_cookies, intake).await,
        Command::Open311Key { action } => {
            open311_key(cli, action).await?;
            integrate(cli).await
        }
        Command::Migrate => {
            open(cli).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Import { kind, file, source, datum } => {
            import(cli, *kind, file, source, datum.as_deref()).await?;
            integrate(cli).await
        }
        Command::Export { kind, out } => export(cli, *kind, out.as_deref()).await,
        Command::Users { action } => {
            users(cli, action).await?;
            integrate(cli).await
        }
        Command::Audit { action } => audit(cli, action).await,
        Command::Bench { what: BenchKind::Grids { grids, points, postgis } } => {
            let app = new_app(cli).await?;
            grid_bench::run(&app, *grids, *points, postgis.as_deref()).await
        }
        Command::Bench { what: BenchKind::Intake { seconds, connections, area } } => {
            let app = new_app(cli).await?;
            intake_bench::run(&app, *seconds, *connections, *area).await
        }
        Command::Bench { what: BenchKind::Ledger { entries, proofs } } => {
            let app = open_app(cli).await?;
            let store = app.store.clone();
            bench::ledger(&app, &store, *entries, *proofs).await
        }
        Command::Witness { server, name, server_key, show_key, every } => {
            if *show_key {
                return witness::show_key(&cli.data_dir, name);
            }
            let server = server.as_deref().unwrap_or_default();
            loop {
                let round = witness::witness_once(&cli.data_dir, name, server, server_key.as_deref());
                match (round, every) {
                    (Err(e), None) => return Err(e),
                    (Ok(()), None) => return Ok(()),
                    (Err(e), Some(_)) => tracing::error!(error = %e, "witness round failed"),
                    (Ok(()), Some(_)) => {}
                }
                tokio::time::sleep(std::time::Duration::from_secs(every.unwrap_or(600))).await;
            }
        }
    }
}

/// Extends the record's tree over what a command wrote, so that no entry outlives the command outside it.
async fn integrate(cli: &Cli) -> Result<()> {
    open(cli).await?.ledger_head().await.map_err(|e| anyhow::anyhow!("integrating the record: {e}"))?;
    Ok(())
}

async fn serve(cli: &Cli, started: Instant, addr: &str, demo: bool, secure_cookies: bool, intake: &IntakeOptions) -> Result<()> {
    let rules = match &intake.reward_rules {
        Some(file) => {
            let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
            gridward_app::reports::read_reward_rules(&bytes).map_err(explain)?
        }
        None => gridward_app::reports::default_reward_rules(),
    };
    let policy = gridward_domain::report::RewardPolicy { monthly_cap: intake.reward_monthly_cap };
    let thresholds = gridward_domain::case::HearingThresholds {
        person_yuan: intake.hearing_threshold_person,
        organisation_yuan: intake.hearing_threshold_organisation,
    };
    let app = open_app(cli)
        .await?
        .with_group_commit(!intake.no_group_commit)
        .with_duplicate_rule(gridward_domain::report::DuplicateRule {
            radius_m: f64::from(intake.duplicate_radius_m),
            window_s: i64::from(intake.duplicate_window_hours) * 3600,
        })
        .with_reward_rules(rules, policy)
        .with_hearing_thresholds(thresholds);
    let mut demo_note = None;
    if demo {
        let file = cli.data_dir.join(DEMO_PASSWORD_FILE);
        // A password is chosen only when the accounts are created; later starts report the one in use.
        demo_note = Some(if app.demo_loaded().await.map_err(explain)? {
            match std::fs::read_to_string(&file) {
                Ok(p) if !p.trim().is_empty() => format!("Demo password: {}  (kept in {})", p.trim(), file.display()),
                _ => "Demo password: the one set when the demo was first loaded (GRIDWARD_DEMO_PASSWORD)".to_string(),
            }
        } else {
            let (password, generated) = demo_password_for(&cli.data_dir)?;
            let outcome = app.load_demo_city(&password).await.map_err(explain)?;
            tracing::info!(
                divisions = outcome.divisions,
                bodies = outcome.bodies,
                staff = outcome.staff,
                synthetic_boundaries = outcome.synthetic_boundaries,
                "demo city loaded"
            );
            match generated {
                Some(file) => format!("Demo password: {password}  (kept in {})", file.display()),
                None => "Demo password: from GRIDWARD_DEMO_PASSWORD".to_string(),
            }
        });
    }
    if demo {
        // What the demo gained later (the catalog) reaches a city loaded before it. The unit grids, most of
        // a first load, arrive in the background, so the server answers at once; the log says when.
        app.load_demo_additions().await.map_err(explain)?;
        let background = app.clone();
        tokio::spawn(async move {
            match background.load_demo_grids().await {
                Ok(()) => {
                    // Intake read the owners before the grids arrived; it reads them again.
                    background.forget_intake_cache();
                    tracing::info!("demo grids loaded");
                    match background.load_demo_reports().await {
                        Ok(()) => tracing::info!("demo reports loaded"),
                        Err(e) => tracing::error!(error = %e, "loading the demo reports failed"),
                    }
                    match background.load_demo_cases().await {
                        Ok(()) => tracing::info!("demo cases loaded"),
                        Err(e) => tracing::error!(error = %e, "loading the demo cases failed"),
                    }
                    if let Err(e) = background.sign_checkpoint().await {
                        tracing::warn!(error = %e, "checkpoint signing failed");
                    }
                }
                Err(e) => tracing::error!(error = %e, "loading the demo grids failed"),
            }
        });
    }
    // Ready means the record has a signed head over everything stored, the demo load included.
    if let Err(e) = app.sign_checkpoint().await {
        tracing::warn!(error = %e, "checkpoint signing failed");
    }
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("listening on {addr}"))?;
    let local = listener.local_addr()?;
    let state = gridward_web::AppState::new(app, demo, secure_cookies).with_rate_limits(gridward_web::limits::RateLimits {
        per_key: intake.rate_per_key,
        per_address: intake.rate_per_address,
        per_device: intake.rate_per_device,
    });
    println!("Gridward is ready at http://{local}/ ({} ms)", started.elapsed().as_millis());
    if let Some(note) = &demo_note {
        let accounts: Vec<&str> = demo::ACCOUNTS.iter().map(|a| a.0).collect();
        println!("Demo accounts: {}", accounts.join(", "));
        println!("{note}");
    }
    std::io::stdout().flush().ok();
    tokio::spawn(purge_periodically(state.app.clone()));
    tokio::spawn(checkpoint_periodically(state.app.clone()));
    tokio::spawn(integrate_continually(state.app.clone()));
    tokio::spawn(escalate_periodically(state.app.clone()));
    // The peer address feeds the per-address rate limit of the public form.
    let service = gridward_web::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown()).await?;
    Ok(())
}

/// How often the server signs the head of its record when it has grown.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// How often open reports are checked against their steps' time limits.
const ESCALATE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Escalates (督办) every report whose running step ran over its limit.
async fn escalate_periodically(app: App) {
    let mut every = tokio::time::interval(ESCALATE_EVERY);
    loop {
        every.tick().await;
        match app.escalate_overdue().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(reports = n, "overdue reports escalated"),
            // Before the demo's services exist there is nothing to escalate.
            Err(e) => tracing::debug!(error = %e, "escalation scan skipped"),
        }
    }
}

/// `gridward open311-key create|revoke|list`.
async fn open311_key(cli: &Cli, action: &KeyAction) -> Result<()> {
    let app = open_app(cli).await?;
    let actor = gridward_store::Actor::new("cli", "admin");
    match action {
        KeyAction::Create { name, contact } => {
            let key = app.issue_open311_key_as(name, contact, &actor).await.map_err(explain)?;
            println!("{key}");
            eprintln!("Key for {name} issued; it is shown only this once.");
        }
        KeyAction::Revoke { name } => {
            let admin = cli_admin(&app).await?;
            app.revoke_open311_key(&admin, name).await.map_err(explain)?;
            println!("revoked {name}");
        }
        KeyAction::List => {
            let admin = cli_admin(&app).await?;
            for k in app.open311_keys(&admin).await.map_err(explain)? {
                println!("{}\t{}\t{}", k.name, if k.revoked_at.is_some() { "revoked" } else { "live" }, k.contact);
            }
        }
    }
    Ok(())
}

/// The shell user acts as an administrator of the whole installation.
async fn cli_admin(app: &App) -> Result<gridward_domain::access::Principal> {
    let city = app.intake_cache().await.map_err(explain)?.city.clone();
    Ok(gridward_domain::access::Principal {
        username: "cli".into(),
        display_name: "cli".into(),
        roles: vec![gridward_domain::access::Role::Admin],
        scope: city,
    })
}

async fn checkpoint_periodically(app: App) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    // The first head was signed before the server said it was ready.
    every.tick().await;
    loop {
        every.tick().await;
        match app.sign_checkpoint().await {
            Ok(c) => tracing::debug!(size = c.checkpoint.head.size, "checkpoint signed"),
            Err(e) => tracing::warn!(error = %e, "checkpoint signing failed"),
        }
    }
}

/// How often the server extends the record's tree over newly committed entries. Writes insert only
/// their entries; a head or proof asked for in between integrates on demand, so this only keeps that rare.
const INTEGRATE_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

async fn integrate_continually(app: App) {
    let mut every = tokio::time::interval(INTEGRATE_EVERY);
    loop {
        every.tick().await;
        if let Err(e) = app.ledger_head().await {
            tracing::warn!(error = %e, "integrating the record failed");
        }
    }
}

/// Expired sessions and old sign-in attempts are deleted hourly, so those tables stay small.
async fn purge_periodically(app: App) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        match app.purge_stale().await {
            Ok(n) => tracing::debug!(deleted = n, "purged expired sessions and sign-in attempts"),
            Err(e) => tracing::warn!(error = %e, "purge failed"),
        }
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

/// The demo password: GRIDWARD_DEMO_PASSWORD, or one generated on first start and kept (owner-only) in the
/// data directory so that later starts print the same one.
fn demo_password_for(data_dir: &Path) -> Result<(String, Option<PathBuf>)> {
    if let Ok(p) = std::env::var("GRIDWARD_DEMO_PASSWORD")
        && !p.is_empty()
    {
        return Ok((p, None));
    }
    std::fs::create_dir_all(data_dir)?;
    let file = data_dir.join(DEMO_PASSWORD_FILE);
    if let Ok(existing) = std::fs::read_to_string(&file)
        && !existing.trim().is_empty()
    {
        return Ok((existing.trim().to_string(), Some(file)));
    }
    let mut bytes = [0u8; 9];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    use base64::Engine;
    let password = format!("gw-{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
    write_private(&file, &password)?;
    Ok((password, Some(file)))
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).with_context(|| format!("writing {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

async fn import(cli: &Cli, kind: ImportKind, file: &Path, source: &str, datum: Option<&str>) -> Result<()> {
    let size = std::fs::metadata(file).with_context(|| format!("reading {}", file.display()))?.len();
    if size > MAX_IMPORT_BYTES {
        bail!("file_too_large: {} is {size} bytes; the limit is {MAX_IMPORT_BYTES}", file.display());
    }
    let text = match kind {
        // A catalog may be a workbook, and grids a zip archive: neither is text.
        ImportKind::Catalog => return import_catalog(cli, file).await,
        ImportKind::Grids => return import_grids(cli, file, source, datum).await,
        ImportKind::Services => return import_services(cli, file).await,
        ImportKind::Calendar => return import_calendar(cli, file).await,
        _ => std::fs::read_to_string(file),
    };
    let text = text.with_context(|| format!("{} is not UTF-8 text", file.display()))?;
    let app = new_app(cli).await?;
    let report = match kind {
        ImportKind::Divisions => app.import_divisions(&text, &operator()).await,
        ImportKind::Boundaries => app.import_boundaries(&text, source, &operator()).await,
        ImportKind::Bodies => app.import_bodies(&text, &operator()).await,
        ImportKind::Staff => app.import_staff(&text, &operator()).await,
        ImportKind::Catalog => return import_catalog(cli, file).await,
        ImportKind::Grids => return import_grids(cli, file, source, datum).await,
        ImportKind::Services => return import_services(cli, file).await,
        ImportKind::Calendar => return import_calendar(cli, file).await,
    }
    .map_err(explain)?;
    println!("imported {} rows", report.rows);
    Ok(())
}

async fn import_grids(cli: &Cli, file: &Path, source: &str, datum: Option<&str>) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let declared = datum.map(gridward_grid::Datum::parse).transpose().map_err(|e| anyhow::anyhow!("unsupported_crs: {e}"))?;
    let app = new_app(cli).await?;
    let report = app.import_grid_file(&operator(), &bytes, declared, source).await.map_err(explain)?;
    println!(
        "grids ({}): {} added, {} revised, {} unchanged, {} retired, in {} communities",
        report.datum,
        report.outcome.added,
        report.outcome.revised,
        report.outcome.unchanged,
        report.outcome.retired,
        report.communities
    );
    for part in &report.uncovered {
        println!("  {} {}: {} m² not covered by any grid", part.community, part.name, part.area_m2);
    }
    Ok(())
}

async fn import_services(cli: &Cli, file: &Path) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let app = new_app(cli).await?;
    let changed = app.import_services_csv_as(&bytes, &operator()).await.map_err(explain)?;
    println!("services: {changed} added or revised");
    Ok(())
}

async fn import_calendar(cli: &Cli, file: &Path) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let app = new_app(cli).await?;
    let days = app.import_calendar_as(&bytes, &operator()).await.map_err(explain)?;
    let known = app.work_calendar().await.map_err(explain)?.known_through();
    println!("calendar: {days} days added; working days are known through {known}");
    Ok(())
}

async fn import_catalog(cli: &Cli, file: &Path) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let app = new_app(cli).await?;
    let outcome = app.import_catalog_as(&bytes, &operator()).await.map_err(explain)?;
    println!("powers: {} added, {} revised, {} unchanged", outcome.added, outcome.revised, outcome.unchanged);
    Ok(())
}

async fn export(cli: &Cli, kind: ExportKind, out: Option<&Path>) -> Result<()> {
    let store = open(cli).await?;
    // A workbook is written as it is; the other kinds are CSV rows.
    let xlsx = out.is_some_and(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx")));
    let sink: Box<dyn Write> = match out {
        Some(path) => Box::new(std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?),
        None => Box::new(std::io::stdout()),
    };
    let mut w = csv::Writer::from_writer(sink);
    let date = |d: Option<gridward_domain::Date>| d.map(|d| d.to_string()).unwrap_or_default();
    match kind {
        ExportKind::Catalog => {
            let format = if xlsx { gridward_app::sheet::SheetFormat::Xlsx } else { gridward_app::sheet::SheetFormat::Csv };
            let powers = store.powers_in_force(gridward_app::today()).await?;
            let (header, rows) = gridward_app::catalog::catalog_rows(&powers);
            let bytes = gridward_app::catalog::render_sheet(format, "权力清单", &header, &rows).map_err(explain)?;
            let mut sink = w.into_inner().map_err(|e| anyhow::anyhow!("writing: {e}"))?;
            sink.write_all(&bytes)?;
            return Ok(sink.flush()?);
        }
        ExportKind::Divisions => {
            w.write_record(["code", "name", "level", "parent_code", "valid_from", "valid_to"])?;
            for d in store.all_divisions().await? {
                let parent = d.parent_code.as_ref().map(|c| c.to_string()).unwrap_or_default();
                w.write_record([d.code.as_str(), &d.name, d.level.as_str(), &parent, &date(d.valid_from), &date(d.valid_to)])?;
            }
        }
        ExportKind::Bodies => {
            w.write_record(["code", "name", "kind", "division_code", "parent_code", "domains"])?;
            let everything = gridward_store::Page { after: None, limit: 1000 };
            for scope in top_divisions(&store).await? {
                let mut page = everything.clone();
                loop {
                    let bodies = store.bodies_within(&scope, &page).await?;
                    for b in &bodies {
                        let parent = b.parent_code.clone().unwrap_or_default();
                        w.write_record([
                            b.code.as_str(),
                            &b.name,
                            b.kind.as_str(),
                            b.division_code.as_str(),
                            &parent,
                            &format_domains(&b.domains),
                        ])?;
                    }
                    match bodies.last() {
                        Some(last) if bodies.len() == page.limit as usize => page.after = Some(last.code.clone()),
                        _ => break,
                    }
                }
            }
        }
        ExportKind::Staff => {
            w.write_record(gridward_app::import::STAFF_COLUMNS.0)?;
            for scope in top_divisions(&store).await? {
                for s in store.staff_within(&scope).await? {
                    let c = s.credential.as_ref();
                    w.write_record([
                        s.staff_no.as_str(),
                        &s.name,
                        &s.body_code,
                        &format_roles(&s.roles),
                        c.map_or("", |c| c.number.as_str()),
                        &date(c.map(|c| c.valid_from)),
                        &date(c.map(|c| c.valid_to)),
                        &c.map(|c| format_domains(&c.domains)).unwrap_or_default(),
                        if s.auxiliary { "true" } else { "false" },
                        if s.active { "true" } else { "false" },
                    ])?;
                }
            }
        }
    }
    w.flush()?;
    Ok(())
}

/// The divisions with no stored parent (the cities), which together cover everything stored.
async fn top_divisions(store: &Arc<dyn Store>) -> Result<Vec<DivisionCode>> {
    let all = store.all_divisions().await?;
    let codes: std::collections::HashSet<_> = all.iter().map(|d| d.code.clone()).collect();
    Ok(all.into_iter().filter(|d| d.parent_code.as_ref().is_none_or(|p| !codes.contains(p))).map(|d| d.code).collect())
}

async fn audit(cli: &Cli, action: &AuditAction) -> Result<()> {
    if let AuditAction::CheckProof { file, key_id } = action {
        return check_proof(file, key_id.as_deref());
    }
    let app = open_app(cli).await?;
    match action {
        AuditAction::Verify { json } => {
            let report = app.verify_ledger().await.map_err(explain)?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                let head = &report.stored_head;
                println!("ledger: {} entries, {} root {}", head.size, head.algorithm.as_str(), head.root);
                println!(
                    "checked: {} entries and {} checkpoints, recomputed root {}",
                    report.entries_checked, report.checkpoints_checked, report.recomputed_head.root
                );
                for f in &report.findings {
                    println!("  {} {}: {}", f.seq.map_or("-".to_string(), |s| format!("#{s}")), f.code, f.message);
                }
            }
            match report.findings.first() {
                None => {
                    println!("intact");
                    Ok(())
                }
                Some(first) => bail!("the record was changed: {} ({})", first.message, first.code),
            }
        }
        AuditAction::CheckProof { .. } => unreachable!("checked without a database above"),
        AuditAction::Prove { seq, out } => {
            let bundle = app.prove_entry(*seq).await.map_err(explain)?;
            let text = serde_json::to_string_pretty(&bundle)?;
            match out {
                Some(path) => std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?,
                None => println!("{text}"),
            }
            Ok(())
        }
        AuditAction::Checkpoint => {
            let signed = app.sign_checkpoint().await.map_err(explain)?;
            println!("{}", serde_json::to_string_pretty(&signed)?);
            Ok(())
        }
    }
}

fn check_proof(file: &Path, key_id: Option<&str>) -> Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let bundle: gridward_ledger::EntryProofBundle =
        serde_json::from_str(&text).with_context(|| format!("{} is not an entry proof", file.display()))?;
    bundle.check(key_id).map_err(|e| anyhow::anyhow!("proof_invalid: {e}"))?;
    let e = &bundle.entry;
    println!(
        "valid: entry #{} ({} {} {} by {} at {}) is in the record of {} ({} entries, root {}), signed by key {}",
        e.seq,
        e.action,
        e.object_type,
        e.object_id,
        e.actor,
        e.recorded_at,
        bundle.origin,
        bundle.checkpoint.head.size,
        bundle.checkpoint.head.root,
        bundle.key_id()
    );
    if key_id.is_none() {
        println!("compare the key id with the one the installation publishes, or pass --key-id");
    }
    Ok(())
}

/// The ledger's actor for commands run on the server's machine: the operating-system user.
fn operator() -> Actor {
    let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
    Actor::new(format!("cli:{user}"), "operator")
}

fn read_new_password() -> Result<String> {
    if let Ok(p) = std::env::var("GRIDWARD_NEW_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

async fn users(cli: &Cli, action: &UsersAction) -> Result<()> {
    let app = new_app(cli).await?;
    match action {
        UsersAction::List => {
            for u in app.store.users().await? {
                let locked = app.store.login_lock(&u.username, gridward_app::now()).await?.map_or("", |_| " (locked)");
                println!("{}\t{}\t{}\t{}{locked}", u.username, format_roles(&u.roles), u.scope, u.display_name);
            }
        }
        UsersAction::Add { username, roles, scope, display_name, staff_no } => {
            let roles = parse_roles(roles).map_err(|e| anyhow::anyhow!("bad_role: {e}"))?;
            let scope = DivisionCode::parse(scope).map_err(|e| anyhow::anyhow!("bad_code: {e}"))?;
            app.create_user(
                NewUser {
                    username: username.clone(),
                    display_name: display_name.clone().unwrap_or_else(|| username.clone()),
                    password: read_new_password()?,
                    roles,
                    scope,
                    staff_no: staff_no.clone(),
                },
                &operator(),
            )
            .await
            .map_err(explain)?;
            println!("created {username}");
        }
        UsersAction::Passwd { username } => {
            app.set_password(username, &read_new_password()?, &operator()).await.map_err(explain)?;
            println!("password set for {username}");
        }
    }
    Ok(())
}
