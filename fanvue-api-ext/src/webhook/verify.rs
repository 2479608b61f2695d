//! `X-Fanvue-Signature` verification.
//!
//! The header is `t=<unix seconds>,v0=<hex HMAC-SHA256>`; the signed payload is the digits of `t` exactly as
//! written, one `.`, and the raw body bytes; the key is the signing secret's UTF-8 bytes, used verbatim (a
//! `whsec_`-looking prefix is neither stripped nor base64-decoded).
//!
//! Parsing policy (what Fanvue documents, then the tolerance this crate adds, each from the reference notes):
//! - items are split on `,`; whitespace around an item is ignored; order does not matter;
//! - `t` must appear exactly once and be ASCII digits (a second `t` is ambiguous and refused);
//! - at least one signature is required: `v0=<hex>` items, or a bare `<hex>` item following a `v0` item (the
//!   rotation form `v0=<old>,<new>`); repeated `v0=` items are the other rotation form;
//! - hex is decoded case-insensitively; a value that is not hex makes the header malformed, hex of the wrong
//!   length simply matches nothing;
//! - other keys (`v1=...`) are ignored;
//! - every supplied signature is compared, in constant time, with the HMAC under every configured secret;
//!   one match suffices;
//! - then `|now - t| <= tolerance` (default 300 s), so stale and far-future timestamps are refused alike.
//!
//! The signature is checked before the timestamp, so a stale-timestamp error tells the caller the request was
//! genuine but old. Errors never carry the secret or the body.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The signature header's name (HTTP header names are case-insensitive).
pub const SIGNATURE_HEADER: &str = "x-fanvue-signature";

/// The default freshness window: 5 minutes, as Fanvue recommends.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// The length of an HMAC-SHA256 in bytes.
const MAC_LEN: usize = 32;

type HmacSha256 = Hmac<Sha256>;

/// Why a webhook's signature was refused. Never contains the secret or the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No `X-Fanvue-Signature` header (an unsigned request, such as a probe: answer it without processing).
    #[error("the X-Fanvue-Signature header is missing")]
    MissingHeader,
    /// The header does not follow the `t=...,v0=...` grammar.
    #[error("the X-Fanvue-Signature header is malformed: {0}")]
    MalformedHeader(MalformedHeader),
    /// No supplied signature matches the body under any configured secret (wrong secret, altered body or
    /// timestamp).
    #[error("no signature matches the body")]
    NoMatchingSignature,
    /// The signature is genuine but `t` is further than the tolerance from now (a replay, or a clock problem).
    #[error("the signature timestamp {timestamp} is more than {tolerance_secs} s from now ({now})")]
    TimestampOutsideTolerance {
        /// `t` from the header, Unix seconds.
        timestamp: u64,
        /// The verifier's clock, Unix seconds.
        now: u64,
        /// The tolerance, seconds.
        tolerance_secs: u64,
    },
}

/// What is wrong with a malformed signature header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MalformedHeader {
    /// The value is empty (or only whitespace and commas).
    #[error("empty value")]
    Empty,
    /// The value is not visible ASCII.
    #[error("not ASCII")]
    NotAscii,
    /// No `t` item.
    #[error("no `t` item")]
    MissingTimestamp,
    /// More than one `t` item.
    #[error("more than one `t` item")]
    DuplicateTimestamp,
    /// `t` is not a number of seconds.
    #[error("`t` is not a Unix time in seconds")]
    InvalidTimestamp,
    /// No `v0` signature.
    #[error("no `v0` signature")]
    MissingSignature,
    /// A signature is not hexadecimal.
    #[error("a signature is not hexadecimal")]
    InvalidSignature,
    /// An item without `=` that is not a signature following a `v0` item.
    #[error("an item is neither `key=value` nor a signature after `v0`")]
    StrayItem,
}

