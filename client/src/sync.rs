//! The sync loop: upload photos, push the outbox in batches, pull until up to date.
//!
//! Crash safety comes from the order of local transactions, not from luck: an outbox entry
//! leaves only in the transaction that stores its result; a pull page and the cursor after it
//! commit together. So a crash or a cut connection anywhere leaves a state from which the next
//! sync carries on: unanswered mutations are pushed again (the server answers `AlreadyApplied`
//! for those it had), and a page is pulled again at most once.

use std::collections::BTreeMap;
use std::fs;

use anju_shared::protocol::{
    MutationOutcome, PROTOCOL_VERSION, PullAnswer, PushRequest, PushResponse,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::device::Device;
use crate::error::{Error, Result};
use crate::options::MAX_BATCH;
use crate::transport::{Transport, TransportError};

/// Where a running sync is, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncProgress {
    /// Uploading photos: `done` of `total`.
    Photos {
        /// Uploaded so far.
        done: u64,
        /// To upload.
        total: u64,
    },
    /// Pushing the outbox: `done` of `total` mutations answered.
    Pushing {
        /// Answered so far.
        done: u64,
        /// In the outbox when the push began.
        total: u64,
    },
    /// Pulling: `received` changes applied so far.
    Pulling {
        /// Applied so far.
        received: u64,
    },
    /// The server asked for a reset: re-downloading everything.
    Resetting,
}

/// A change the server refused, with its reason in both languages.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Refusal {
    /// The mutation's sequence number.
    pub seq: u64,
    /// Record type.
    pub record_type: String,
    /// Record id.
    pub record_id: Uuid,
    /// Stable reason code.
    pub code: String,
    /// Reason in Chinese.
    pub message_zh: String,
    /// Reason in English.
    pub message_en: String,
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    /// Photos uploaded.
    pub photos_uploaded: u64,
    /// Mutations answered by the server.
    pub pushed: u64,
    /// ... applied as sent.
    pub applied: u64,
    /// ... applied, keeping other fields the server had changed.
    pub merged: u64,
    /// ... already applied by an earlier, unanswered push.
    pub already_applied: u64,
    /// ... that met a conflict (see `conflicts`).
    pub conflicted: u64,
    /// ... refused (see `rejected`).
    pub rejected: u64,
    /// The refusals of this sync with the server's reason, to show the person at once (e.g.
    /// `server_authoritative_field`: only a supervisor may move a hazard to another unit).
    pub refusals: Vec<Refusal>,
    /// Changes pulled.
    pub pulled: u64,
    /// The server asked for a reset and the scope was downloaded again.
    pub reset: bool,
}

impl Device {
    /// Uploads photos, pushes every pending mutation, then pulls until up to date. Safe to
    /// interrupt at any point; the next call carries on with nothing lost or duplicated.
    pub fn sync(&mut self) -> Result<SyncReport> {
        self.sync_with_progress(&mut |_| {})
    }

    /// [`Device::sync`], reporting progress to `progress` as it goes.
    pub fn sync_with_progress(
        &mut self,
        progress: &mut dyn FnMut(&SyncProgress),
    ) -> Result<SyncReport> {
        let mut report = SyncReport::default();
        self.transport()?;
        let device_id = self.ensure_registered()?;
        self.upload_photos(&mut report, progress)?;
        self.push_outbox(device_id, &mut report, progress)?;
        self.pull_all(device_id, &mut report, progress)?;
        Ok(report)
    }

    /// Uploads photos and pushes the outbox, without pulling: for tests and "send now" buttons.
    pub fn push(&mut self) -> Result<SyncReport> {
        let mut report = SyncReport::default();
        let device_id = self.ensure_registered()?;
        self.upload_photos(&mut report, &mut |_| {})?;
        self.push_outbox(device_id, &mut report, &mut |_| {})?;
        Ok(report)
    }

    /// Pulls until up to date (no push).
    pub fn pull(&mut self) -> Result<SyncReport> {
        let mut report = SyncReport::default();
        let device_id = self.ensure_registered()?;
        self.pull_all(device_id, &mut report, &mut |_| {})?;
        Ok(report)
    }

    fn ensure_registered(&mut self) -> Result<Uuid> {
        if let Some(id) = self.store.device_id()? {
            return Ok(id);
        }
        // The server takes names of 1 to 100 characters.
        let name: String = format!("anju-device {}", self.dir.display())
            .chars()
            .take(100)
            .collect();
        let reg =
            self.authorized(|t, token| t.register_device(token, &name, std::env::consts::OS))?;
        self.store.set_device_id(reg.device_id)?;
        Ok(reg.device_id)
    }

