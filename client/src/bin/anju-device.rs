//! `anju-device`: the field-device command over the `anju-client` library. Each device's state
//! lives in its own directory (`--dir`); everything but `login` and `sync` works offline.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anju_client::{Device, HttpTransport, RecordView, SyncProgress};
use anju_shared::records::{FieldKind, RecordSchema, schema_for};
use anyhow::{Context, Result, anyhow, bail};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use uuid::Uuid;

/// Offline field recording for the housing-renovation programme (离线采集): inspections,
/// hazards, rectification orders, project progress and ticket actions, synced when online.
#[derive(Debug, Parser)]
#[command(name = "anju-device", version)]
struct Cli {
    /// The device's state directory (one directory per device).
    #[arg(
        long,
        global = true,
        default_value = "./device",
        env = "ANJU_DEVICE_DIR"
    )]
    dir: PathBuf,
    /// The server, e.g. https://anju.example.gov.cn (remembered after the first login).
    #[arg(long, global = true, env = "ANJU_SERVER")]
    server: Option<String>,
    /// Print JSON for scripts instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Log in (password from ANJU_PASSWORD or standard input) and register this device.
    Login {
        /// Login name.
        #[arg(long)]
        username: String,
        /// Name this device is registered under.
        #[arg(long, default_value = "anju-device")]
        name: String,
    },
    /// Pending changes, last sync, conflicts, rejections.
    Status,
    /// Upload photos, send pending changes, fetch the latest.
    Sync,
    /// List the records of one type (project, building, inspection, hazard, ticket_action).
    List {
        /// Record type.
        record_type: String,
    },
    /// Show one record.
    Show {
        /// Record id.
        id: Uuid,
    },
    /// Create a record: --set field=value, repeated.
    Create {
        /// Record type.
        record_type: String,
        /// field=value; the value is read as JSON when it parses, else as text.
        #[arg(long = "set", value_name = "FIELD=VALUE", required = true)]
        set: Vec<String>,
        /// A photo file to add to the `photos` field (repeatable); the way to give photos to
        /// create-only records such as ticket actions.
        #[arg(long = "photo", value_name = "FILE")]
        photo: Vec<PathBuf>,
    },
    /// Change fields of a record: --set field=value, repeated (`field=null` clears).
    Edit {
        /// Record id.
        id: Uuid,
        /// field=value; the value is read as JSON when it parses, else as text.
        #[arg(long = "set", value_name = "FIELD=VALUE", required = true)]
        set: Vec<String>,
    },
    /// Delete a record.
    Delete {
        /// Record id.
        id: Uuid,
    },
    /// Attach a photo file to a record's photo field.
    Attach {
        /// Record id.
        id: Uuid,
        /// The photo (JPEG, PNG or WebP).
        file: PathBuf,
        /// The photo field.
        #[arg(long, default_value = "photos")]
        field: String,
    },
    /// Conflicts the server reported: both values, and which one is current.
    Conflicts,
    /// Changes the server refused, with the reason.
    Rejected,
    /// The unit's tickets on this device (pulled, works offline), by resolution deadline:
    /// number, status, category, community, deadline, the outcome of the last device action.
    Tickets,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let mut device = Device::open(&cli.dir)?;
    let server = match &cli.server {
        Some(s) => Some(s.clone()),
        None => device.server_url()?,
    };
    if let Some(url) = &server {
        device.connect(HttpTransport::new(url)?);
    }
    let json_out = cli.json;
    match cli.command {
        Command::Login { username, name } => {
            let url = server.ok_or_else(|| anyhow!("pass --server URL to log in"))?;
            let password = read_password()?;
            device.remember_server(&url)?;
            let user = device.login(&username, &password, &name)?;
            let id = device.device_id()?;
            if json_out {
                print_json(&json!({"user": user, "device_id": id}))?;
            } else {
                println!(
                    "logged in as {} ({}); device {}",
                    user.username,
                    user.display_name,
                    id.map(|i| i.to_string()).unwrap_or_default()
                );
            }
        }
        Command::Status => {
            let s = device.status()?;
            if json_out {
                print_json(&s)?;
            } else {
                let opt = |o: Option<String>| o.unwrap_or_else(|| "-".into());
                println!("directory    {}", s.dir.display());
                println!("server       {}", opt(s.server_url));
                println!("user         {}", opt(s.username));
                println!("device id    {}", opt(s.device_id.map(|d| d.to_string())));
                println!("pending      {}", s.pending);
                println!("last sync    {}", opt(s.last_sync_at));
                println!("records      {}", s.records);
                println!("conflicts    {}", s.conflicts);
                println!("rejected     {}", s.rejected);
            }
        }
        Command::Sync => {
            let bar = (!json_out && std::io::stdout().is_terminal()).then(progress_bar);
            let mut on_progress = |p: &SyncProgress| {
                if let Some(b) = &bar {
                    show_progress(b, p);
                }
            };
            let result = device.sync_with_progress(&mut on_progress);
            if let Some(b) = &bar {
                b.finish_and_clear();
            }
            let r = result?;
            if json_out {
                print_json(&r)?;
            } else {
                println!(
                    "sent {} change(s): {} applied, {} merged, {} already applied, {} conflict(s), {} rejected; {} photo(s) uploaded; {} change(s) received{}",
                    r.pushed,
                    r.applied,
                    r.merged,
                    r.already_applied,
                    r.conflicted,
                    r.rejected,
                    r.photos_uploaded,
                    r.pulled,
                    if r.reset { " (full re-download)" } else { "" }
                );
                if r.conflicted > 0 {
                    println!("see `anju-device conflicts` for the values that lost");
                }
                for f in &r.refusals {
                    println!(
                        "refused #{} {} {}: {} / {} ({})",
                        f.seq, f.record_type, f.record_id, f.message_zh, f.message_en, f.code
                    );
                }
                if r.rejected > 0 {
                    println!("`anju-device rejected` lists every refused change");
                }
            }
        }
        Command::List { record_type } => {
            let rows = device.list(&record_type)?;
            if json_out {
                print_json(&rows)?;
            } else {
                let schema = schema_for(&record_type)
                    .ok_or_else(|| anyhow!("unknown record type {record_type}"))?;
                print_list(schema, &rows);
            }
        }
        Command::Show { id } => {
            let rec = device
                .show(id)?
                .ok_or_else(|| anyhow!("no record {id} on this device"))?;
            if json_out {
                print_json(&rec)?;
            } else {
                print_record(&rec);
            }
        }
        Command::Create {
            record_type,
            set,
            photo,
        } => {
            let schema = schema_for(&record_type).ok_or_else(|| {
                anyhow!("unknown record type {record_type:?}; known: project, building, inspection, hazard, ticket_action")
            })?;
            let mut fields = parse_sets(schema, &set)?;
            resolve_refs(&mut device, schema, &mut fields)?;
            if !photo.is_empty() {
                let mut hashes: Vec<Value> = match fields.remove("photos") {
                    Some(Value::Array(a)) => a,
                    Some(other) => bail!("--set photos must be a JSON array, not {other}"),
                    None => Vec::new(),
                };
                for p in &photo {
                    hashes.push(Value::String(device.add_photo(p)?));
                }
                fields.insert("photos".into(), Value::Array(hashes));
            }
            let id = device.create(&record_type, fields)?;
            if json_out {
                print_json(&json!({"id": id}))?;
            } else {
                println!("{id}");
            }
        }
        Command::Edit { id, set } => {
            let rec = device
                .show(id)?
                .ok_or_else(|| anyhow!("no record {id} on this device"))?;
            let schema = schema_for(&rec.record_type)
                .ok_or_else(|| anyhow!("unknown record type {}", rec.record_type))?;
            let mut fields = parse_sets(schema, &set)?;
            resolve_refs(&mut device, schema, &mut fields)?;
            let seq = device.edit(id, fields)?;
            done(json_out, json!({"id": id, "seq": seq}), "change queued")?;
        }
        Command::Delete { id } => {
            let seq = device.delete(id)?;
            done(json_out, json!({"id": id, "seq": seq}), "deletion queued")?;
        }
        Command::Attach { id, file, field } => {
            let sha256 = device.attach(id, &field, &file)?;
            done(
                json_out,
                json!({"id": id, "sha256": sha256}),
                &format!("photo {sha256} attached"),
            )?;
        }
        Command::Conflicts => {
            let cs = device.conflicts()?;
            if json_out {
                print_json(&cs)?;
            } else if cs.is_empty() {
                println!("no conflicts");
            } else {
                let rows: Vec<Vec<String>> = cs
                    .iter()
                    .map(|c| {
                        vec![
                            c.reported_at.chars().take(19).collect(),
                            format!("{} {}", c.record_type, c.record_id),
                            c.field.clone(),
                            cell(&c.device_value),
                            cell(&c.server_value),
                            if c.winner == "device" {
                                "yours".into()
                            } else {
                                "server's".into()
                            },
                        ]
                    })
                    .collect();
                print_table(
                    &[
                        "reported",
                        "record",
                        "field",
                        "your value",
                        "server value",
                        "kept",
                    ],
                    &rows,
                );
            }
        }
        Command::Tickets => {
            let mut rows = device.list("ticket")?;
            let due = |r: &anju_client::RecordView| {
                r.fields
                    .get("resolution_due")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            rows.sort_by_key(due);
            if json_out {
                print_json(&rows)?;
            } else if rows.is_empty() {
                println!("no tickets on this device (run `anju-device sync`)");
            } else {
                let text = |r: &anju_client::RecordView, k: &str| {
                    r.fields.get(k).map(cell).unwrap_or_default()
                };
                let table: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| {
                        let outcome = r.fields.get("device_outcome").map_or(String::new(), |o| {
                            let what = o["action"].as_str().unwrap_or("");
                            match o["code"].as_str() {
                                Some(code) => format!("{what}: refused ({code})"),
                                None => format!("{what}: applied"),
                            }
                        });
                        vec![
                            text(r, "ticket_no"),
                            text(r, "status"),
                            text(r, "category"),
                            text(r, "community"),
                            due(r).chars().take(16).collect(),
                            text(r, "resident_phone"),
                            outcome,
                            r.id.to_string(),
                        ]
                    })
                    .collect();
                print_table(
                    &[
                        "no.",
                        "status",
                        "category",
                        "community",
                        "due",
                        "phone",
                        "last action",
                        "id",
                    ],
                    &table,
                );
            }
        }
        Command::Rejected => {
            let rs = device.rejected()?;
            if json_out {
                print_json(&rs)?;
            } else if rs.is_empty() {
                println!("no rejected changes");
            } else {
                let rows: Vec<Vec<String>> = rs
                    .iter()
                    .map(|r| {
                        vec![
                            r.seq.to_string(),
                            format!("{} {}", r.record_type, r.record_id),
                            r.op.clone(),
                            r.code.clone(),
                            format!("{} / {}", r.message_zh, r.message_en),
                        ]
                    })
                    .collect();
                print_table(&["#", "record", "op", "code", "reason"], &rows);
            }
        }
    }
    Ok(())
}