/// The current time as Unix seconds; injectable for tests ([`VerifierBuilder::clock`]).
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now_unix(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

impl<F: Fn() -> u64 + Send + Sync> Clock for F {
    fn now_unix(&self) -> u64 {
        self()
    }
}

/// A signed header, parsed: the timestamp as written and the signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignatureHeader<'a> {
    /// The digits of `t` exactly as written (they are part of the signed payload).
    pub timestamp_text: &'a str,
    /// `t` as a number.
    pub timestamp: u64,
    /// Every signature supplied (decoded hex; lengths other than 32 bytes are kept and match nothing).
    pub signatures: Vec<Vec<u8>>,
}

impl<'a> SignatureHeader<'a> {
    /// Parses a header value by the policy of this module.
    pub fn parse(value: &'a str) -> Result<Self, MalformedHeader> {
        let mut signatures = Vec::new();
        let (timestamp_text, timestamp) = scan(value, |v| {
            signatures.push(decode_hex(v)?);
            Ok(())
        })?;
        Ok(SignatureHeader {
            timestamp_text,
            timestamp,
            signatures,
        })
    }
}

/// The header grammar, in one place: checks `value` and hands each signature's hex text to
/// `signature` in order; returns the timestamp as written and its value. [`SignatureHeader::parse`]
/// collects the signatures; [`Verifier::verify`] compares them without allocating.
fn scan<'a>(
    value: &'a str,
    mut signature: impl FnMut(&'a str) -> Result<(), MalformedHeader>,
) -> Result<(&'a str, u64), MalformedHeader> {
    if !value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
    {
        return Err(MalformedHeader::NotAscii);
    }
    let mut timestamp: Option<&str> = None;
    let mut signatures = 0usize;
    let mut after_v0 = false;
    let mut any_item = false;
    for item in value.split(',').map(str::trim) {
        if item.is_empty() {
            continue;
        }
        any_item = true;
        match item.split_once('=') {
            Some(("t", v)) => {
                if timestamp.is_some() {
                    return Err(MalformedHeader::DuplicateTimestamp);
                }
                timestamp = Some(v.trim());
                after_v0 = false;
            }
            Some(("v0", v)) => {
                signature(v.trim())?;
                signatures = signatures.saturating_add(1);
                after_v0 = true;
            }
            Some(_) => after_v0 = false,
            None if after_v0 => {
                signature(item)?;
                signatures = signatures.saturating_add(1);
            }
            None => return Err(MalformedHeader::StrayItem),
        }
    }
    if !any_item {
        return Err(MalformedHeader::Empty);
    }
    let timestamp_text = timestamp.ok_or(MalformedHeader::MissingTimestamp)?;
    if timestamp_text.is_empty() || !timestamp_text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MalformedHeader::InvalidTimestamp);
    }
    let timestamp = timestamp_text
        .parse::<u64>()
        .map_err(|_| MalformedHeader::InvalidTimestamp)?;
    if signatures == 0 {
        return Err(MalformedHeader::MissingSignature);
    }
    Ok((timestamp_text, timestamp))
}

/// Decodes one signature into `out` when it is a MAC's length (`true`); any other length is checked
/// as hex and matches nothing (`false`). Malformed as [`decode_hex`] would say.
fn decode_mac(s: &str, out: &mut [u8; MAC_LEN]) -> Result<bool, MalformedHeader> {
    if s.len() == 2 * MAC_LEN {
        hex::decode_to_slice(s, out).map_err(|_| MalformedHeader::InvalidSignature)?;
        return Ok(true);
    }
    if s.is_empty() || !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(MalformedHeader::InvalidSignature);
    }
    Ok(false)
}

/// Signatures kept on the stack while verifying (more are kept on the heap).
const INLINE_SIGNATURES: usize = 4;

/// Hex, either case; empty or odd-length or non-hex is malformed.
fn decode_hex(s: &str) -> Result<Vec<u8>, MalformedHeader> {
    if s.is_empty() {
        return Err(MalformedHeader::InvalidSignature);
    }
    hex::decode(s).map_err(|_| MalformedHeader::InvalidSignature)
}

