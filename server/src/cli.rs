//! The `anju` command line: `serve` (the default), `migrate`, `user …`, `apikey create`,
//! `import FILE`, `route` (routing dry run). Passwords are read from standard input, never from arguments.

use std::io::BufRead;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::auth::Role;
use crate::clock::TimeSource;
use crate::config::{Config, LogFormat};
use crate::db::Db;
use crate::org::import_format::ImportFile;
use crate::org::store::{self, Completeness};

/// 安居 anju: resident complaints and field-device sync for a city's housing renovation.
#[derive(Debug, Parser)]
#[command(name = "anju", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (what a bare `anju` does).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API keys for machine clients (Open311).
    #[command(subcommand)]
    Apikey(ApikeyCommand),
    /// Import the city's data (areas, units, tiers, categories, routing rules, calendar,
    /// users) from a JSON or TOML file; idempotent by code.
    Import {
        /// The file (`.json` or `.toml`).
        file: std::path::PathBuf,
    },
    /// Dry-run routing (派单): which unit a complaint would go to, and by which rule.
    Route {
        /// Category code.
        #[arg(long)]
        category: String,
        /// Area code or id.
        #[arg(long)]
        area: Option<String>,
        /// Latitude (with --lon).
        #[arg(long, allow_hyphen_values = true)]
        lat: Option<f64>,
        /// Longitude (with --lat).
        #[arg(long, allow_hyphen_values = true)]
        lon: Option<f64>,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from standard input.
    Create {
        /// Login name.
        #[arg(long)]
        username: String,
        /// admin, supervisor, dispatcher, unit_admin, unit_staff or inspector.
        #[arg(long)]
        role: String,
        /// Unit code (required for unit roles).
        #[arg(long)]
        unit: Option<String>,
        /// Name shown to colleagues (default: the username).
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Set an account's password (read from standard input); its sessions end.
    SetPassword {
        /// Login name.
        #[arg(long)]
        username: String,
    },
    /// Disable an account; its sessions end at once.
    Disable {
        /// Login name.
        #[arg(long)]
        username: String,
    },
}

#[derive(Debug, Subcommand)]
enum ApikeyCommand {
    /// Create a key; it is printed once and stored hashed.
    Create {
        /// What the key is for, e.g. the client's name.
        #[arg(long)]
        name: String,
    },
}

/// Parses arguments and runs the command. Exit code 2 for configuration and usage errors,
/// 1 for failures.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("anju: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("anju: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => runtime.block_on(serve(config)),
        other => offline(config, other),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("anju: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ANJU_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

async fn serve(config: Config) -> Result<(), String> {
    tracing::info!(config = ?config, "starting");
    let (state, bootstrap) = crate::startup::prepare(config, TimeSource::default())
        .await
        .map_err(|e| e.to_string())?;
    if bootstrap.sample_loaded {
        tracing::info!("loaded the sample city (set ANJU_SAMPLE=none to start empty)");
    }
    if let Some(pw) = &bootstrap.generated_admin_password {
        // The only secret the server ever prints: once, to the operator's terminal, not the log.
        println!("anju: created the account 'admin' with password: {pw}");
        println!("anju: it is shown only this once; change it after logging in.");
    }
    let running = crate::startup::start(state).map_err(|e| e.to_string())?;
    let public = running.state.config.public_url.clone();
    tracing::info!(addr = %running.addr, "listening");
    println!(
        "anju: serving on http://{} (public URL {public}; API docs at /api/docs/)",
        running.addr
    );
    let stop = async {
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .map_err(|e| e.to_string())?;
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = term.recv() => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        Ok::<(), String>(())
    };
    stop.await?;
    tracing::info!("stopping");
    running.stop().await;
    Ok(())
}

fn read_password() -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let pw = line.trim_end_matches(['\n', '\r']).to_string();
    crate::auth::password::check_new(&pw).map_err(|(_, en)| en.to_string())?;
    Ok(pw)
}

fn offline(config: Config, command: Command) -> Result<(), String> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| format!("ANJU_DATA_DIR: {}: {e}", config.data_dir.display()))?;
    let db = Db::connect(&config.database_url, 2).map_err(|e| e.to_string())?;
    let applied = db.migrate().map_err(|e| e.to_string())?;
    let mut conn = db.get().map_err(|e| e.to_string())?;
    let now = TimeSource::default().now_ms();
    // A fresh data dir gets the same first-start data as `serve`, so `user create --unit` can name
    // a sample unit before the server has ever run.
    if config.sample == crate::config::SampleMode::City
        && !matches!(command, Command::Import { .. })
    {
        store::load_sample_if_empty(&mut conn, now).map_err(|e| e.to_string())?;
    }
    match command {
        Command::Serve => unreachable!("handled by main"),
        Command::Migrate => {
            println!("anju: {applied} migration(s) applied");
        }
        Command::User(UserCommand::Create {
            username,
            role,
            unit,
            display_name,
        }) => {
            let role = Role::parse(&role).ok_or_else(|| {
                format!(
                    "--role {role:?} is not one of: {}",
                    Role::ALL.map(|r| r.as_str()).join(", ")
                )
            })?;
            crate::users::check_username(&username).map_err(|(_, en)| en.to_string())?;
            let unit_id = match &unit {
                Some(code) => {
                    Some(crate::users::unit_id_by_code(&mut conn, code).map_err(|e| {
                        e.message(crate::error::Lang::En).to_string() + &format!(" (unit {code})")
                    })?)
                }
                None => None,
            };
            let pw = read_password()?;
            let hash = crate::auth::password::hash(&pw).map_err(|e| e.to_string())?;
            let display = display_name.unwrap_or_else(|| username.clone());
            let id = crate::users::insert(
                &mut conn,
                &username,
                &display,
                role,
                unit_id.as_deref(),
                Some(&hash),
                now,
            )
            .map_err(|e| e.message(crate::error::Lang::En).to_string())?;
            println!("anju: created {username} ({}) with id {id}", role.as_str());
        }
        Command::User(UserCommand::SetPassword { username }) => {
            let id = crate::users::id_by_username(&mut conn, &username)
                .map_err(|e| e.message(crate::error::Lang::En).to_string())?;
            let pw = read_password()?;
            let hash = crate::auth::password::hash(&pw).map_err(|e| e.to_string())?;
            crate::users::set_password(&mut conn, &id, &hash, now).map_err(|e| e.to_string())?;
            println!("anju: password of {username} set; its sessions have ended");
        }
        Command::User(UserCommand::Disable { username }) => {
            let id = crate::users::id_by_username(&mut conn, &username)
                .map_err(|e| e.message(crate::error::Lang::En).to_string())?;
            crate::users::set_disabled(&mut conn, &id, true, now).map_err(|e| e.to_string())?;
            println!("anju: {username} disabled; its sessions have ended");
        }
        Command::Apikey(ApikeyCommand::Create { name }) => {
            let (id, key) =
                crate::apikeys::create(&mut conn, &name, now).map_err(|e| e.to_string())?;
            println!("anju: API key {id} for {name:?} (shown only this once):");
            println!("{key}");
        }
        Command::Route {
            category,
            area,
            lat,
            lon,
        } => {
            let catalog = crate::org::catalog::load(&mut conn, &config.timezone)
                .map_err(|e| e.to_string())?;
            let point = lat.zip(lon);
            let v = crate::org::routing_rules::dry_run(&catalog, &category, area.as_deref(), point)
                .map_err(|e| format!("{}: {}", e.code(), e.message(crate::error::Lang::En)))?;
            println!(
                "{}",
                serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?
            );
        }
        Command::Import { file } => {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let parsed = if file.extension().is_some_and(|e| e == "toml") {
                ImportFile::from_toml(&text).map_err(|e| format!("{}: {e}", file.display()))?
            } else {
                ImportFile::from_json(&text).map_err(|e| format!("{}: {e}", file.display()))?
            };
            match store::import(&mut conn, &parsed, Completeness::Whole, now) {
                Ok(summary) => println!("anju: imported {}: {summary:?}", file.display()),
                Err(e) => {
                    let body = e.body(crate::error::Lang::En, None);
                    let mut msg = format!(
                        "import refused, nothing changed: {}",
                        e.message(crate::error::Lang::En)
                    );
                    if let Some(list) = body["errors"].as_array() {
                        for item in list {
                            msg.push_str(&format!("\n  - {}", item.as_str().unwrap_or_default()));
                        }
                    }
                    return Err(msg);
                }
            }
        }
    }
    Ok(())
}
