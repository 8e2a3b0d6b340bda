//! Configuration: environment variables over an optional TOML file (`ANJU_CONFIG`), over
//! defaults. A bad value stops start-up with one line naming the variable and what is wrong.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;
use serde::Deserialize;

use crate::http::client_ip::{TrustedProxies, parse_nets};

/// What to load into an empty database at first start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleMode {
    /// The sample city (青河市) with its units, categories, rules and calendar.
    City,
    /// Nothing: the administrator imports the city's own data.
    None,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (for log collectors).
    Json,
    /// Human-readable text.
    Text,
}

/// The validated configuration. Every field is checked when it is built.
#[derive(Clone)]
pub struct Config {
    /// Listen address (`ANJU_ADDR`).
    pub addr: SocketAddr,
    /// Where the SQLite file, uploads and attachments live (`ANJU_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Database URL (`DATABASE_URL`): `sqlite://PATH` or a path, or `postgres://…`.
    pub database_url: String,
    /// The city's time zone (`ANJU_TIMEZONE`), used for working days and shown times.
    pub timezone: TimeZone,
    /// Its IANA name.
    pub timezone_name: String,
    /// The externally visible base URL (`ANJU_PUBLIC_URL`), used in links sent out.
    pub public_url: String,
    /// Sample data for an empty database (`ANJU_SAMPLE`).
    pub sample: SampleMode,
    /// With the sample city, also its renovation programme (projects, buildings, inspections,
    /// hazards, plans) (`ANJU_SAMPLE_PROGRAMME`, default `true`; off in [`Config::for_data_dir`]).
    pub sample_programme: bool,
    /// JWT signing secret (`ANJU_JWT_SECRET`); generated and stored in the database when absent.
    pub jwt_secret: Option<String>,
    /// Password for the first `admin` account (`ANJU_ADMIN_PASSWORD`); generated and shown once
    /// when absent.
    pub admin_password: Option<String>,
    /// Log format (`ANJU_LOG_FORMAT`: `text` or `json`).
    pub log_format: LogFormat,
    /// Complaints one IP address may submit per minute (`ANJU_INTAKE_PER_MINUTE`).
    pub intake_per_minute: u32,
    /// Database pool size (`ANJU_DB_POOL`).
    pub db_pool_size: u32,
    /// HTTP worker threads (`ANJU_WORKERS`, default: number of cores).
    pub workers: usize,
    /// Whether background workers (clocks, outbox) run in this process (`ANJU_WORKERS_ENABLED`).
    pub background_jobs: bool,
    /// Percent of a deadline's clock after which the unit is reminded (催办),
    /// `ANJU_REMINDER_PERCENT`, default 80.
    pub reminder_percent: u32,
    /// Days a resolution waits for the resident's answer before it closes as unconfirmed
    /// (`ANJU_AUTO_CLOSE_DAYS`, default 7).
    pub auto_close_days: u32,
    /// Working days before a rectification order's deadline on which its responsible unit is
    /// reminded (`ANJU_ORDER_REMINDER_DAYS`, default 3; 0 = on the deadline's day).
    pub order_reminder_days: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`ANJU_TRUSTED_PROXIES`,
    /// CIDRs); none by default, and then the header is ignored.
    pub trusted_proxies: TrustedProxies,
    /// Tracking look-ups (`/api/v1/track/{code}`, `/t/{code}`) one client address may make per
    /// minute (`ANJU_TRACK_PER_MINUTE`, default 60).
    pub track_per_minute: u32,
    /// Password checks that may wait for a hashing thread before logins are answered 503
    /// (`ANJU_HASH_QUEUE`, default 32).
    pub hash_queue: u32,
    /// Most complaints filed in one intake transaction (`ANJU_INTAKE_BATCH`); 0 (the default)
    /// = automatic: 256 on SQLite (one writer), 16 on PostgreSQL (four writers share the queue).
    pub intake_batch: u32,
    /// Webhook targets on loopback, link-local or private networks that are allowed anyway
    /// (`ANJU_WEBHOOK_ALLOW`: CIDRs and host names); none by default.
    pub webhook_allow: WebhookAllowList,
    /// Hours an upload that no complaint or resolution references is kept before it is deleted
    /// (`ANJU_UPLOAD_TTL_HOURS`, default 24).
    pub upload_ttl_hours: u32,
    /// How far (metres) a proof photo's EXIF position may be from the complaint's location and
    /// still count as verified (`ANJU_PROOF_MAX_DISTANCE_M`, default 200).
    pub proof_max_distance_m: u32,
    /// Bytes of photos one IP address may upload anonymously per day
    /// (`ANJU_UPLOAD_BYTES_PER_IP_DAY`, default 200 MB; 0 turns the budget off).
    pub upload_bytes_per_ip_day: u64,
    /// Dispatches plus rectification orders a unit needs in a bulletin's period to be ranked;
    /// fewer is marked 样本不足 (`ANJU_BULLETIN_MIN_SAMPLE`, default 5).
    pub bulletin_min_sample: u32,
    /// A bulletin names (通报批评) ranked units whose score is below this percent
    /// (`ANJU_BULLETIN_CRITICISE_BELOW`, default 60).
    pub bulletin_criticise_below: u32,
    /// A bulletin commends (通报表扬) ranked units whose score is at least this percent
    /// (`ANJU_BULLETIN_COMMEND_AT`, default 95; above the criticism threshold).
    pub bulletin_commend_at: u32,
}

