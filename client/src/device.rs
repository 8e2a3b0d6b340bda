//! [`Device`]: one field device's state directory, its offline editing API and its session.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anju_shared::protocol::{Op, SetDelta};
use anju_shared::records::{FieldKind, RecordSchema, schema_for};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::options::SyncOptions;
use crate::store::{PulledRecord, RecordView, STORE_FILE, Store, StoredConflict, StoredRejection};
use crate::transport::{LoginRequest, Transport, TransportError, UserInfo};

/// The largest photo the server stores (10 MB).
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;

/// The photos folder inside a device directory.
pub const PHOTOS_DIR: &str = "photos";

/// One field device: its own directory (store file and photos) and, when online, a transport
/// to the server. Many `Device`s can live in one process, each with its own directory.
///
/// Every editing call validates against the record schema, then queues exactly one mutation in
/// one local transaction; it never needs the network.
pub struct Device {
    pub(crate) dir: PathBuf,
    pub(crate) store: Store,
    pub(crate) transport: Option<Box<dyn Transport>>,
    pub(crate) options: SyncOptions,
}

/// What `status` shows: how much is waiting and what happened last.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Status {
    /// The device directory.
    pub dir: PathBuf,
    /// The server this device syncs with.
    pub server_url: Option<String>,
    /// Who logged in on it.
    pub username: Option<String>,
    /// Issued at registration; `None` until the first login.
    pub device_id: Option<Uuid>,
    /// Mutations waiting to be sent.
    pub pending: u64,
    /// When the last complete sync ended (RFC 3339).
    pub last_sync_at: Option<String>,
    /// Conflicts the server reported.
    pub conflicts: u64,
    /// Mutations the server refused.
    pub rejected: u64,
    /// Live records pulled from the server.
    pub records: u64,
}

