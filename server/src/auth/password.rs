//! Password hashing with argon2id at the OWASP parameters (m = 19 MiB, t = 2, p = 1). Hashing
//! is slow on purpose: callers run it on the blocking pool, bounded by `AppState::hashing`.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::Rng;

/// The fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The most bytes a password may have (longer input is refused before hashing).
pub const MAX_PASSWORD_BYTES: usize = 256;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string of `password` with a fresh random salt.
pub fn hash(password: &str) -> Result<String, anyhow::Error> {
    argon2()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
}

/// Whether `password` matches the PHC string `stored`. A malformed stored hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the same time as a real verification, so an unknown username cannot be told apart
/// from a wrong password by timing.
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let stored = DUMMY.get_or_init(|| hash("dummy password for timing").unwrap_or_default());
    let _ = verify(password, stored);
}

/// Checks a new password's length; returns the problem in zh and en.
pub fn check_new(password: &str) -> Result<(), (&'static str, &'static str)> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err((
            "密码至少需要 10 个字符",
            "A password needs at least 10 characters",
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(("密码过长", "The password is too long"));
    }
    Ok(())
}

/// A random password that is easy to type: 4 groups of 4 from an unambiguous alphabet
/// (about 95 bits).
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let mut out = String::new();
    for group in 0..4 {
        if group > 0 {
            out.push('-');
        }
        for _ in 0..4 {
            out.push(ALPHABET[rng.random_range(0..ALPHABET.len())] as char);
        }
    }
    out
}

/// A small fixed set of threads that do all password hashing. Bounding the threads bounds both
/// the CPU argon2 takes from request handling and its memory: each hash allocates 19 MiB, and
/// allocators keep freed blocks per thread, so hashing on the general blocking pool would leave
/// 19 MiB behind on every one of its threads. The queue in front of them is bounded too: a
/// caller first takes a [`HashSlot`] and is refused ([`HashingBusy`]) when none is free.
pub struct Hasher {
    jobs: std::sync::Mutex<std::sync::mpsc::Sender<Job>>,
    slots: std::sync::Arc<tokio::sync::Semaphore>,
    checks: std::sync::atomic::AtomicU64,
}

type Job = Box<dyn FnOnce() + Send>;

/// A place in the hashing queue; the job that uses it gives it back when it is done.
pub struct HashSlot {
    _permit: tokio::sync::OwnedSemaphorePermit,
}

/// Every thread is busy and the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingBusy;

impl Hasher {
    /// Starts `threads` hashing threads (at least one) with room for `queue` more jobs waiting.
    pub fn new(threads: usize, queue: usize) -> Hasher {
        let threads = threads.max(1);
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for i in 0..threads {
            let rx = rx.clone();
            let _ = std::thread::Builder::new()
                .name(format!("anju-hash-{i}"))
                .spawn(move || {
                    loop {
                        let job = match rx.lock() {
                            Ok(guard) => guard.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
        }
        Hasher {
            jobs: std::sync::Mutex::new(tx),
            slots: std::sync::Arc::new(tokio::sync::Semaphore::new(threads + queue)),
            checks: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// A place in the queue, or [`HashingBusy`] at once when there is none.
    pub fn try_slot(&self) -> Result<HashSlot, HashingBusy> {
        self.slots
            .clone()
            .try_acquire_owned()
            .map(|permit| HashSlot { _permit: permit })
            .map_err(|_| HashingBusy)
    }

    /// How many password checks ([`Hasher::verify`]) this hasher has run.
    pub fn password_checks(&self) -> u64 {
        self.checks.load(std::sync::atomic::Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(
        &self,
        slot: HashSlot,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, anyhow::Error> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let out = f();
            // Free before answering, so the caller finds its place free again.
            drop(slot);
            let _ = tx.send(out);
        });
        self.jobs
            .lock()
            .map_err(|_| anyhow::anyhow!("hasher poisoned"))?
            .send(job)
            .map_err(|_| anyhow::anyhow!("hasher stopped"))?;
        rx.await
            .map_err(|_| anyhow::anyhow!("hasher dropped the job"))
    }

    /// [`verify`] on a hashing thread; with no stored hash, spends the same time and fails.
    pub async fn verify(
        &self,
        slot: HashSlot,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, anyhow::Error> {
        self.checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.run(slot, move || match stored {
            Some(h) => verify(&password, &h),
            None => {
                verify_dummy(&password);
                false
            }
        })
        .await
    }

    /// [`hash`] on a hashing thread.
    pub async fn hash(&self, slot: HashSlot, password: String) -> Result<String, anyhow::Error> {
        self.run(slot, move || hash(&password)).await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("wrong horse battery", &h));
        assert!(!verify("x", "not a hash"));
    }

    #[tokio::test]
    async fn the_queue_is_bounded_and_slots_come_back() {
        let h = Hasher::new(1, 1);
        let a = h.try_slot().unwrap();
        let b = h.try_slot().unwrap();
        assert_eq!(h.try_slot().err(), Some(HashingBusy));
        drop(b);
        let stored = hash("correct horse battery").unwrap();
        assert!(
            h.verify(a, "correct horse battery".into(), Some(stored))
                .await
                .unwrap()
        );
        assert_eq!(h.password_checks(), 1);
        // Both places are free again once the job is done.
        let _a = h.try_slot().unwrap();
        let _b = h.try_slot().unwrap();
    }

    #[test]
    fn generated_passwords_pass_the_policy_and_differ() {
        let a = generate();
        assert!(check_new(&a).is_ok());
        assert_ne!(a, generate());
        assert!(check_new("short").is_err());
    }
}