fn done(json_out: bool, value: Value, text: &str) -> Result<()> {
    if json_out {
        print_json(&value)
    } else {
        println!("{text}");
        Ok(())
    }
}

fn read_password() -> Result<String> {
    if let Ok(p) = std::env::var("ANJU_PASSWORD") {
        return Ok(p);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password: ");
        std::io::stderr().flush().ok();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("no password given: set ANJU_PASSWORD or pipe it on standard input");
    }
    Ok(password)
}

/// `field=value` pairs into field values. The value is JSON when it parses as JSON, else text;
/// for a field that holds text (text, date, timestamp, id, choice) an unquoted value is always
/// text, so `order_no=123` stays the string "123".
fn parse_sets(schema: &RecordSchema, sets: &[String]) -> Result<BTreeMap<String, Value>> {
    let mut out = BTreeMap::new();
    for s in sets {
        let (name, raw) = s
            .split_once('=')
            .ok_or_else(|| anyhow!("--set {s:?}: expected FIELD=VALUE"))?;
        let name = name.trim();
        if name.is_empty() {
            bail!("--set {s:?}: the field name is empty");
        }
        let textual = schema.field(name).is_some_and(|f| {
            matches!(
                f.kind,
                FieldKind::Text { .. }
                    | FieldKind::Date
                    | FieldKind::Timestamp
                    | FieldKind::Uuid
                    | FieldKind::Enum(_)
            )
        });
        let parsed: Option<Value> = serde_json::from_str(raw).ok();
        let value = match parsed {
            Some(Value::Null) => Value::Null,
            Some(Value::String(text)) => Value::String(text),
            Some(_) | None if textual => Value::String(raw.to_owned()),
            Some(v) => v,
            None => Value::String(raw.to_owned()),
        };
        if out.insert(name.to_owned(), value).is_some() {
            bail!("--set {name}=… given twice");
        }
    }
    Ok(out)
}

