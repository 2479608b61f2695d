//! Progress reporting: phases and counters, delivered to a callback and/or a
//! `tokio::sync::watch` channel.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
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
///
/// What a progress bar shows is [`shown_bytes`](Self::shown_bytes) of
/// [`total_bytes`](Self::total_bytes), with
/// [`bytes_per_sec`](Self::bytes_per_sec) and [`eta`](Self::eta) beside it.
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
    /// resent).
    pub bytes_in_flight: u64,
    /// The size of the source; `None` for a stream of unknown length until
    /// it ends.
    pub total_bytes: Option<u64>,
    /// Parts acknowledged so far.
    pub parts_done: u32,
    /// Number of parts of the upload (0 for a stream until it ends).
    pub parts_total: u32,
    /// The media being uploaded, once the session exists.
    pub media_uuid: Option<Uuid>,
    /// Recent throughput in bytes per second (over the last few seconds;
    /// bytes finished before a resume are not counted). 0 until measured.
    pub bytes_per_sec: u64,
    /// Estimated time left to send the remaining bytes at the recent
    /// throughput; `None` while unknown (no throughput yet, or a stream).
    pub eta: Option<Duration>,
    /// Time since the upload started.
    pub elapsed: Duration,
}

impl Progress {
    /// `bytes_sent + bytes_in_flight`: what a progress bar shows.
    pub fn shown_bytes(&self) -> u64 {
        self.bytes_sent.saturating_add(self.bytes_in_flight)
    }
}

/// A progress callback.
pub type ProgressCallback = Arc<dyn Fn(&Progress) + Send + Sync>;

/// How far back the throughput is measured.
const RATE_WINDOW: Duration = Duration::from_secs(5);
/// Samples closer than this are merged.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// A throughput meter: bytes over a sliding window of a few seconds.
#[derive(Debug, Clone)]
pub(crate) struct RateMeter {
    started: Instant,
    samples: VecDeque<(Instant, u64)>,
}

impl RateMeter {
    pub(crate) fn new() -> Self {
        Self {
            started: Instant::now(),
            samples: VecDeque::new(),
        }
    }

    /// Records that `counted` bytes are done in all; returns (elapsed,
    /// bytes per second, seconds left for `remaining` bytes).
    pub(crate) fn observe(
        &mut self,
        counted: u64,
        remaining: Option<u64>,
    ) -> (Duration, u64, Option<Duration>) {
        let now = Instant::now();
        if self
            .samples
            .back()
            .is_none_or(|(t, _)| now.saturating_duration_since(*t) >= SAMPLE_EVERY)
        {
            self.samples.push_back((now, counted));
        }
        while self.samples.len() > 1
            && self
                .samples
                .front()
                .is_some_and(|(t, _)| now.saturating_duration_since(*t) > RATE_WINDOW)
        {
            self.samples.pop_front();
        }
        let rate = match self.samples.front() {
            Some((t0, b0)) => {
                let dt = now.saturating_duration_since(*t0).as_secs_f64();
                if dt >= SAMPLE_EVERY.as_secs_f64() {
                    (counted.saturating_sub(*b0) as f64 / dt) as u64
                } else {
                    0
                }
            }
            None => 0,
        };
        let eta = match (remaining, rate) {
            (Some(0), _) => Some(Duration::ZERO),
            (Some(left), r) if r > 0 => Some(Duration::from_secs_f64(left as f64 / r as f64)),
            _ => None,
        };
        (now.saturating_duration_since(self.started), rate, eta)
    }
}

/// Fans progress snapshots out to the callback and the watch channel.
#[derive(Clone)]
pub(crate) struct ProgressSink {
    current: Arc<Mutex<(Progress, RateMeter, u64)>>,
    callback: Option<ProgressCallback>,
    watch: Option<watch::Sender<Progress>>,
}

impl ProgressSink {
    pub(crate) fn new(
        total_bytes: Option<u64>,
        callback: Option<ProgressCallback>,
        watch: Option<watch::Sender<Progress>>,
    ) -> Self {
        Self {
            current: Arc::new(Mutex::new((
                Progress {
                    total_bytes,
                    ..Progress::default()
                },
                RateMeter::new(),
                0,
            ))),
            callback,
            watch,
        }
    }

    /// Changes the snapshot with `f` and publishes it.
    pub(crate) fn update(&self, f: impl FnOnce(&mut Progress)) {
        self.update_excluding(0, f);
    }

    /// Like [`update`](Self::update), with `excluded` more bytes that count
    /// as done but not towards the throughput (parts finished earlier).
    pub(crate) fn update_excluding(&self, excluded: u64, f: impl FnOnce(&mut Progress)) {
        let snapshot = {
            let mut guard = match self.current.lock() {
                Ok(g) => g,
                Err(poisoned) => poisoned.into_inner(),
            };
            let (progress, meter, skip) = &mut *guard;
            f(progress);
            *skip = skip.saturating_add(excluded);
            let shown = progress.shown_bytes();
            let remaining = progress.total_bytes.map(|t| t.saturating_sub(shown));
            let (elapsed, rate, eta) = meter.observe(shown.saturating_sub(*skip), remaining);
            progress.elapsed = elapsed;
            progress.bytes_per_sec = rate;
            progress.eta = eta;
            progress.clone()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn throughput_and_eta_follow_the_recent_rate() {
        let sink = ProgressSink::new(Some(1_000_000), None, None);
        let (tx, rx) = watch::channel(Progress::default());
        let sink = ProgressSink {
            watch: Some(tx),
            ..sink
        };
        // 100 KB already done before a resume: not throughput.
        sink.update_excluding(100_000, |p| p.bytes_sent = 100_000);
        assert_eq!(rx.borrow().bytes_per_sec, 0);
        assert_eq!(rx.borrow().eta, None);
        for _ in 0..10 {
            tokio::time::advance(Duration::from_millis(100)).await;
            sink.update(|p| p.bytes_sent += 10_000); // 100 KB/s
        }
        let p = rx.borrow().clone();
        assert_eq!(p.shown_bytes(), 200_000);
        assert_eq!(p.bytes_per_sec, 100_000);
        assert_eq!(p.eta, Some(Duration::from_secs(8)));
        assert_eq!(p.elapsed, Duration::from_secs(1));
        // Stalled for longer than the window: the rate decays to what the window saw.
        tokio::time::advance(Duration::from_secs(10)).await;
        sink.update(|p| p.bytes_sent += 1);
        assert!(rx.borrow().bytes_per_sec < 1_000, "{:?}", rx.borrow());
        sink.update(|p| p.bytes_sent = 1_000_000);
        assert_eq!(rx.borrow().eta, Some(Duration::ZERO));
    }

    #[test]
    fn unknown_total_has_no_eta() {
        let mut meter = RateMeter::new();
        assert_eq!(meter.observe(10, None).2, None);
    }
}