    /// The organisation directory (`areas` or `units`) from the server, as JSON objects with
    /// `id`, `code`, `name_zh`, `name_en`. Needs a connection and a login.
    pub fn directory(&mut self, kind: &str) -> Result<Vec<serde_json::Value>> {
        let v = self.authorized(|t, token| t.directory(token, kind))?;
        Ok(v.as_array().cloned().unwrap_or_default())
    }

    /// One call with the stored access token: retried on network errors, 5xx and 429; on 401
    /// the token pair is refreshed once (stored in one transaction) and the call repeated.
    pub(crate) fn authorized<R>(
        &mut self,
        f: impl Fn(&dyn Transport, &str) -> Result<R, TransportError>,
    ) -> Result<R> {
        let mut refreshed = false;
        loop {
            let token = self.store.state()?.access_token.ok_or(Error::NotLoggedIn)?;
            let t = self.transport()?;
            match self.options.retry.run(|| f(t, &token)) {
                Ok(r) => return Ok(r),
                Err(e) if e.http_status() == Some(401) && !refreshed => {
                    self.refresh_session()?;
                    refreshed = true;
                }
                Err(e) => return Err(classify(e)),
            }
        }
    }

    fn refresh_session(&mut self) -> Result<()> {
        let refresh = self
            .store
            .state()?
            .refresh_token
            .ok_or(Error::NotLoggedIn)?;
        let t = self.transport()?;
        match self.options.retry.run(|| t.refresh(&refresh)) {
            Ok(session) => self.store.save_session(&session, None, None),
            Err(e) if e.code() == Some("device_revoked") => Err(Error::DeviceRevoked),
            Err(e) if matches!(e.http_status(), Some(400 | 401 | 403)) => {
                Err(Error::SessionExpired)
            }
            Err(e) => Err(Error::Server(e)),
        }
    }

    fn upload_photos(
        &mut self,
        report: &mut SyncReport,
        progress: &mut dyn FnMut(&SyncProgress),
    ) -> Result<()> {
        let photos = self.store.photos_to_upload()?;
        if photos.is_empty() {
            return Ok(());
        }
        // Check every file before sending anything: a vanished photo stops the sync with the
        // outbox untouched, rather than pushing records that point at nothing.
        for p in &photos {
            match fs::read(&p.path) {
                Ok(bytes) if hex::encode(Sha256::digest(&bytes)) == p.sha256 => {}
                _ => {
                    return Err(Error::PhotoMissing {
                        sha256: p.sha256.clone(),
                        path: p.path.clone(),
                    });
                }
            }
        }
        let hashes: Vec<String> = photos.iter().map(|p| p.sha256.clone()).collect();
        let missing = self.authorized(|t, token| t.missing_attachments(token, &hashes))?;
        let total = u64::try_from(missing.len()).unwrap_or(u64::MAX);
        progress(&SyncProgress::Photos { done: 0, total });
        let mut done_hashes: Vec<String> = hashes
            .iter()
            .filter(|h| !missing.contains(h))
            .cloned()
            .collect();
        for (i, p) in photos
            .iter()
            .filter(|p| missing.contains(&p.sha256))
            .enumerate()
        {
            let bytes = fs::read(&p.path).map_err(|_| Error::PhotoMissing {
                sha256: p.sha256.clone(),
                path: p.path.clone(),
            })?;
            self.authorized(|t, token| t.put_attachment(token, &p.sha256, bytes.clone()))?;
            done_hashes.push(p.sha256.clone());
            // Marked one by one so an interrupted upload does not start over.
            self.store.mark_uploaded(std::slice::from_ref(&p.sha256))?;
            report.photos_uploaded += 1;
            progress(&SyncProgress::Photos {
                done: u64::try_from(i + 1).unwrap_or(u64::MAX),
                total,
            });
        }
        self.store.mark_uploaded(&done_hashes)
    }