/// Verifies `X-Fanvue-Signature` headers against one or more signing secrets.
///
/// ```
/// use fanvue_api_ext::webhook::Verifier;
///
/// let verifier = Verifier::builder()
///     .secret("my-signing-secret")
///     .clock(|| 1_767_225_660)
///     .build()?;
/// let body = br#"{"readMessagesCount":1}"#;
/// let header = verifier.sign(1_767_225_600, body)?; // what Fanvue would send
/// assert_eq!(verifier.verify(Some(&header), body)?, body);
/// assert!(verifier.verify(Some(&header), b"{}").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Verifier {
    /// One keyed HMAC state per secret (cloned per verification; the secret itself is not kept).
    keys: Arc<[HmacSha256]>,
    tolerance: Duration,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("secrets", &format_args!("[{} redacted]", self.keys.len()))
            .field("tolerance", &self.tolerance)
            .finish_non_exhaustive()
    }
}

/// Why a [`Verifier`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifierBuildError {
    /// No secret was given.
    #[error("a webhook verifier needs at least one signing secret")]
    NoSecret,
    /// A secret is empty.
    #[error("a webhook signing secret is empty")]
    EmptySecret,
}

/// Builds a [`Verifier`].
#[derive(Default)]
pub struct VerifierBuilder {
    secrets: Vec<SecretString>,
    tolerance: Option<Duration>,
    clock: Option<Arc<dyn Clock>>,
}

impl fmt::Debug for VerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierBuilder")
            .field(
                "secrets",
                &format_args!("[{} redacted]", self.secrets.len()),
            )
            .field("tolerance", &self.tolerance)
            .finish_non_exhaustive()
    }
}

impl VerifierBuilder {
    /// Adds a signing secret. Add the old and the new one while rotating: a signature under either verifies.
    pub fn secret(mut self, secret: impl Into<SecretString>) -> Self {
        self.secrets.push(secret.into());
        self
    }

    /// Adds several signing secrets.
    pub fn secrets<S: Into<SecretString>>(mut self, secrets: impl IntoIterator<Item = S>) -> Self {
        self.secrets.extend(secrets.into_iter().map(Into::into));
        self
    }

    /// The freshness window, `|now - t| <= tolerance` (default [`DEFAULT_TOLERANCE`]).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = Some(tolerance);
        self
    }

    /// The clock (default [`SystemClock`]); a closure returning Unix seconds works.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Builds the verifier.
    pub fn build(self) -> Result<Verifier, VerifierBuildError> {
        if self.secrets.is_empty() {
            return Err(VerifierBuildError::NoSecret);
        }
        let mut keys = Vec::with_capacity(self.secrets.len());
        for secret in &self.secrets {
            let bytes = secret.expose_secret().as_bytes();
            if bytes.is_empty() {
                return Err(VerifierBuildError::EmptySecret);
            }
            // HMAC accepts keys of any length.
            let key =
                HmacSha256::new_from_slice(bytes).map_err(|_| VerifierBuildError::EmptySecret)?;
            keys.push(key);
        }
        Ok(Verifier {
            keys: keys.into(),
            tolerance: self.tolerance.unwrap_or(DEFAULT_TOLERANCE),
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
        })
    }
}

impl Verifier {
    /// A builder.
    pub fn builder() -> VerifierBuilder {
        VerifierBuilder::default()
    }

    /// A verifier for one secret with the default tolerance and the system clock.
    pub fn new(secret: impl Into<SecretString>) -> Result<Self, VerifierBuildError> {
        Self::builder().secret(secret).build()
    }

    /// The freshness window.
    pub fn tolerance(&self) -> Duration {
        self.tolerance
    }

