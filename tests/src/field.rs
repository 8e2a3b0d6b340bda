//! The real field device (`anju_client::Device`, the device crate in `client/`) against the
//! test server, for tests of what a field device does: edits pushed, pulls, conflicts, photo
//! uploads, ticket and hazard actions. The device is the production code; only its connection
//! is the test's [`Link`], which can cut the line, answer one pull with a reset, and keeps the
//! server's answers so a test can also check what the server said on the wire.
//!
//! Tests that send what no real device sends (malformed or hostile pushes, forged versions or
//! cursors, other protocol versions) use [`crate::sync::RawDevice`] instead; the rule is at the
//! top of `tests/src/sync.rs`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anju_client::transport::{DeviceRegistration, LoginRequest, Session};
use anju_client::{Device, HttpTransport, SyncReport, Transport, TransportError};
use anju_shared::protocol::{
    Change, PullAnswer, PullResponse, PushRequest, PushResponse, ResetRequired,
};
use serde_json::Value;
use uuid::Uuid;

use crate::{TestApp, USER_PASSWORD};

/// Called with every push the server answered, before the device sees the answer.
pub type PushObserver = Box<dyn Fn(&PushRequest, &PushResponse) + Send + Sync>;

/// A device's connection to the test server over real HTTP, with two switches and a record.
///
/// Guarantees: while offline, every call fails as a network error without reaching the
/// server; with a reset armed, the next pull that carries a cursor is answered with a reset
/// (410) without reaching the server, as a server whose retention passed the cursor answers;
/// every push the server answered, every page and every reset it sent are kept, in order,
/// even when a fault injector above this link throws the answer away; with a lost answer armed,
/// the next push reaches the server and is kept here, and the device gets a network error
/// instead of the answer.
pub struct Link {
    inner: HttpTransport,
    offline: AtomicBool,
    reset: AtomicBool,
    lose_answer: AtomicBool,
    observer: Option<PushObserver>,
    pushes: Mutex<Vec<(PushRequest, PushResponse)>>,
    pages: Mutex<Vec<PullResponse>>,
    resets: Mutex<Vec<ResetRequired>>,
}

impl Link {
    /// A link to the server at `base` (blocking HTTP: make it off the async threads).
    pub fn new(base: &str) -> Link {
        Link {
            inner: HttpTransport::new(base).expect("transport"),
            offline: AtomicBool::new(false),
            reset: AtomicBool::new(false),
            lose_answer: AtomicBool::new(false),
            observer: None,
            pushes: Mutex::new(Vec::new()),
            pages: Mutex::new(Vec::new()),
            resets: Mutex::new(Vec::new()),
        }
    }

    /// The same link, calling `observer` with every answered push.
    pub fn observing(
        mut self,
        observer: impl Fn(&PushRequest, &PushResponse) + Send + Sync + 'static,
    ) -> Link {
        self.observer = Some(Box::new(observer));
        self
    }

    /// Cuts (`true`) or restores (`false`) the connection.
    pub fn set_offline(&self, offline: bool) {
        self.offline.store(offline, Ordering::SeqCst);
    }

    /// Arms a reset for the next pull that carries a cursor.
    pub fn reset_next_pull(&self) {
        self.reset.store(true, Ordering::SeqCst);
    }

    /// Arms a lost answer for the next push: the server applies it, the device never hears.
    pub fn lose_next_push_answer(&self) {
        self.lose_answer.store(true, Ordering::SeqCst);
    }