fn print_json<T: serde::Serialize>(v: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)?;
    Ok(())
}

/// The record type a link field names, for links given by name instead of id.
fn linked_type(field: &str) -> Option<&'static str> {
    Some(match field {
        "building_id" => "building",
        "project_id" => "project",
        "inspection_id" => "inspection",
        "ticket_id" => "ticket",
        _ => return None,
    })
}

/// Replaces areas, units and record links given by code or name (`--set area_id=hexi-jianshe-1`,
/// `--set unit_id=河西区建设街道办事处`, `--set building_id=纺织厂3号楼`) with their ids. Areas and
/// units are looked up on the server (`/api/v1/areas`, `/api/v1/units`); records among those on
/// this device (by name, ticket number or address), so links work offline. A name that matches
/// nothing or more than one thing is an error that names the candidates.
fn resolve_refs(
    device: &mut Device,
    schema: &RecordSchema,
    fields: &mut BTreeMap<String, Value>,
) -> Result<()> {
    for (name, value) in fields.iter_mut() {
        let Some(spec) = schema.field(name) else {
            continue;
        };
        let Value::String(given) = &*value else {
            continue;
        };
        if spec.kind != FieldKind::Uuid || Uuid::try_parse(given).is_ok() {
            continue;
        }
        let given = given.trim().to_owned();
        let found: Vec<(String, String)> = if let Some(kind) = match name.as_str() {
            "area_id" => Some("areas"),
            "unit_id" | "suggested_unit_id" => Some("units"),
            _ => None,
        } {
            let list = device.directory(kind).map_err(|e| {
                anyhow!("{name}={given:?} is not an id, and {kind} could not be looked up on the server ({e}); give the id, or connect and log in first")
            })?;
            list.iter()
                .filter(|o| {
                    ["code", "name_zh", "name_en"]
                        .iter()
                        .any(|k| o[*k].as_str() == Some(given.as_str()))
                })
                .filter_map(|o| {
                    Some((
                        o["id"].as_str()?.to_owned(),
                        o["code"].as_str().unwrap_or("").to_owned(),
                    ))
                })
                .collect()
        } else if let Some(kind) = linked_type(name) {
            device
                .list(kind)?
                .into_iter()
                .filter(|r| {
                    ["name", "ticket_no", "address"]
                        .iter()
                        .any(|k| r.fields.get(*k).and_then(Value::as_str) == Some(given.as_str()))
                })
                .map(|r| {
                    (
                        r.id.to_string(),
                        cell(r.fields.get("name").unwrap_or(&Value::Null)),
                    )
                })
                .collect()
        } else {
            continue;
        };
        match found.as_slice() {
            [(id, _)] => *value = Value::String(id.clone()),
            [] => bail!("{name}={given:?}: nothing has this id, code or name"),
            many => bail!(
                "{name}={given:?} names {} things; give the id: {}",
                many.len(),
                many.iter()
                    .map(|(id, label)| format!("{id} ({label})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    Ok(())
}

fn cell(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) if s.len() == 64 => s[..8].to_owned(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    };
    let s = s.replace(['\n', '\r', '\t'], " ");
    if s.chars().count() > 28 {
        format!("{}…", s.chars().take(27).collect::<String>())
    } else {
        s
    }
}

fn width(s: &str) -> usize {
    // CJK characters take two columns in a terminal.
    s.chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum()
}

fn print_table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| width(h)).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(width(c));
            }
        }
    }
    let line = |cells: Vec<String>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            s.push_str(c);
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(widths[i].saturating_sub(width(c)) + 2));
            }
        }
        println!("{}", s.trim_end());
    };
    line(headers.iter().map(|h| h.to_string()).collect());
    line(widths.iter().map(|w| "-".repeat(*w)).collect());
    for r in rows {
        line(r.clone());
    }
}