/// Webhook targets an administrator allows although they resolve to loopback, link-local or
/// private addresses: networks (`10.20.0.0/16`) and host names (`hooks.intranet.gov.cn`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookAllowList {
    nets: Vec<ipnet::IpNet>,
    hosts: Vec<String>,
}

impl WebhookAllowList {
    /// Parses a comma-separated list: entries that read as an address or CIDR are networks,
    /// the others host names (letters, digits, `-` and `.`).
    pub fn parse(text: &str) -> Result<WebhookAllowList, String> {
        let mut list = WebhookAllowList::default();
        for entry in text.split([',', ' ', '\n', '\t']).map(str::trim) {
            if entry.is_empty() {
                continue;
            }
            match parse_nets(entry) {
                Ok(nets) => list.nets.extend(nets),
                Err(_)
                    if entry
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') =>
                {
                    list.hosts.push(entry.to_ascii_lowercase())
                }
                Err(e) => return Err(e),
            }
        }
        Ok(list)
    }

    /// Whether a target at `host` resolving to `ip` is allowed although `ip` is not public.
    pub fn permits(&self, host: &str, ip: std::net::IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
            || self.nets.iter().any(|n| n.contains(&ip))
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never reach a log, not even through Debug.
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("data_dir", &self.data_dir)
            .field("database", &redact_url(&self.database_url))
            .field("timezone", &self.timezone_name)
            .field("public_url", &self.public_url)
            .field("sample", &self.sample)
            .field("sample_programme", &self.sample_programme)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "<set>"))
            .field("log_format", &self.log_format)
            .field("intake_per_minute", &self.intake_per_minute)
            .field("db_pool_size", &self.db_pool_size)
            .field("workers", &self.workers)
            .field("background_jobs", &self.background_jobs)
            .field("reminder_percent", &self.reminder_percent)
            .field("auto_close_days", &self.auto_close_days)
            .field("order_reminder_days", &self.order_reminder_days)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("track_per_minute", &self.track_per_minute)
            .field("hash_queue", &self.hash_queue)
            .field("intake_batch", &self.intake_batch)
            .field("webhook_allow", &self.webhook_allow)
            .field("upload_ttl_hours", &self.upload_ttl_hours)
            .field("proof_max_distance_m", &self.proof_max_distance_m)
            .field("upload_bytes_per_ip_day", &self.upload_bytes_per_ip_day)
            .field("bulletin_min_sample", &self.bulletin_min_sample)
            .field("bulletin_criticise_below", &self.bulletin_criticise_below)
            .field("bulletin_commend_at", &self.bulletin_commend_at)
            .finish()
    }
}