    /// Every push the server answered, with its request, in order.
    pub fn pushes(&self) -> Vec<(PushRequest, PushResponse)> {
        self.pushes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The results of every answered push, in order, as the JSON the server sent (one object
    /// per mutation: `seq`, `record_id`, `outcome` and the outcome's own fields).
    pub fn results(&self) -> Vec<Value> {
        self.pushes()
            .iter()
            .flat_map(|(_, resp)| resp.results.iter())
            .map(|r| serde_json::to_value(r).expect("a result is JSON"))
            .collect()
    }

    /// The results of the last answered push, as in [`Link::results`] (empty before any push).
    pub fn last_results(&self) -> Vec<Value> {
        self.pushes()
            .last()
            .map(|(_, resp)| {
                resp.results
                    .iter()
                    .map(|r| serde_json::to_value(r).expect("a result is JSON"))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every change the server sent in a pull page, in order.
    pub fn pulled(&self) -> Vec<Change> {
        self.pages()
            .into_iter()
            .flat_map(|page| page.changes)
            .collect()
    }

    /// Every pull page the server sent, in order.
    pub fn pages(&self) -> Vec<PullResponse> {
        self.pages.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Every reset (410 `reset_required`) the server itself answered a pull with, in order (an
    /// armed reset of [`Link::reset_next_pull`] is not the server's and is not kept).
    pub fn resets(&self) -> Vec<ResetRequired> {
        self.resets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn up(&self) -> Result<(), TransportError> {
        if self.offline.load(Ordering::SeqCst) {
            return Err(TransportError::Network("offline".into()));
        }
        Ok(())
    }
}

impl Transport for Link {
    fn login(&self, req: &LoginRequest) -> Result<Session, TransportError> {
        self.up()?;
        self.inner.login(req)
    }
    fn refresh(&self, refresh_token: &str) -> Result<Session, TransportError> {
        self.up()?;
        self.inner.refresh(refresh_token)
    }
    fn register_device(
        &self,
        access_token: &str,
        name: &str,
        platform: &str,
    ) -> Result<DeviceRegistration, TransportError> {
        self.up()?;
        self.inner.register_device(access_token, name, platform)
    }
    fn push(&self, access_token: &str, req: &PushRequest) -> Result<PushResponse, TransportError> {
        self.up()?;
        let answer = self.inner.push(access_token, req);
        if let Ok(resp) = &answer {
            if let Some(observe) = &self.observer {
                observe(req, resp);
            }
            self.pushes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((req.clone(), resp.clone()));
            if self.lose_answer.swap(false, Ordering::SeqCst) {
                return Err(TransportError::Network("the answer was lost".into()));
            }
        }
        answer
    }
    fn pull(
        &self,
        access_token: &str,
        device_id: Uuid,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<PullAnswer, TransportError> {
        self.up()?;
        if cursor.is_some() && self.reset.swap(false, Ordering::SeqCst) {
            return Ok(PullAnswer::ResetRequired(ResetRequired::default()));
        }
        let answer = self.inner.pull(access_token, device_id, cursor, limit);
        match &answer {
            Ok(PullAnswer::Page(page)) => self
                .pages
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(page.clone()),
            Ok(PullAnswer::ResetRequired(reset)) => self
                .resets
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(reset.clone()),
            Err(_) => {}
        }
        answer
    }
    fn missing_attachments(
        &self,
        access_token: &str,
        hashes: &[String],
    ) -> Result<Vec<String>, TransportError> {
        self.up()?;
        self.inner.missing_attachments(access_token, hashes)
    }
    fn put_attachment(
        &self,
        access_token: &str,
        sha256: &str,
        bytes: Vec<u8>,
    ) -> Result<(), TransportError> {
        self.up()?;
        self.inner.put_attachment(access_token, sha256, bytes)
    }
    fn directory(&self, access_token: &str, kind: &str) -> Result<Value, TransportError> {
        self.up()?;
        self.inner.directory(access_token, kind)
    }
}

/// A real device for an async test: its own directory, logged in over a [`Link`]. The device
/// library blocks, so every call runs on a blocking thread ([`FieldDevice::run`]), and the
/// device and its HTTP client are dropped on one too.
pub struct FieldDevice {
    device: Option<Device>,
    link: Option<Arc<Link>>,
    id: Uuid,
    dir: Option<tempfile::TempDir>,
}

impl FieldDevice {
    /// A new device in a fresh directory, logged in as `username` (a user made with
    /// [`USER_PASSWORD`], e.g. by [`TestApp::user_token`]) and so registered with the server.
    pub async fn login(app: &TestApp, username: &str) -> FieldDevice {
        let (base, username) = (app.base.clone(), username.to_owned());
        tokio::task::spawn_blocking(move || {
            let dir = tempfile::tempdir().expect("device dir");
            let link = Arc::new(Link::new(&base));
            let mut device = Device::open(dir.path()).expect("device store");
            device.connect(link.clone());
            device
                .login(&username, USER_PASSWORD, &format!("{username} 的设备"))
                .expect("login");
            let id = device.device_id().expect("store").expect("registered");
            FieldDevice {
                device: Some(device),
                link: Some(link),
                id,
                dir: Some(dir),
            }
        })
        .await
        .expect("device thread")
    }

    /// The device id the server issued.
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// The device's connection (its switches and what the server answered).
    pub fn link(&self) -> &Link {
        self.link.as_deref().expect("the link is here")
    }

    /// Runs `f` with the device on a blocking thread; a panic in `f` fails the test with its
    /// own message.
    pub async fn run<R: Send + 'static>(
        &mut self,
        f: impl FnOnce(&mut Device) -> R + Send + 'static,
    ) -> R {
        let mut device = self.device.take().expect("the device is here");
        let (device, r) = match tokio::task::spawn_blocking(move || {
            let r = f(&mut device);
            (device, r)
        })
        .await
        {
            Ok(done) => done,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        self.device = Some(device);
        r
    }

    /// Uploads, pushes and pulls until up to date; fails the test if the sync fails.
    pub async fn sync(&mut self) -> SyncReport {
        self.run(|d| d.sync().expect("sync")).await
    }

    /// Pulls until up to date; fails the test if the pull fails.
    pub async fn pull(&mut self) -> SyncReport {
        self.run(|d| d.pull().expect("pull")).await
    }

    /// Pulls until up to date; the changes this pull received, in order.
    pub async fn pull_changes(&mut self) -> Vec<Change> {
        let before = self.link().pulled().len();
        self.pull().await;
        self.link().pulled().split_off(before)
    }

    /// The ids of the live records the device pulled (its copy of the server's state in its
    /// scope, without local changes).
    pub async fn pulled_ids(&mut self) -> std::collections::BTreeSet<Uuid> {
        self.run(|d| {
            d.pulled()
                .expect("pulled")
                .into_iter()
                .filter(|r| !r.deleted)
                .map(|r| r.id)
                .collect()
        })
        .await
    }

    /// Pushes (photos, then the outbox) without pulling; fails the test if the push fails.
    pub async fn push(&mut self) -> SyncReport {
        self.run(|d| d.push().expect("push")).await
    }

    /// The fields the device shows for record `id` (`None`: not on the device).
    pub async fn fields(&mut self, id: Uuid) -> Option<std::collections::BTreeMap<String, Value>> {
        self.run(move |d| d.show(id).expect("show").map(|r| r.fields))
            .await
    }

    /// The server version the device last pulled for record `id`.
    pub async fn version(&mut self, id: Uuid) -> Option<i64> {
        self.run(move |d| d.show(id).expect("show").and_then(|r| r.server_version))
            .await
    }
}

impl Drop for FieldDevice {
    fn drop(&mut self) {
        let (device, link, dir) = (self.device.take(), self.link.take(), self.dir.take());
        // The blocking HTTP client must not be dropped on an async thread.
        let _ = std::thread::spawn(move || drop((device, link, dir))).join();
    }
}
