//! Part planning within S3's multipart rules: part numbers 1 to 10,000, every
//! part but the last at least 5 MiB, at most 5 GiB a part, at most 5 TiB in all.

use std::ops::Range;

use super::error::ValidationError;

/// One mebibyte.
pub(crate) const MIB: u64 = 1024 * 1024;
/// The smallest part S3 accepts (all parts but the last).
pub const MIN_PART_SIZE: u64 = 5 * MIB;
/// The largest part S3 accepts.
pub const MAX_PART_SIZE: u64 = 5 * 1024 * MIB;
/// The most parts one upload can have.
pub const MAX_PARTS: u32 = 10_000;
/// The largest object S3 accepts (5 TiB).
pub const MAX_UPLOAD_SIZE: u64 = 5 * 1024 * 1024 * MIB;
/// The smallest part size chosen when none is given, and the part size of
/// streams of unknown length and of readers (whose parts are held in memory).
pub const DEFAULT_PART_SIZE: u64 = 8 * MIB;
/// The number of parts a file (or bytes in memory) is cut into when no part
/// size is given, as long as the parts stay within [`DEFAULT_PART_SIZE`] and
/// [`MAX_DEFAULT_PART_SIZE`]: four rounds of the default eight connections.
///
/// Every request pays a round trip before its bytes flow, so bigger parts pay
/// it less often: at 40 ms per request and 25 MB/s per connection, a
/// connection is busy at most 89% of the time with 8 MiB parts, 94% with
/// 16 MiB and 97% with 32 MiB. File parts are streamed from the file as they
/// are sent (never held in memory), so a bigger part costs no memory; it only
/// costs more to send again when it fails.
pub(crate) const TARGET_PARTS: u64 = 32;
/// The largest part size chosen when none is given (unless S3's 10,000-part
/// limit needs more: sources above 625 GiB).
pub(crate) const MAX_DEFAULT_PART_SIZE: u64 = 64 * MIB;

/// The part size chosen for a file (or bytes in memory) of `total_size` bytes
/// when none is given: `total_size / 32` in whole MiB, within
/// [`DEFAULT_PART_SIZE`] (8 MiB, up to 256 MiB) and [`MAX_DEFAULT_PART_SIZE`]
/// (64 MiB, from 2 GiB), or the smallest whole number of MiB that keeps the
/// upload within 10,000 parts (100 MiB: 8 MiB parts; 1 GiB: 32 MiB;
/// 10 GiB: 64 MiB).
pub(crate) fn default_part_size(total_size: u64) -> u64 {
    total_size
        .div_ceil(TARGET_PARTS)
        .div_ceil(MIB)
        .saturating_mul(MIB)
        .clamp(DEFAULT_PART_SIZE, MAX_DEFAULT_PART_SIZE)
        .max(min_part_size_for(total_size))
}

/// The runs of equal parts of a plan: each lead round (`Some(count)`, size),
/// then the parts of `part_size` (`None`: as many as needed).
fn runs(lead: Option<LeadParts>, part_size: u64) -> impl Iterator<Item = (Option<u32>, u64)> {
    lead.into_iter()
        .flat_map(move |lead| {
            std::iter::successors(Some(lead.part_size), |size| size.checked_mul(2))
                .take_while(move |size| *size < part_size)
                .map(move |size| (Some(lead.count), size))
        })
        .chain(std::iter::once((None, part_size)))
}

/// `n` rounded up to a whole number of MiB.
fn whole_mib(n: u64) -> u64 {
    n.div_ceil(MIB).saturating_mul(MIB)
}

/// The smallest whole number of MiB that cuts `total_size` into at most
/// 10,000 parts.
fn min_part_size_for(total_size: u64) -> u64 {
    total_size
        .div_ceil(u64::from(MAX_PARTS))
        .div_ceil(MIB)
        .saturating_mul(MIB)
}