impl Device {
    /// Opens the device in `dir`, creating the directory and the store on first use. A store
    /// that is damaged or not ours is [`Error::CorruptStore`] naming the file, and is left as
    /// is. The device starts offline; give it a transport with [`Device::connect`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Device> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(dir.join(PHOTOS_DIR)).map_err(|source| Error::Io {
            action: "cannot create the device directory",
            path: dir.clone(),
            source,
        })?;
        let store = Store::open(&dir.join(STORE_FILE))?;
        Ok(Device {
            dir,
            store,
            transport: None,
            options: SyncOptions::default(),
        })
    }

    /// Gives the device a way to reach the server (HTTP, or a test transport).
    pub fn connect(&mut self, transport: impl Transport + 'static) {
        self.transport = Some(Box::new(transport));
    }

    /// Replaces the sync options (batch size, page size, retry policy).
    pub fn set_options(&mut self, options: SyncOptions) {
        self.options = options;
    }

    /// The device directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The server URL remembered from the last `login`/`remember_server`.
    pub fn server_url(&mut self) -> Result<Option<String>> {
        Ok(self.store.state()?.server_url)
    }

    /// Remembers the server URL so later commands need not repeat it.
    pub fn remember_server(&mut self, url: &str) -> Result<()> {
        self.store.set_server_url(url)
    }

    /// The id the server issued to this device, once registered.
    pub fn device_id(&mut self) -> Result<Option<Uuid>> {
        self.store.device_id()
    }

    pub(crate) fn transport(&self) -> Result<&dyn Transport> {
        self.transport.as_deref().ok_or(Error::NoServer)
    }

    /// Logs in, registers the device on first login, and stores a device-bound token pair. The
    /// password is used for the calls and never stored. Logging in again keeps the device id,
    /// the outbox and everything pulled.
    pub fn login(&mut self, username: &str, password: &str, device_name: &str) -> Result<UserInfo> {
        let login = |device_id: Option<Uuid>| LoginRequest {
            username: username.to_owned(),
            password: password.to_owned(),
            device_id,
        };
        let refused = |e: TransportError| match e.http_status() {
            Some(400 | 401 | 403) if e.code() != Some("device_revoked") => {
                Error::LoginRefused(e.to_string())
            }
            _ if e.code() == Some("device_revoked") => Error::DeviceRevoked,
            _ => Error::Server(e),
        };
        let existing = self.store.device_id()?;
        let t = self.transport.as_deref().ok_or(Error::NoServer)?;
        let retry = self.options.retry.clone();
        let session = retry.run(|| t.login(&login(existing))).map_err(refused)?;
        if existing.is_some() {
            self.store.save_session(&session, None, Some(username))?;
            return Ok(session.user);
        }
        // First login: register with the unbound session, then log in again bound to the
        // device, so that revoking the device kills its refresh token.
        self.store.save_session(&session, None, Some(username))?;
        let reg = retry
            .run(|| t.register_device(&session.access_token, device_name, std::env::consts::OS))
            .map_err(refused)?;
        self.store
            .save_session(&session, Some(reg.device_id), None)?;
        let bound = retry
            .run(|| t.login(&login(Some(reg.device_id))))
            .map_err(refused)?;
        self.store.save_session(&bound, None, None)?;
        Ok(bound.user)
    }

    /// Queues the creation of a new record with a UUIDv7 id made here; returns the id.
    /// Required fields must be present; set fields take an array (the initial elements) or a
    /// `{"add": [...]}` delta.
    pub fn create(&mut self, record_type: &str, fields: BTreeMap<String, Value>) -> Result<Uuid> {
        let schema = writable(record_type)?;
        let fields = normalize(schema, fields, None)?;
        if let Some(missing) = schema
            .fields
            .iter()
            .find(|f| f.required && !fields.contains_key(f.name))
        {
            return Err(invalid(
                schema,
                missing.name,
                "field_required",
                format!("{} is required to create a {}", missing.name, schema.name),
                format!("新建{}必须填写{}", schema.label_zh, missing.label_zh),
            ));
        }
        let id = Uuid::now_v7();
        self.store
            .enqueue(schema.name, id, Op::Upsert, None, &fields)?;
        Ok(id)
    }

    /// Queues a change of some fields of a visible record. `null` clears an optional field; a
    /// set field takes an array (the wanted elements: the difference is sent) or a delta.
    pub fn edit(&mut self, id: Uuid, fields: BTreeMap<String, Value>) -> Result<u64> {
        let current = self.show(id)?.ok_or(Error::NotFound(id))?;
        let schema = writable(&current.record_type)?;
        if schema.create_only {
            return Err(Error::InvalidChange(format!(
                "{} records can only be created, not edited",
                schema.name
            )));
        }
        if fields.is_empty() {
            return Err(Error::InvalidChange(
                "nothing to change: give at least one field".into(),
            ));
        }
        let fields = normalize(schema, fields, Some(&current.fields))?;
        let base = self.store.server_version(id)?;
        self.store
            .enqueue(schema.name, id, Op::Upsert, base, &fields)
    }

    /// Queues the deletion of a visible record.
    pub fn delete(&mut self, id: Uuid) -> Result<u64> {
        let current = self.show(id)?.ok_or(Error::NotFound(id))?;
        let schema = writable(&current.record_type)?;
        if schema.create_only {
            return Err(Error::InvalidChange(format!(
                "{} records can only be created, not deleted",
                schema.name
            )));
        }
        let base = self.store.server_version(id)?;
        self.store
            .enqueue(schema.name, id, Op::Delete, base, &BTreeMap::new())
    }

    /// Copies the photo at `path` into the device directory, hashes it (SHA-256) and queues
    /// adding the hash to the record's photo set `field`. The copy is kept at least until the
    /// server has it; returns the hash.
    pub fn attach(&mut self, id: Uuid, field: &str, path: impl AsRef<Path>) -> Result<String> {
        let path = path.as_ref();
        let current = self.show(id)?.ok_or(Error::NotFound(id))?;
        let schema = writable(&current.record_type)?;
        match schema.field(field).map(|f| f.kind) {
            Some(FieldKind::StringSet { sha256: true, .. }) => {}
            _ => {
                let photo_fields: Vec<&str> = schema
                    .fields
                    .iter()
                    .filter(|f| matches!(f.kind, FieldKind::StringSet { sha256: true, .. }))
                    .map(|f| f.name)
                    .collect();
                return Err(Error::InvalidChange(format!(
                    "{}.{field} is not a photo field; photo fields: {}",
                    schema.name,
                    photo_fields.join(", ")
                )));
            }
        }
        if schema.create_only {
            return Err(Error::InvalidChange(format!(
                "{} records can only be created; attach photos when creating them",
                schema.name
            )));
        }
        let (sha256, size, dest) = self.import_photo(path)?;
        self.store.add_photo(&sha256, &dest, size)?;
        let base = self.store.server_version(id)?;
        let delta = SetDelta {
            add: vec![sha256.clone()],
            remove: vec![],
        };
        let fields = BTreeMap::from([(
            field.to_owned(),
            serde_json::to_value(delta).map_err(|e| Error::InvalidChange(e.to_string()))?,
        )]);
        self.store
            .enqueue(schema.name, id, Op::Upsert, base, &fields)?;
        Ok(sha256)
    }

    /// Copies a photo into the device directory and queues it for upload, without touching any
    /// record; returns its SHA-256 to put in a photo field of a record being created (e.g. the
    /// `photos` of a create-only ticket action). Same checks as [`Device::attach`].
    pub fn add_photo(&mut self, path: impl AsRef<Path>) -> Result<String> {
        let (sha256, size, dest) = self.import_photo(path.as_ref())?;
        self.store.add_photo(&sha256, &dest, size)?;
        Ok(sha256)
    }

    /// Copies a photo into `photos/<sha256>.<ext>` (written to a temporary name, then renamed,
    /// so a crash never leaves a half file under a hash name).
    fn import_photo(&self, path: &Path) -> Result<(String, u64, PathBuf)> {
        let io = |action: &'static str, p: &Path| {
            let p = p.to_path_buf();
            move |source| Error::Io {
                action,
                path: p,
                source,
            }
        };
        let mut file = fs::File::open(path).map_err(io("cannot read", path))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(io("cannot read", path))?;
        if crate::http::sniff_image_type(&bytes) == "application/octet-stream" {
            return Err(Error::InvalidChange(format!(
                "{} is not a JPEG, PNG or WebP photo",
                path.display()
            )));
        }
        if bytes.len() > MAX_PHOTO_BYTES {
            return Err(Error::InvalidChange(format!(
                "{} is {:.1} MB; photos may be at most 10 MB",
                path.display(),
                bytes.len() as f64 / 1e6
            )));
        }
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .filter(|e| e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric()))
            .map(|e| format!(".{}", e.to_ascii_lowercase()))
            .unwrap_or_default();
        let dest = self.dir.join(PHOTOS_DIR).join(format!("{sha256}{ext}"));
        let tmp = self.dir.join(PHOTOS_DIR).join(format!(".{sha256}.part"));
        fs::write(&tmp, &bytes).map_err(io("cannot copy into", &tmp))?;
        fs::rename(&tmp, &dest).map_err(io("cannot copy into", &dest))?;
        Ok((sha256, u64::try_from(bytes.len()).unwrap_or(u64::MAX), dest))
    }

    /// The visible records of one type (server state with this device's changes on top), in
    /// creation order.
    pub fn list(&mut self, record_type: &str) -> Result<Vec<RecordView>> {
        let schema = schema(record_type)?;
        self.store.view(Some(schema.name), None)
    }

    /// One visible record, or `None` if it is not on the device or deleted.
    pub fn show(&mut self, id: Uuid) -> Result<Option<RecordView>> {
        Ok(self.store.view(None, Some(id))?.into_iter().next())
    }

    /// Every visible record of every type, for comparing a device with the server.
    pub fn view_all(&mut self) -> Result<Vec<RecordView>> {
        self.store.view(None, None)
    }

    /// The pulled server state only (id, type, version, deleted, fields), without local changes.
    pub fn pulled(&mut self) -> Result<Vec<PulledRecord>> {
        self.store.pulled_records()
    }

    /// The mutations still waiting to be sent, in sequence order.
    pub fn pending(&mut self) -> Result<Vec<anju_shared::protocol::Mutation>> {
        self.store.outbox_head(usize::MAX)
    }

    /// Conflicts the server reported for this device's changes, oldest first.
    pub fn conflicts(&mut self) -> Result<Vec<StoredConflict>> {
        self.store.conflicts()
    }

    /// Changes the server refused, with reasons, oldest first.
    pub fn rejected(&mut self) -> Result<Vec<StoredRejection>> {
        self.store.rejections()
    }

    /// Pending count, last sync, conflicts, rejections.
    pub fn status(&mut self) -> Result<Status> {
        let state = self.store.state()?;
        let pending = self.store.outbox_len()?;
        let (conflicts, rejected, records) = self.store.counts()?;
        Ok(Status {
            dir: self.dir.clone(),
            server_url: state.server_url,
            username: state.username,
            device_id: self.store.device_id()?,
            pending,
            last_sync_at: state.last_sync_at,
            conflicts,
            rejected,
            records,
        })
    }
}