/// A configuration error: the variable and what is wrong with its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    /// The environment variable (or config file key) at fault.
    pub variable: String,
    /// What is wrong, in a sentence.
    pub problem: String,
}

fn err(variable: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable: variable.to_string(),
        problem: problem.into(),
    }
}

/// The optional TOML file: the same settings as the environment, in lower case without the
/// `ANJU_` prefix (`addr`, `data_dir`, `database_url`, …). The environment wins.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    addr: Option<String>,
    data_dir: Option<String>,
    database_url: Option<String>,
    timezone: Option<String>,
    public_url: Option<String>,
    sample: Option<String>,
    jwt_secret: Option<String>,
    log_format: Option<String>,
    intake_per_minute: Option<u32>,
    db_pool: Option<u32>,
    workers: Option<usize>,
    workers_enabled: Option<bool>,
    reminder_percent: Option<u32>,
    auto_close_days: Option<u32>,
    order_reminder_days: Option<u32>,
    trusted_proxies: Option<String>,
    track_per_minute: Option<u32>,
    hash_queue: Option<u32>,
    intake_batch: Option<u32>,
    webhook_allow: Option<String>,
    upload_ttl_hours: Option<u32>,
    proof_max_distance_m: Option<u32>,
    upload_bytes_per_ip_day: Option<u64>,
    bulletin_min_sample: Option<u32>,
    bulletin_criticise_below: Option<u32>,
    bulletin_commend_at: Option<u32>,
}