/// Smaller parts at the start of an upload, in rounds of `count` parts (one
/// per connection): the first round's parts are `part_size` bytes, each next
/// round's twice the size of the one before, as long as that is smaller than
/// the plan's [`part_size`](PartPlan::part_size); then parts of that size.
///
/// Why: a part's `Content-MD5` must be known before its first byte is sent,
/// so a part is read and hashed before it starts. Small first parts let every
/// connection start sending at once, and each round gives the hashing the
/// time to get the next, bigger round ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeadParts {
    /// How many parts (at least 1).
    pub count: u32,
    /// The size of each (within S3's 5 MiB to 5 GiB).
    pub part_size: u64,
}

/// The number of rounds of full-size parts (each connection sending one)
/// that [`PartPlan::for_connections`] cuts a source into after its lead
/// parts: a whole number of rounds, so the connections finish together.
pub(crate) const TARGET_ROUNDS: u64 = 4;

/// How a source of a given size is cut into parts: optionally a few
/// [`LeadParts`], then parts of [`part_size`](Self::part_size), the last one
/// shorter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartPlan {
    total_size: u64,
    part_size: u64,
    part_count: u32,
    lead: Option<LeadParts>,
}

impl PartPlan {
    /// Plans a new upload of `total_size` bytes in parts of one size.
    ///
    /// `requested` (default: about 1/32 of the size, 8 to 64 MiB) must be within 5 MiB and
    /// 5 GiB; it is grown (to a whole number of MiB) when the source would
    /// otherwise need more than 10,000 parts.
    pub fn new(total_size: u64, requested: Option<u64>) -> Result<Self, ValidationError> {
        check_total(total_size)?;
        let requested = requested.unwrap_or_else(|| default_part_size(total_size));
        check_part_size(requested)?;
        let part_size = requested.max(min_part_size_for(total_size));
        // needed <= ceil(5 TiB / 10000) rounded to MiB = 525 MiB < MAX_PART_SIZE.
        Self::exact(total_size, part_size)
    }

    /// Plans a new upload of `total_size` bytes sent over `connections`
    /// connections, when no part size is given: [`LeadParts`] starting at
    /// [`DEFAULT_PART_SIZE`] (one part per connection per round, doubling),
    /// then the rest in four rounds of one part per connection
    /// (parts of 8 to 64 MiB, in whole MiB; more rounds when 64 MiB parts are
    /// not enough, and bigger parts when 10,000 parts are not enough). A
    /// source too small for parts above 8 MiB is planned by
    /// [`PartPlan::new`] (8 MiB parts).
    ///
    /// ```
    /// use fanvue_api_ext::upload::plan::PartPlan;
    /// const MIB: u64 = 1024 * 1024;
    /// let plan = PartPlan::for_connections(1024 * MIB, 8).unwrap();
    /// // 8 parts of 8 MiB, 8 of 16 MiB, then 32 (4 rounds of 8) of 26 MiB.
    /// let lead = plan.lead().unwrap();
    /// assert_eq!((lead.count, lead.part_size), (8, 8 * MIB));
    /// assert_eq!((plan.part_size(), plan.part_count()), (26 * MIB, 48));
    /// assert_eq!(plan.len_of(9), 16 * MIB);
    /// ```
    pub fn for_connections(total_size: u64, connections: usize) -> Result<Self, ValidationError> {
        check_total(total_size)?;
        let per_round = u32::try_from(connections.clamp(1, 64)).unwrap_or(1);
        let lead = LeadParts {
            count: per_round,
            part_size: DEFAULT_PART_SIZE,
        };
        let per_round = u64::from(per_round);
        // The part size for `rest` bytes after `lead_count` lead parts.
        let size_for = |rest: u64, lead_count: u32| {
            let room = u64::from(MAX_PARTS.saturating_sub(lead_count)).max(1);
            whole_mib(rest.div_ceil(TARGET_ROUNDS.saturating_mul(per_round)))
                .clamp(DEFAULT_PART_SIZE, MAX_DEFAULT_PART_SIZE)
                .max(whole_mib(rest.div_ceil(room)))
        };
        // First with one lead round, then with the lead rounds that size gives.
        let first_round = per_round.saturating_mul(DEFAULT_PART_SIZE);
        let guess = size_for(total_size.saturating_sub(first_round), lead.count);
        if guess <= DEFAULT_PART_SIZE {
            return Self::new(total_size, None);
        }
        let (lead_count, lead_bytes) = runs(Some(lead), guess)
            .filter_map(|(count, size)| Some((count?, u64::from(count?).saturating_mul(size))))
            .fold((0u32, 0u64), |(c, b), (count, bytes)| {
                (c.saturating_add(count), b.saturating_add(bytes))
            });
        let part_size = size_for(total_size.saturating_sub(lead_bytes), lead_count);
        // A plan past 10,000 parts cannot come out of this, but if it did,
        // parts of one size always fit.
        Self::with_lead(total_size, lead, part_size).or_else(|_| Self::new(total_size, None))
    }