fn print_list(schema: &RecordSchema, rows: &[RecordView]) {
    let shown: Vec<&str> = schema
        .fields
        .iter()
        .filter(|f| !matches!(f.kind, FieldKind::Uuid | FieldKind::JsonObject { .. }))
        .take(4)
        .map(|f| f.name)
        .collect();
    let mut headers = vec!["id", "version", "pending"];
    headers.extend(&shown);
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut cells = vec![
                r.id.to_string(),
                r.server_version
                    .map_or_else(|| "new".into(), |v| v.to_string()),
                if r.pending > 0 {
                    r.pending.to_string()
                } else {
                    String::new()
                },
            ];
            cells.extend(
                shown
                    .iter()
                    .map(|f| r.fields.get(*f).map_or_else(String::new, cell)),
            );
            cells
        })
        .collect();
    print_table(&headers, &table);
    println!("{} {}", rows.len(), schema.label_zh);
}

fn print_record(r: &RecordView) {
    let schema = schema_for(&r.record_type);
    println!(
        "{} {} ({})",
        schema.map_or(r.record_type.as_str(), |s| s.label_zh),
        r.id,
        r.record_type
    );
    println!(
        "version {}, {} pending change(s)",
        r.server_version
            .map_or_else(|| "new (not synced yet)".into(), |v| v.to_string()),
        r.pending
    );
    let names: Vec<(&str, &str)> = schema.map_or_else(
        || r.fields.keys().map(|k| (k.as_str(), "")).collect(),
        |s| s.fields.iter().map(|f| (f.name, f.label_zh)).collect(),
    );
    for (name, label) in names {
        if let Some(v) = r.fields.get(name) {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            println!("  {name:<22} {label}  {text}");
        }
    }
}

fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:10} [{bar:30}] {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

fn show_progress(bar: &indicatif::ProgressBar, p: &SyncProgress) {
    match p {
        SyncProgress::Photos { done, total } => {
            bar.set_message("photos");
            bar.set_length(*total);
            bar.set_position(*done);
        }
        SyncProgress::Pushing { done, total } => {
            bar.set_message("sending");
            bar.set_length(*total);
            bar.set_position(*done);
        }
        SyncProgress::Pulling { received } => {
            bar.set_message("receiving");
            bar.set_length(*received);
            bar.set_position(*received);
        }
        SyncProgress::Resetting => {
            bar.set_message("reset");
            bar.set_position(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anju_shared::records::HAZARD;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(args).unwrap()
    }

    #[test]
    fn global_flags_and_defaults() {
        let c = parse(&["anju-device", "status"]);
        assert_eq!(c.dir, PathBuf::from("./device"));
        assert!(!c.json);
        let c = parse(&[
            "anju-device",
            "list",
            "hazard",
            "--dir",
            "/tmp/d1",
            "--json",
            "--server",
            "http://x",
        ]);
        assert_eq!(c.dir, PathBuf::from("/tmp/d1"));
        assert!(c.json);
        assert_eq!(c.server.as_deref(), Some("http://x"));
        assert!(matches!(c.command, Command::List { record_type } if record_type == "hazard"));
    }

    #[test]
    fn create_and_edit_take_repeated_sets() {
        let c = parse(&[
            "anju-device",
            "create",
            "hazard",
            "--set",
            "severity=high",
            "--set",
            "description=墙裂",
        ]);
        assert!(
            matches!(c.command, Command::Create { set, photo, .. } if set.len() == 2 && photo.is_empty())
        );
        let c = parse(&[
            "anju-device",
            "create",
            "ticket_action",
            "--set",
            "action=resolve",
            "--photo",
            "a.jpg",
            "--photo",
            "b.png",
        ]);
        assert!(matches!(c.command, Command::Create { photo, .. } if photo.len() == 2));
        assert!(Cli::try_parse_from(["anju-device", "create", "hazard"]).is_err());
        assert!(
            Cli::try_parse_from(["anju-device", "edit", "not-a-uuid", "--set", "a=b"]).is_err()
        );
    }

    #[test]
    fn login_never_takes_a_password_argument() {
        assert!(
            Cli::try_parse_from([
                "anju-device",
                "login",
                "--username",
                "wang",
                "--password",
                "x"
            ])
            .is_err()
        );
        let c = parse(&["anju-device", "login", "--username", "wang"]);
        assert!(matches!(c.command, Command::Login { username, .. } if username == "wang"));
    }

    #[test]
    fn attach_defaults_to_the_photos_field() {
        let id = Uuid::now_v7().to_string();
        let c = parse(&["anju-device", "attach", &id, "a.jpg"]);
        assert!(matches!(c.command, Command::Attach { field, .. } if field == "photos"));
    }

    #[test]
    fn set_values_are_json_when_they_parse_and_text_for_text_fields() {
        let f = parse_sets(
            &HAZARD,
            &[
                "order_no=123".into(),
                "photos=[\"ab\"]".into(),
                "location=\"quoted\"".into(),
                "requirements=null".into(),
                "description=a=b".into(),
                "severity=high".into(),
            ],
        )
        .unwrap();
        assert_eq!(f["order_no"], json!("123"));
        assert_eq!(f["photos"], json!(["ab"]));
        assert_eq!(f["location"], json!("quoted"));
        assert_eq!(f["requirements"], Value::Null);
        assert_eq!(f["description"], json!("a=b"));
        assert_eq!(f["severity"], json!("high"));
        let f = parse_sets(&anju_shared::records::BUILDING, &["floors=6".into()]).unwrap();
        assert_eq!(f["floors"], json!(6));
        assert!(parse_sets(&HAZARD, &["novalue".into()]).is_err());
        assert!(parse_sets(&HAZARD, &["a=1".into(), "a=2".into()]).is_err());
    }
}