impl Config {
    /// Reads the process environment (and `ANJU_CONFIG`, when set).
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// Builds the configuration from a variable lookup, so tests can pass their own.
    pub fn from_lookup(env: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let file = match env("ANJU_CONFIG") {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| err("ANJU_CONFIG", format!("cannot read {path}: {e}")))?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| err("ANJU_CONFIG", format!("{path} is not valid: {e}")))?
            }
            None => FileConfig::default(),
        };
        let pick = |var: &str, from_file: Option<String>| -> Option<String> {
            env(var).filter(|v| !v.trim().is_empty()).or(from_file)
        };

        let addr_text = pick("ANJU_ADDR", file.addr).unwrap_or_else(|| "127.0.0.1:8080".into());
        let addr: SocketAddr = addr_text.trim().parse().map_err(|_| {
            err(
                "ANJU_ADDR",
                format!("{addr_text:?} is not an address like 127.0.0.1:8080"),
            )
        })?;

        let data_dir =
            PathBuf::from(pick("ANJU_DATA_DIR", file.data_dir).unwrap_or_else(|| "./data".into()));

        let database_url = match pick("DATABASE_URL", file.database_url) {
            Some(url) => check_database_url(url.trim())?,
            None => format!("sqlite://{}", data_dir.join("anju.db").display()),
        };

        let timezone_name =
            pick("ANJU_TIMEZONE", file.timezone).unwrap_or_else(|| "Asia/Shanghai".into());
        let timezone = TimeZone::get(timezone_name.trim()).map_err(|_| {
            err(
                "ANJU_TIMEZONE",
                format!("{timezone_name:?} is not an IANA time zone such as Asia/Shanghai"),
            )
        })?;

        let public_url =
            pick("ANJU_PUBLIC_URL", file.public_url).unwrap_or_else(|| format!("http://{addr}"));
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(err(
                "ANJU_PUBLIC_URL",
                format!("{public_url:?} must start with http:// or https://"),
            ));
        }
        let public_url = public_url.trim_end_matches('/').to_string();

        let sample = match pick("ANJU_SAMPLE", file.sample).as_deref().map(str::trim) {
            None | Some("city") => SampleMode::City,
            Some("none") => SampleMode::None,
            Some(other) => {
                return Err(err(
                    "ANJU_SAMPLE",
                    format!("{other:?} is not one of: city, none"),
                ));
            }
        };

        let sample_programme = match env("ANJU_SAMPLE_PROGRAMME").as_deref().map(str::trim) {
            None | Some("") | Some("true") | Some("1") => true,
            Some("false") | Some("0") => false,
            Some(other) => {
                return Err(err(
                    "ANJU_SAMPLE_PROGRAMME",
                    format!("{other:?} is not one of: true, false"),
                ));
            }
        };

        let jwt_secret = pick("ANJU_JWT_SECRET", file.jwt_secret);
        if let Some(s) = &jwt_secret
            && s.len() < 32
        {
            return Err(err(
                "ANJU_JWT_SECRET",
                "must be at least 32 characters (the value is not shown)",
            ));
        }
        let admin_password = env("ANJU_ADMIN_PASSWORD").filter(|v| !v.is_empty());
        if let Some(p) = &admin_password
            && p.chars().count() < 10
        {
            return Err(err(
                "ANJU_ADMIN_PASSWORD",
                "must be at least 10 characters (the value is not shown)",
            ));
        }

        let log_format = match pick("ANJU_LOG_FORMAT", file.log_format)
            .as_deref()
            .map(str::trim)
        {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(err(
                    "ANJU_LOG_FORMAT",
                    format!("{other:?} is not one of: text, json"),
                ));
            }
        };

        let intake_per_minute = number(
            "ANJU_INTAKE_PER_MINUTE",
            env("ANJU_INTAKE_PER_MINUTE"),
            file.intake_per_minute,
            30,
            1,
            1_000_000,
        )?;
        let default_pool = if database_url.starts_with("postgres") {
            16
        } else {
            8
        };
        let db_pool_size = number(
            "ANJU_DB_POOL",
            env("ANJU_DB_POOL"),
            file.db_pool,
            default_pool,
            1,
            512,
        )?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let workers = number(
            "ANJU_WORKERS",
            env("ANJU_WORKERS"),
            file.workers.map(|w| w as u32),
            cores as u32,
            1,
            256,
        )? as usize;
        let background_jobs = match env("ANJU_WORKERS_ENABLED").as_deref().map(str::trim) {
            None => file.workers_enabled.unwrap_or(true),
            Some("true" | "1" | "yes") => true,
            Some("false" | "0" | "no") => false,
            Some(other) => {
                return Err(err(
                    "ANJU_WORKERS_ENABLED",
                    format!("{other:?} is not true or false"),
                ));
            }
        };

        let reminder_percent = number(
            "ANJU_REMINDER_PERCENT",
            env("ANJU_REMINDER_PERCENT"),
            file.reminder_percent,
            80,
            1,
            99,
        )?;
        let auto_close_days = number(
            "ANJU_AUTO_CLOSE_DAYS",
            env("ANJU_AUTO_CLOSE_DAYS"),
            file.auto_close_days,
            7,
            1,
            90,
        )?;
        let order_reminder_days = number(
            "ANJU_ORDER_REMINDER_DAYS",
            env("ANJU_ORDER_REMINDER_DAYS"),
            file.order_reminder_days,
            3,
            0,
            30,
        )?;
        let upload_ttl_hours = number(
            "ANJU_UPLOAD_TTL_HOURS",
            env("ANJU_UPLOAD_TTL_HOURS"),
            file.upload_ttl_hours,
            24,
            1,
            24 * 365,
        )?;
        let proof_max_distance_m = number(
            "ANJU_PROOF_MAX_DISTANCE_M",
            env("ANJU_PROOF_MAX_DISTANCE_M"),
            file.proof_max_distance_m,
            200,
            10,
            50_000,
        )?;
        let upload_bytes_per_ip_day = match env("ANJU_UPLOAD_BYTES_PER_IP_DAY") {
            Some(v) => v.trim().parse::<u64>().map_err(|_| {
                err(
                    "ANJU_UPLOAD_BYTES_PER_IP_DAY",
                    format!("{v:?} is not a whole number of bytes"),
                )
            })?,
            None => file.upload_bytes_per_ip_day.unwrap_or(200_000_000),
        };

        let bulletin_min_sample = number(
            "ANJU_BULLETIN_MIN_SAMPLE",
            env("ANJU_BULLETIN_MIN_SAMPLE"),
            file.bulletin_min_sample,
            5,
            1,
            100_000,
        )?;
        let bulletin_criticise_below = number(
            "ANJU_BULLETIN_CRITICISE_BELOW",
            env("ANJU_BULLETIN_CRITICISE_BELOW"),
            file.bulletin_criticise_below,
            60,
            0,
            100,
        )?;
        let bulletin_commend_at = number(
            "ANJU_BULLETIN_COMMEND_AT",
            env("ANJU_BULLETIN_COMMEND_AT"),
            file.bulletin_commend_at,
            95,
            1,
            100,
        )?;
        if bulletin_commend_at <= bulletin_criticise_below {
            return Err(err(
                "ANJU_BULLETIN_COMMEND_AT",
                format!(
                    "{bulletin_commend_at} must be above ANJU_BULLETIN_CRITICISE_BELOW ({bulletin_criticise_below})"
                ),
            ));
        }

        let trusted_proxies = TrustedProxies::parse(
            &pick("ANJU_TRUSTED_PROXIES", file.trusted_proxies).unwrap_or_default(),
        )
        .map_err(|e| err("ANJU_TRUSTED_PROXIES", e))?;
        let track_per_minute = number(
            "ANJU_TRACK_PER_MINUTE",
            env("ANJU_TRACK_PER_MINUTE"),
            file.track_per_minute,
            60,
            1,
            1_000_000,
        )?;
        let hash_queue = number(
            "ANJU_HASH_QUEUE",
            env("ANJU_HASH_QUEUE"),
            file.hash_queue,
            32,
            0,
            100_000,
        )?;
        let intake_batch = number(
            "ANJU_INTAKE_BATCH",
            env("ANJU_INTAKE_BATCH"),
            file.intake_batch,
            0,
            0,
            10_000,
        )?;
        let webhook_allow = WebhookAllowList::parse(
            &pick("ANJU_WEBHOOK_ALLOW", file.webhook_allow).unwrap_or_default(),
        )
        .map_err(|e| err("ANJU_WEBHOOK_ALLOW", e))?;

        Ok(Config {
            addr,
            data_dir,
            database_url,
            timezone,
            timezone_name: timezone_name.trim().to_string(),
            public_url,
            sample,
            sample_programme,
            jwt_secret,
            admin_password,
            log_format,
            intake_per_minute,
            db_pool_size,
            workers,
            background_jobs,
            reminder_percent,
            auto_close_days,
            order_reminder_days,
            trusted_proxies,
            track_per_minute,
            hash_queue,
            intake_batch,
            webhook_allow,
            upload_ttl_hours,
            proof_max_distance_m,
            upload_bytes_per_ip_day,
            bulletin_min_sample,
            bulletin_criticise_below,
            bulletin_commend_at,
        })
    }

    /// A configuration for tests and tools: SQLite in `data_dir`, port 0, no sample city.
    pub fn for_data_dir(data_dir: &Path) -> Config {
        let mut config = Config::from_lookup(|_| None).expect("defaults are valid");
        config.addr = "127.0.0.1:0".parse().expect("literal address");
        config.data_dir = data_dir.to_path_buf();
        config.database_url = format!("sqlite://{}", data_dir.join("anju.db").display());
        config.sample = SampleMode::None;
        config.sample_programme = false;
        config.workers = 2;
        config
    }

    /// [`Config::reminder_percent`] as a share of the clock (0.8 for 80 %).
    pub fn reminder_share(&self) -> f64 {
        f64::from(self.reminder_percent) / 100.0
    }

    /// Whether the database is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.database_url.starts_with("postgres")
    }
}

