//! The SQLite writer queue: SQLite lets one connection write at a time, so every write of this
//! process takes a turn here instead of sleeping in SQLite's busy handler. Requests go first:
//! a background job (clock pass, outbox claim) takes a turn only when no request is waiting, and
//! takes one turn per batch, so a request's write waits behind at most one batch. Requests take
//! their turns in the order they asked (a writer that asks again right after its turn, like the
//! intake's group commit, does not pass a login that was waiting). A request that does not get
//! its turn within [`WriterQueue::request_wait`] gets 503 with `Retry-After`.
//!
//! Owned by [`super::Db`] (one queue per database handle), never a process-wide static.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use crate::error::ApiError;

/// Who asks for the write turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// A request a person or a device waits for: served first, bounded wait, then 503.
    Request,
    /// A background batch: waits while any request waits, and yields after each batch.
    Background,
}

#[derive(Debug, Default)]
struct Gate {
    /// The thread holding the turn, and how many nested turns it took (a write transaction
    /// inside a write closure takes the same turn again instead of deadlocking on itself).
    owner: Option<(ThreadId, u32)>,
    /// The waiting requests' numbers, in the order they asked; the first goes next.
    waiting: std::collections::BTreeSet<u64>,
    /// The number the next request to ask gets.
    next_number: u64,
}

impl Gate {
    fn busy(&self) -> bool {
        self.owner.is_some()
    }
}

/// The queue of writers of one database.
#[derive(Debug)]
pub struct WriterQueue {
    gate: Mutex<Gate>,
    freed: Condvar,
    request_wait: Duration,
}

/// A write turn; the next writer goes when it is dropped.
#[must_use = "the turn ends when this is dropped"]
#[derive(Debug)]
pub struct WriterTurn {
    queue: Arc<WriterQueue>,
}

impl WriterQueue {
    /// A queue whose requests give up (503) after `request_wait`.
    pub fn new(request_wait: Duration) -> Arc<WriterQueue> {
        Arc::new(WriterQueue {
            gate: Mutex::new(Gate::default()),
            freed: Condvar::new(),
            request_wait,
        })
    }

    /// How long a request waits for its turn before it answers 503.
    pub fn request_wait(&self) -> Duration {
        self.request_wait
    }

    /// Waits for the write turn. Requests wait at most [`Self::request_wait`], then get 503
    /// `server_busy` with `Retry-After: 1`; background work waits as long as it must.
    pub fn turn(self: &Arc<Self>, priority: Priority) -> Result<WriterTurn, ApiError> {
        let mut gate = self.gate.lock().unwrap_or_else(|p| p.into_inner());
        let me = std::thread::current().id();
        if let Some((owner, depth)) = gate.owner.as_mut()
            && *owner == me
        {
            *depth += 1;
            return Ok(WriterTurn {
                queue: self.clone(),
            });
        }
        match priority {
            Priority::Request => {
                let deadline = Instant::now() + self.request_wait;
                let mine = gate.next_number;
                gate.next_number += 1;
                gate.waiting.insert(mine);
                while gate.busy() || gate.waiting.first() != Some(&mine) {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        gate.waiting.remove(&mine);
                        // The next request, or a background writer waiting for the requests to
                        // drain, may go now.
                        self.freed.notify_all();
                        return Err(ApiError::busy("database writer queue: wait exceeded"));
                    }
                    gate = self
                        .freed
                        .wait_timeout(gate, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
                gate.waiting.remove(&mine);
            }
            Priority::Background => {
                while gate.busy() || !gate.waiting.is_empty() {
                    gate = self.freed.wait(gate).unwrap_or_else(|p| p.into_inner());
                }
            }
        }
        gate.owner = Some((me, 1));
        Ok(WriterTurn {
            queue: self.clone(),
        })
    }
}

impl Drop for WriterTurn {
    fn drop(&mut self) {
        let mut gate = self.queue.gate.lock().unwrap_or_else(|p| p.into_inner());
        let released = match gate.owner.as_mut() {
            Some((_, depth)) if *depth > 1 => {
                *depth -= 1;
                false
            }
            _ => {
                gate.owner = None;
                true
            }
        };
        drop(gate);
        if released {
            self.queue.freed.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_waits_at_most_its_bound_then_gets_503() {
        let q = WriterQueue::new(Duration::from_millis(50));
        let held = q.turn(Priority::Background).expect("first turn");
        let q2 = q.clone();
        let e = std::thread::spawn(move || q2.turn(Priority::Request).map(|_| ()))
            .join()
            .unwrap()
            .expect_err("must time out");
        assert_eq!(e.code(), "server_busy");
        drop(held);
        let _t = q.turn(Priority::Request).expect("free again");
        // The same thread nests without waiting.
        let _nested = q.turn(Priority::Request).expect("nested");
    }

    #[test]
    fn background_waits_while_a_request_waits() {
        let q = WriterQueue::new(Duration::from_secs(5));
        let held = q.turn(Priority::Request).expect("first");
        let order = Arc::new(Mutex::new(Vec::new()));
        let (q1, o1) = (q.clone(), order.clone());
        let bg = std::thread::spawn(move || {
            let _t = q1.turn(Priority::Background).expect("bg");
            o1.lock().unwrap().push("background");
        });
        std::thread::sleep(Duration::from_millis(30));
        let (q2, o2) = (q.clone(), order.clone());
        let req = std::thread::spawn(move || {
            let _t = q2.turn(Priority::Request).expect("req");
            o2.lock().unwrap().push("request");
            std::thread::sleep(Duration::from_millis(20));
        });
        std::thread::sleep(Duration::from_millis(30));
        drop(held);
        bg.join().unwrap();
        req.join().unwrap();
        assert_eq!(*order.lock().unwrap(), vec!["request", "background"]);
    }

    #[test]
    fn requests_take_their_turns_in_the_order_they_asked() {
        let q = WriterQueue::new(Duration::from_secs(5));
        // A writer that asks again right after its turn (the intake's group commit)...
        let held = q.turn(Priority::Request).expect("first");
        let order = Arc::new(Mutex::new(Vec::new()));
        // ...while a login asked during that turn.
        let (q1, o1) = (q.clone(), order.clone());
        let login = std::thread::spawn(move || {
            let _t = q1.turn(Priority::Request).expect("login");
            o1.lock().unwrap().push("login");
        });
        std::thread::sleep(Duration::from_millis(50));
        drop(held);
        let again = q.turn(Priority::Request).expect("again");
        order.lock().unwrap().push("again");
        drop(again);
        login.join().unwrap();
        assert_eq!(*order.lock().unwrap(), vec!["login", "again"]);
    }
}