    /// Verifies `body` against the signature header value (`None` when the request had none) and returns the
    /// body, now trusted. Use the exact bytes received: never parse and re-serialise before verifying.
    pub fn verify<'b>(
        &self,
        header: Option<&str>,
        body: &'b [u8],
    ) -> Result<&'b [u8], VerifyError> {
        self.verify_at(header, body).map(|_| body)
    }

    /// Like [`Verifier::verify`], returning the signed timestamp `t` (Unix seconds).
    pub fn verify_at(&self, header: Option<&str>, body: &[u8]) -> Result<u64, VerifyError> {
        let value = header.ok_or(VerifyError::MissingHeader)?;
        // The signatures come before or after `t`, so they are kept (on the stack for the usual
        // one to four) and compared once the timestamp is known.
        let mut inline = [[0u8; MAC_LEN]; INLINE_SIGNATURES];
        let mut count = 0usize;
        let mut spilled: Vec<[u8; MAC_LEN]> = Vec::new();
        let (timestamp_text, timestamp) = scan(value, |v| {
            let mut mac = [0u8; MAC_LEN];
            if decode_mac(v, &mut mac)? {
                match inline.get_mut(count) {
                    Some(slot) => *slot = mac,
                    None => spilled.push(mac),
                }
                count = count.saturating_add(1);
            }
            Ok(())
        })
        .map_err(VerifyError::MalformedHeader)?;
        let candidates = inline.iter().take(count).chain(spilled.iter());
        if !self.matches(timestamp_text, candidates, body) {
            return Err(VerifyError::NoMatchingSignature);
        }
        let now = self.clock.now_unix();
        let tolerance_secs = self.tolerance.as_secs();
        if now.abs_diff(timestamp) > tolerance_secs {
            return Err(VerifyError::TimestampOutsideTolerance {
                timestamp,
                now,
                tolerance_secs,
            });
        }
        Ok(timestamp)
    }

    /// Whether any supplied signature is the HMAC of `t.body` under any secret (all pairs are compared, each in
    /// constant time).
    fn matches<'c>(
        &self,
        timestamp_text: &str,
        candidates: impl Iterator<Item = &'c [u8; MAC_LEN]> + Clone,
        body: &[u8],
    ) -> bool {
        let mut found = subtle::Choice::from(0u8);
        for key in self.keys.iter() {
            let expected = mac(key, timestamp_text.as_bytes(), body);
            for candidate in candidates.clone() {
                found |= expected.as_slice().ct_eq(candidate.as_slice());
            }
        }
        found.into()
    }

    /// The header Fanvue would send for `body` signed at `timestamp` with the first secret
    /// (`t=<timestamp>,v0=<lower-case hex>`), for tests and local tools.
    pub fn sign(&self, timestamp: u64, body: &[u8]) -> Result<String, VerifierBuildError> {
        let key = self.keys.first().ok_or(VerifierBuildError::NoSecret)?;
        let t = timestamp.to_string();
        Ok(format!(
            "t={t},v0={}",
            hex::encode(mac(key, t.as_bytes(), body))
        ))
    }
}

/// HMAC-SHA256 of `t.body` with a keyed state.
fn mac(key: &HmacSha256, timestamp: &[u8], body: &[u8]) -> [u8; MAC_LEN] {
    let mut mac = key.clone();
    mac.update(timestamp);
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_secret() {
        let v = Verifier::new("super-secret-value").unwrap();
        let text = format!(
            "{v:?} {:?}",
            Verifier::builder().secret("super-secret-value")
        );
        assert!(!text.contains("super-secret-value"), "{text}");
        assert!(text.contains("redacted"));
    }

    #[test]
    fn parse_keeps_timestamp_text_verbatim() {
        let h = SignatureHeader::parse(" v0=zz, t=0012 ").unwrap_err();
        assert_eq!(h, MalformedHeader::InvalidSignature);
        let text = format!("v0={},t=0012", "ab".repeat(32));
        let h = SignatureHeader::parse(&text).unwrap();
        assert_eq!(h.timestamp_text, "0012");
        assert_eq!(h.timestamp, 12);
    }
}