fn number(
    var: &str,
    from_env: Option<String>,
    from_file: Option<u32>,
    default: u32,
    min: u32,
    max: u32,
) -> Result<u32, ConfigError> {
    let value = match from_env.filter(|v| !v.trim().is_empty()) {
        Some(text) => text
            .trim()
            .parse::<u32>()
            .map_err(|_| err(var, format!("{text:?} is not a whole number")))?,
        None => from_file.unwrap_or(default),
    };
    if value < min || value > max {
        return Err(err(var, format!("{value} is outside {min}..={max}")));
    }
    Ok(value)
}

fn check_database_url(url: &str) -> Result<String, ConfigError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(url.to_string());
    }
    if url.starts_with("sqlite://") || url.starts_with("file:") || !url.contains("://") {
        if url.is_empty() {
            return Err(err("DATABASE_URL", "is empty"));
        }
        return Ok(url.to_string());
    }
    Err(err(
        "DATABASE_URL",
        format!(
            "{} is neither a sqlite:// path nor a postgres:// URL",
            redact_url(url)
        ),
    ))
}

/// The URL with any password replaced, for logs and messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_are_sqlite_in_data_dir_on_localhost() {
        let c = with(&[]).unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://./data/anju.db");
        assert_eq!(c.timezone_name, "Asia/Shanghai");
        assert_eq!(c.sample, SampleMode::City);
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        for (var, value) in [
            ("ANJU_ADDR", "localhost"),
            ("ANJU_TIMEZONE", "Mars/Olympus"),
            ("ANJU_SAMPLE", "town"),
            ("DATABASE_URL", "mysql://x"),
            ("ANJU_PUBLIC_URL", "ftp://x"),
            ("ANJU_JWT_SECRET", "short"),
            ("ANJU_INTAKE_PER_MINUTE", "many"),
            ("ANJU_DB_POOL", "0"),
            ("ANJU_LOG_FORMAT", "xml"),
            ("ANJU_WORKERS_ENABLED", "maybe"),
            ("ANJU_REMINDER_PERCENT", "100"),
            ("ANJU_AUTO_CLOSE_DAYS", "0"),
            ("ANJU_TRUSTED_PROXIES", "10.0.0.0/33"),
            ("ANJU_TRUSTED_PROXIES", "proxy.local"),
            ("ANJU_TRACK_PER_MINUTE", "0"),
            ("ANJU_HASH_QUEUE", "-1"),
            ("ANJU_WEBHOOK_ALLOW", "10.0.0.0/8,bad_host!"),
            ("ANJU_UPLOAD_TTL_HOURS", "0"),
            ("ANJU_UPLOAD_BYTES_PER_IP_DAY", "lots"),
            ("ANJU_BULLETIN_MIN_SAMPLE", "0"),
            ("ANJU_BULLETIN_CRITICISE_BELOW", "101"),
            ("ANJU_BULLETIN_COMMEND_AT", "50"),
        ] {
            let e = with(&[(var, value)]).unwrap_err();
            assert_eq!(e.variable, var, "{e}");
            assert!(e.to_string().starts_with(var));
        }
    }

    #[test]
    fn proxies_and_webhook_allow_lists_parse() {
        let c = with(&[
            ("ANJU_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1"),
            ("ANJU_WEBHOOK_ALLOW", "127.0.0.1/32,Hooks.Intranet"),
        ])
        .unwrap();
        assert!(c.trusted_proxies.contains("10.9.8.7".parse().unwrap()));
        assert!(!c.trusted_proxies.contains("192.168.1.2".parse().unwrap()));
        let allow = &c.webhook_allow;
        assert!(allow.permits("x", "127.0.0.1".parse().unwrap()));
        assert!(allow.permits("hooks.intranet", "10.1.1.1".parse().unwrap()));
        assert!(!allow.permits("x", "10.1.1.1".parse().unwrap()));
        assert!(with(&[]).unwrap().trusted_proxies.is_empty());
    }

    #[test]
    fn secrets_are_not_echoed() {
        let e = with(&[("ANJU_JWT_SECRET", "hunter2")]).unwrap_err();
        assert!(!e.to_string().contains("hunter2"));
        let c = with(&[("ANJU_JWT_SECRET", &"s".repeat(40))]).unwrap();
        assert!(!format!("{c:?}").contains(&"s".repeat(40)));
        assert_eq!(
            redact_url("postgres://anju:pw@db:5432/anju"),
            "postgres://anju:***@db:5432/anju"
        );
    }
}