    /// The plan of an upload whose part size is already fixed (a resume).
    pub fn exact(total_size: u64, part_size: u64) -> Result<Self, ValidationError> {
        check_total(total_size)?;
        check_part_size(part_size)?;
        let count = total_size.div_ceil(part_size);
        let part_count = Self::count_within_limit(count, total_size, part_size)?;
        Ok(Self {
            total_size,
            part_size,
            part_count,
            lead: None,
        })
    }

    /// The plan of an upload with lead parts (fixed sizes: a resume, or
    /// [`PartPlan::for_connections`]).
    pub fn with_lead(
        total_size: u64,
        lead: LeadParts,
        part_size: u64,
    ) -> Result<Self, ValidationError> {
        check_total(total_size)?;
        check_part_size(part_size)?;
        check_part_size(lead.part_size)?;
        if lead.count == 0 {
            return Err(ValidationError::BadResumeState(
                "lead parts: the count is 0".into(),
            ));
        }
        let mut count = 0u64;
        let mut left = total_size;
        for (run, size) in runs(Some(lead), part_size) {
            let run_bytes = run.map_or(u64::MAX, |c| u64::from(c).saturating_mul(size));
            if left <= run_bytes {
                count = count.saturating_add(left.div_ceil(size));
                break;
            }
            left = left.saturating_sub(run_bytes);
            count = count.saturating_add(run.map_or(0, u64::from));
        }
        let part_count = Self::count_within_limit(count, total_size, part_size)?;
        Ok(Self {
            total_size,
            part_size,
            part_count,
            lead: Some(lead),
        })
    }

    fn count_within_limit(
        count: u64,
        total_size: u64,
        part_size: u64,
    ) -> Result<u32, ValidationError> {
        u32::try_from(count)
            .ok()
            .filter(|c| *c <= MAX_PARTS)
            .ok_or_else(|| {
                ValidationError::BadResumeState(format!(
                    "{total_size} bytes in parts of {part_size} makes {count} parts, more than {MAX_PARTS}"
                ))
            })
    }

    /// The lead parts, when the plan starts with smaller parts.
    pub fn lead(&self) -> Option<LeadParts> {
        self.lead
    }

    /// The size of the source.
    pub fn total_size(&self) -> u64 {
        self.total_size
    }

    /// The size of every part but the lead parts and the last.
    pub fn part_size(&self) -> u64 {
        self.part_size
    }

    /// The number of parts (1 to 10,000).
    pub fn part_count(&self) -> u32 {
        self.part_count
    }

    /// The byte range of part `n` (1-based), or `None` when out of range.
    pub fn range(&self, n: u32) -> Option<Range<u64>> {
        if n == 0 || n > self.part_count {
            return None;
        }
        // Fewer than 10,000 parts of at most 5 GiB: no overflow.
        let mut index = n.saturating_sub(1);
        let mut start = 0u64;
        for (run, size) in runs(self.lead, self.part_size) {
            match run {
                Some(count) if index >= count => {
                    start = start.saturating_add(u64::from(count).saturating_mul(size));
                    index = index.saturating_sub(count);
                }
                _ => {
                    let start = start.saturating_add(u64::from(index).saturating_mul(size));
                    return Some(start..start.saturating_add(size).min(self.total_size));
                }
            }
        }
        None
    }

    /// The length of part `n` (0 when out of range).
    pub fn len_of(&self, n: u32) -> u64 {
        self.range(n).map_or(0, |r| r.end.saturating_sub(r.start))
    }
}