fn schema(record_type: &str) -> Result<&'static RecordSchema> {
    schema_for(record_type).ok_or_else(|| Error::UnknownRecordType(record_type.to_owned()))
}

/// The schema of a record type this device may write: a read-only type (a ticket's copy) is
/// refused here as the server would refuse it (`read_only_record_type`).
fn writable(record_type: &str) -> Result<&'static RecordSchema> {
    let schema = schema(record_type)?;
    if schema.read_only {
        return Err(Error::InvalidChange(format!(
            "read_only_record_type: {} records are written by the server only ({}由服务器维护)",
            schema.name, schema.label_zh
        )));
    }
    Ok(schema)
}

fn invalid(schema: &RecordSchema, field: &str, code: &str, en: String, zh: String) -> Error {
    Error::InvalidField {
        record_type: schema.name.to_owned(),
        field: field.to_owned(),
        code: code.to_owned(),
        message_en: en,
        message_zh: zh,
    }
}

/// Turns user-given values into wire values and validates them: a set field given as an array
/// becomes a delta against `current` (or all adds on create).
fn normalize(
    schema: &RecordSchema,
    fields: BTreeMap<String, Value>,
    current: Option<&BTreeMap<String, Value>>,
) -> Result<BTreeMap<String, Value>> {
    let mut out = BTreeMap::new();
    for (name, value) in fields {
        let Some(spec) = schema.field(&name) else {
            let known: Vec<&str> = schema.fields.iter().map(|f| f.name).collect();
            return Err(invalid(
                schema,
                &name,
                "unknown_field",
                format!(
                    "{} has no field {name}; fields: {}",
                    schema.name,
                    known.join(", ")
                ),
                format!("{}没有字段 {name}", schema.label_zh),
            ));
        };
        let value = match (&spec.kind, value) {
            (FieldKind::StringSet { .. }, Value::Array(items)) => {
                let wanted: BTreeSet<String> = items
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect();
                let had: BTreeSet<String> = current
                    .and_then(|c| c.get(&name))
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let delta = SetDelta {
                    add: wanted.difference(&had).cloned().collect(),
                    remove: had.difference(&wanted).cloned().collect(),
                };
                serde_json::to_value(delta).map_err(|e| Error::InvalidChange(e.to_string()))?
            }
            (_, v) => v,
        };
        spec.validate(&value).map_err(|e| {
            invalid(
                schema,
                &name,
                e.code.as_str(),
                e.message_en.clone(),
                e.message_zh.clone(),
            )
        })?;
        out.insert(name, value);
    }
    Ok(out)
}
