//! Progress reporting: phases and counters, delivered to a callback and/or a
//! `tokio::sync::watch` channel.

use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use uuid::Uuid;

/// The phase an upload is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Phase {
    /// Checking the options and reading the start of the source.
    #[default]
    Preparing,
    /// Creating the upload session.
    CreatingSession,
    /// Sending the parts.
    Uploading,
    /// Completing the upload session.
    Completing,
    /// Waiting for Fanvue to process the media.
    Processing,
    /// The media is ready.
    Done,
}

/// A snapshot of an upload's progress (`Default` is the state before
/// the upload starts, handy to create a `watch` channel).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Progress {
    /// The current phase.
    pub phase: Phase,
    /// Bytes of the parts the storage has acknowledged (including parts
    /// finished before a resume).
    pub bytes_sent: u64,
    /// Bytes of parts still in flight that have been handed to the
    /// connection so far (goes back down when an attempt fails and the part is
    /// resent). `bytes_sent + bytes_in_flight` is what a progress bar shows.
    pub bytes_in_flight: u64,
    /// The size of the source.
    pub total_bytes: u64,
    /// Parts acknowledged so far.
    pub parts_done: u32,
    /// Number of parts of the upload.
    pub parts_total: u32,
    /// The media being uploaded, once the session exists.
    pub media_uuid: Option<Uuid>,
}

/// A progress callback.
pub type ProgressCallback = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Fans progress snapshots out to the callback and the watch channel.
#[derive(Clone)]
pub(crate) struct ProgressSink {
    current: Arc<Mutex<Progress>>,
    callback: Option<ProgressCallback>,
    watch: Option<watch::Sender<Progress>>,
}

impl ProgressSink {
    pub(crate) fn new(
        total_bytes: u64,
        callback: Option<ProgressCallback>,
        watch: Option<watch::Sender<Progress>>,
    ) -> Self {
        Self {
            current: Arc::new(Mutex::new(Progress {
                total_bytes,
                ..Progress::default()
            })),
            callback,
            watch,
        }
    }

    /// Changes the snapshot with `f` and publishes it.
    pub(crate) fn update(&self, f: impl FnOnce(&mut Progress)) {
        let snapshot = {
            let mut guard = match self.current.lock() {
                Ok(g) => g,
                Err(poisoned) => poisoned.into_inner(),
            };
            f(&mut guard);
            guard.clone()
        };
        if let Some(cb) = &self.callback {
            cb(&snapshot);
        }
        if let Some(tx) = &self.watch {
            tx.send_replace(snapshot);
        }
    }

    /// Counts `n` more bytes of a part handed to the connection.
    pub(crate) fn add_in_flight(&self, n: u64) {
        self.update(|p| p.bytes_in_flight = p.bytes_in_flight.saturating_add(n));
    }

    /// Forgets `n` in-flight bytes of a part attempt that failed.
    pub(crate) fn drop_in_flight(&self, n: u64) {
        if n > 0 {
            self.update(|p| p.bytes_in_flight = p.bytes_in_flight.saturating_sub(n));
        }
    }

    /// Moves to `phase`.
    pub(crate) fn phase(&self, phase: Phase) {
        self.update(|p| p.phase = phase);
    }
}