fn check_total(total_size: u64) -> Result<(), ValidationError> {
    if total_size == 0 {
        return Err(ValidationError::EmptySource);
    }
    if total_size > MAX_UPLOAD_SIZE {
        return Err(ValidationError::SourceTooLarge {
            size: total_size,
            max: MAX_UPLOAD_SIZE,
        });
    }
    Ok(())
}

fn check_part_size(part_size: u64) -> Result<(), ValidationError> {
    if part_size < MIN_PART_SIZE {
        return Err(ValidationError::PartSizeTooSmall {
            part_size,
            min: MIN_PART_SIZE,
        });
    }
    if part_size > MAX_PART_SIZE {
        return Err(ValidationError::PartSizeTooLarge {
            part_size,
            max: MAX_PART_SIZE,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_part_sizes() {
        assert_eq!(default_part_size(100 * MIB), 8 * MIB);
        assert_eq!(default_part_size(1024 * MIB), 32 * MIB);
        assert_eq!(default_part_size(10 * 1024 * MIB), 64 * MIB);
    }

    fn assert_valid(plan: &PartPlan) {
        assert!(plan.part_count() >= 1 && plan.part_count() <= MAX_PARTS);
        assert!(plan.part_size() <= MAX_PART_SIZE);
        let mut covered = 0;
        for n in 1..=plan.part_count() {
            let r = plan.range(n).unwrap();
            assert_eq!(r.start, covered);
            covered = r.end;
            if n < plan.part_count() {
                assert!(r.end - r.start >= MIN_PART_SIZE);
            }
            assert!(r.end > r.start);
        }
        assert_eq!(covered, plan.total_size());
        assert!(plan.range(0).is_none());
        assert!(plan.range(plan.part_count() + 1).is_none());
    }

    #[test]
    fn small_sizes_are_one_part() {
        for size in [1, 1000, MIN_PART_SIZE, DEFAULT_PART_SIZE] {
            let plan = PartPlan::new(size, None).unwrap();
            assert_eq!(plan.part_count(), 1, "{size}");
            assert_eq!(plan.len_of(1), size);
            assert_valid(&plan);
        }
    }

    #[test]
    fn boundaries_around_the_part_size() {
        let plan = PartPlan::new(MIN_PART_SIZE + 1, Some(MIN_PART_SIZE)).unwrap();
        assert_eq!(plan.part_count(), 2);
        assert_eq!(plan.len_of(2), 1);
        assert_valid(&plan);
        let plan = PartPlan::new(3 * MIN_PART_SIZE, Some(MIN_PART_SIZE)).unwrap();
        assert_eq!(plan.part_count(), 3);
        assert_valid(&plan);
    }

    #[test]
    fn part_size_grows_for_huge_sources() {
        let size = 200 * 1024 * MIB; // 200 GiB needs > 10,000 parts of 8 MiB
        let plan = PartPlan::new(size, None).unwrap();
        assert!(plan.part_size() > DEFAULT_PART_SIZE);
        assert_eq!(plan.part_size() % MIB, 0);
        assert_valid(&plan);
        let plan = PartPlan::new(MAX_UPLOAD_SIZE, Some(MIN_PART_SIZE)).unwrap();
        assert_eq!(plan.part_count(), plan.part_count().min(MAX_PARTS));
        assert!(plan.part_size() <= MAX_PART_SIZE);
        assert_valid(&plan);
    }

    const GIB: u64 = 1024 * MIB;

    #[test]
    fn planner_edges() {
        // 0 bytes: a clear error, nothing planned.
        assert_eq!(PartPlan::new(0, None), Err(ValidationError::EmptySource));
        // Exactly 5 MiB: one part of 5 MiB.
        let plan = PartPlan::new(5 * MIB, None).unwrap();
        assert_eq!((plan.part_count(), plan.len_of(1)), (1, 5 * MIB));
        assert_valid(&plan);
        // Defaults: 8 MiB parts up to 256 MiB, then about 32 parts, 64 MiB from 2 GiB.
        assert_eq!(PartPlan::new(256 * MIB, None).unwrap().part_size(), 8 * MIB);
        let plan = PartPlan::new(256 * MIB + 1, None).unwrap();
        assert_eq!((plan.part_size(), plan.part_count()), (9 * MIB, 29));
        assert_eq!(PartPlan::new(GIB, None).unwrap().part_count(), 32);
        assert_eq!(PartPlan::new(GIB, None).unwrap().part_size(), 32 * MIB);
        assert_eq!(PartPlan::new(2 * GIB, None).unwrap().part_size(), 64 * MIB);
        assert_eq!(
            PartPlan::new(600 * GIB, None).unwrap().part_size(),
            64 * MIB
        );
        // Readers (parts held in memory) keep 8 MiB parts until 10,000 parts need more.
        let reader = |size| {
            PartPlan::new(size, Some(DEFAULT_PART_SIZE))
                .unwrap()
                .part_size()
        };
        assert_eq!(reader(GIB), 8 * MIB);
        assert_eq!(reader(80 * GIB + 1), 9 * MIB);
        // 80 GiB + 1 byte with 8 MiB parts would need 10,241 parts: grown to 9 MiB.
        let plan = PartPlan::new(80 * GIB + 1, Some(8 * MIB)).unwrap();
        assert_eq!(plan.part_size(), 9 * MIB);
        assert_eq!(plan.part_count(), 9103);
        assert_eq!(plan.len_of(9103), 80 * GIB + 1 - 9102 * 9 * MIB);
        assert_valid(&plan);
        // With the defaults 64 MiB parts: 1281 parts, the last 1 byte.
        let plan = PartPlan::new(80 * GIB + 1, None).unwrap();
        assert_eq!(
            (plan.part_size(), plan.part_count(), plan.len_of(1281)),
            (64 * MIB, 1281, 1)
        );
        assert_valid(&plan);
        // The largest accepted size: 5 TiB, 10,000 parts of 525 MiB at most.
        let plan = PartPlan::new(MAX_UPLOAD_SIZE, None).unwrap();
        assert_eq!(plan.part_size(), 525 * MIB);
        assert_eq!(plan.part_count(), 9987);
        assert_valid(&plan);
        // One byte more: a clear error naming both sizes.
        let err = PartPlan::new(MAX_UPLOAD_SIZE + 1, None).unwrap_err();
        assert_eq!(
            err,
            ValidationError::SourceTooLarge {
                size: MAX_UPLOAD_SIZE + 1,
                max: MAX_UPLOAD_SIZE
            }
        );
        assert!(err.to_string().contains("5497558138881"), "{err}");
    }

    #[test]
    fn lead_parts_start_every_connection_then_whole_rounds() {
        // Too small for lead parts: one size (`default_part_size`).
        let plan = PartPlan::for_connections(320 * MIB, 8).unwrap();
        assert_eq!((plan.lead(), plan.part_size()), (None, 10 * MIB));
        assert_valid(&plan);
        // Just above: 8 lead parts of 8 MiB, then 9 MiB parts.
        let plan = PartPlan::for_connections(320 * MIB + 1, 8).unwrap();
        let lead = LeadParts {
            count: 8,
            part_size: 8 * MIB,
        };
        assert_eq!(plan.lead(), Some(lead));
        assert_eq!((plan.part_size(), plan.part_count()), (9 * MIB, 8 + 29));
        assert_valid(&plan);
        // 1 GiB: 8 × 8 MiB, 8 × 16 MiB, then 32 × 26 MiB.
        let plan = PartPlan::for_connections(GIB, 8).unwrap();
        assert_eq!((plan.part_size(), plan.part_count()), (26 * MIB, 48));
        assert_eq!(plan.range(8).unwrap(), 56 * MIB..64 * MIB);
        assert_eq!(plan.range(9).unwrap(), 64 * MIB..80 * MIB);
        assert_eq!(plan.range(17).unwrap(), 192 * MIB..218 * MIB);
        assert_eq!(plan.range(48).unwrap(), 998 * MIB..GIB);
        assert_valid(&plan);
        // Parts stop growing at 64 MiB: more rounds instead (lead 8, 16, 32 MiB).
        let plan = PartPlan::for_connections(80 * GIB + 1, 8).unwrap();
        assert_eq!(plan.part_size(), 64 * MIB);
        assert_eq!(plan.part_count(), 24 + (80 * 1024 - 448) / 64 + 1);
        assert_eq!(plan.len_of(plan.part_count()), 1);
        assert_valid(&plan);
        // One connection: lead rounds of one part.
        let plan = PartPlan::for_connections(GIB, 1).unwrap();
        assert_eq!((plan.part_size(), plan.part_count()), (64 * MIB, 3 + 16));
        assert_valid(&plan);
        // The largest source still fits 10,000 parts, with 1 to 64 connections.
        for connections in [1, 8, 64, 1000] {
            let plan = PartPlan::for_connections(MAX_UPLOAD_SIZE, connections).unwrap();
            assert!(plan.part_count() <= MAX_PARTS, "{connections}");
            assert_valid(&plan);
        }
        assert!(matches!(
            PartPlan::for_connections(MAX_UPLOAD_SIZE + 1, 8),
            Err(ValidationError::SourceTooLarge { .. })
        ));
        assert_eq!(
            PartPlan::for_connections(0, 8),
            Err(ValidationError::EmptySource)
        );
        // Lead parts covering the whole source (a resume state may say so).
        let lead = LeadParts {
            count: 4,
            part_size: 5 * MIB,
        };
        let plan = PartPlan::with_lead(12 * MIB, lead, 64 * MIB).unwrap();
        assert_eq!(plan.part_count(), 3);
        assert_valid(&plan);
        let plan = PartPlan::with_lead(30 * MIB, lead, 64 * MIB).unwrap();
        assert_eq!((plan.part_count(), plan.len_of(5)), (5, 10 * MIB));
        assert_valid(&plan);
        assert!(matches!(
            PartPlan::with_lead(GIB, LeadParts { count: 0, ..lead }, 64 * MIB),
            Err(ValidationError::BadResumeState(_))
        ));
        assert!(matches!(
            PartPlan::with_lead(
                GIB,
                LeadParts {
                    count: 1,
                    part_size: MIB
                },
                64 * MIB
            ),
            Err(ValidationError::PartSizeTooSmall { .. })
        ));
        assert!(matches!(
            PartPlan::with_lead(MAX_UPLOAD_SIZE, lead, 5 * MIB),
            Err(ValidationError::BadResumeState(_))
        ));
    }

    #[test]
    fn default_part_size_covers_every_accepted_size() {
        let sizes = [
            1,
            5 * MIB,
            256 * MIB,
            256 * MIB + 1,
            GIB,
            2 * GIB,
            625 * GIB,
            625 * GIB + 1,
            156 * GIB,
            157 * GIB,
            1024 * GIB,
            MAX_UPLOAD_SIZE,
        ];
        for size in sizes {
            let reader = PartPlan::new(size, Some(DEFAULT_PART_SIZE))
                .unwrap()
                .part_size();
            for part in [default_part_size(size), reader] {
                assert!((MIN_PART_SIZE..=MAX_PART_SIZE).contains(&part), "{size}");
                assert!(size.div_ceil(part) <= u64::from(MAX_PARTS), "{size}");
                assert_eq!(part % MIB, 0);
            }
        }
    }

    #[test]
    fn rejects_bad_sizes() {
        assert_eq!(PartPlan::new(0, None), Err(ValidationError::EmptySource));
        assert!(matches!(
            PartPlan::new(MAX_UPLOAD_SIZE + 1, None),
            Err(ValidationError::SourceTooLarge { .. })
        ));
        assert!(matches!(
            PartPlan::new(10, Some(MIN_PART_SIZE - 1)),
            Err(ValidationError::PartSizeTooSmall { .. })
        ));
        assert!(matches!(
            PartPlan::new(10, Some(MAX_PART_SIZE + 1)),
            Err(ValidationError::PartSizeTooLarge { .. })
        ));
        assert!(matches!(
            PartPlan::exact(MAX_UPLOAD_SIZE, MIN_PART_SIZE),
            Err(ValidationError::BadResumeState(_))
        ));
    }
}