    fn push_outbox(
        &mut self,
        device_id: Uuid,
        report: &mut SyncReport,
        progress: &mut dyn FnMut(&SyncProgress),
    ) -> Result<()> {
        let total = self.store.outbox_len()?;
        let batch_size = self.options.batch_size.clamp(1, MAX_BATCH);
        let mut done = 0;
        loop {
            let batch = self.store.outbox_head(batch_size)?;
            let Some(first) = batch.first() else {
                return Ok(());
            };
            progress(&SyncProgress::Pushing { done, total });
            let first_pending = first.seq;
            let req = PushRequest {
                protocol: PROTOCOL_VERSION,
                device_id,
                mutations: batch,
            };
            let resp = self
                .authorized(|t, token| t.push(token, &req))
                .map_err(|e| match e {
                    Error::Server(te) if te.code() == Some("sequence_gap") => {
                        let expected = match &te {
                            TransportError::Status { body: Some(b), .. } => {
                                b.get("expected").and_then(serde_json::Value::as_u64)
                            }
                            _ => None,
                        };
                        Error::SequenceGap {
                            expected: expected.unwrap_or(0),
                            first_pending,
                        }
                    }
                    other => other,
                })?;
            check_results(&req, &resp)?;
            self.store
                .record_push_results(&req.mutations, &resp.results, &resp.server_hlc)?;
            for (m, r) in req.mutations.iter().zip(&resp.results) {
                report.pushed += 1;
                match &r.outcome {
                    MutationOutcome::Applied { .. } => report.applied += 1,
                    MutationOutcome::Merged { .. } => report.merged += 1,
                    MutationOutcome::AlreadyApplied => report.already_applied += 1,
                    MutationOutcome::Conflict { .. } => report.conflicted += 1,
                    MutationOutcome::Rejected {
                        code,
                        message_zh,
                        message_en,
                    } => {
                        report.rejected += 1;
                        report.refusals.push(Refusal {
                            seq: m.seq,
                            record_type: m.record_type.clone(),
                            record_id: m.record_id,
                            code: code.clone(),
                            message_zh: message_zh.clone(),
                            message_en: message_en.clone(),
                        });
                    }
                }
            }
            done += u64::try_from(resp.results.len()).unwrap_or(0);
            progress(&SyncProgress::Pushing { done, total });
        }
    }

    fn pull_all(
        &mut self,
        device_id: Uuid,
        report: &mut SyncReport,
        progress: &mut dyn FnMut(&SyncProgress),
    ) -> Result<()> {
        let acked_before = self.store.max_acked_seq()?;
        let limit = self.options.pull_limit.clamp(1, 1000);
        loop {
            let cursor = self.store.pull_cursor()?;
            let answer =
                self.authorized(|t, token| t.pull(token, device_id, cursor.as_deref(), limit))?;
            match answer {
                PullAnswer::ResetRequired(r) => {
                    if cursor.is_none() {
                        // A reset from the very start cannot be obeyed: stop instead of looping.
                        return Err(Error::Server(TransportError::Garbage(format!(
                            "the server asked for a reset of a pull from the start ({})",
                            r.message_en
                        ))));
                    }
                    progress(&SyncProgress::Resetting);
                    self.store.reset_pulled_state()?;
                    report.reset = true;
                }
                PullAnswer::Page(page) => {
                    self.store.apply_page(&page)?;
                    report.pulled += u64::try_from(page.changes.len()).unwrap_or(0);
                    progress(&SyncProgress::Pulling {
                        received: report.pulled,
                    });
                    if !page.has_more {
                        return self.store.finish_pull(acked_before);
                    }
                }
            }
        }
    }
}

/// Turns a transport error into the plain message the user gets.
fn classify(e: TransportError) -> Error {
    match e.code() {
        Some("device_revoked") => Error::DeviceRevoked,
        Some("protocol_version_unsupported") => {
            let supported = match &e {
                TransportError::Status { body: Some(b), .. } => b
                    .get("supported")
                    .and_then(|s| serde_json::from_value::<Vec<u32>>(s.clone()).ok())
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            Error::ProtocolOutdated {
                requested: PROTOCOL_VERSION,
                supported,
            }
        }
        _ => Error::Server(e),
    }
}

/// A push answer must have one result per mutation, in order; anything else is garbage and
/// nothing of it is stored.
fn check_results(req: &PushRequest, resp: &PushResponse) -> Result<()> {
    let ok = req.mutations.len() == resp.results.len()
        && req
            .mutations
            .iter()
            .zip(&resp.results)
            .all(|(m, r)| m.seq == r.seq && m.record_id == r.record_id);
    if ok {
        return Ok(());
    }
    let got: BTreeMap<u64, Uuid> = resp.results.iter().map(|r| (r.seq, r.record_id)).collect();
    Err(Error::Server(TransportError::Garbage(format!(
        "push answer does not match the request ({} mutations sent, {} results: {:?}…)",
        req.mutations.len(),
        resp.results.len(),
        got.iter().take(3).collect::<Vec<_>>()
    ))))
}
