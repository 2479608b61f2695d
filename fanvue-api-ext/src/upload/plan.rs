//! Part planning within S3's multipart rules: part numbers 1 to 10,000, every
//! part but the last at least 5 MiB, at most 5 GiB a part, at most 5 TiB in all.

use std::ops::Range;

use super::error::ValidationError;

/// One mebibyte.
pub const MIB: u64 = 1024 * 1024;
/// The smallest part S3 accepts (all parts but the last).
pub const MIN_PART_SIZE: u64 = 5 * MIB;
/// The largest part S3 accepts.
pub const MAX_PART_SIZE: u64 = 5 * 1024 * MIB;
/// The most parts one upload can have.
pub const MAX_PARTS: u32 = 10_000;
/// The largest object S3 accepts (5 TiB).
pub const MAX_UPLOAD_SIZE: u64 = 5 * 1024 * 1024 * MIB;
/// The part size used when none is given, for sources below
/// [`LARGE_SOURCE`] and for streams of unknown length.
pub const DEFAULT_PART_SIZE: u64 = 8 * MIB;
/// The part size used when none is given for sources of [`LARGE_SOURCE`]
/// or more (grown further for sources above ~156 GiB, as S3's 10,000-part
/// limit requires).
pub const LARGE_PART_SIZE: u64 = 16 * MIB;
/// From this size on, the default part size is [`LARGE_PART_SIZE`]: every
/// request pays a round trip before its bytes flow, and bigger parts pay it
/// less often (at 40 ms per request and 25 MB/s per connection, 8 MiB parts
/// can keep a connection busy at most 89% of the time, 16 MiB parts 94%).
pub const LARGE_SOURCE: u64 = 512 * MIB;

/// The part size chosen for a source of `total_size` bytes when none is
/// given: [`DEFAULT_PART_SIZE`], or [`LARGE_PART_SIZE`] from
/// [`LARGE_SOURCE`] on, or the smallest whole number of MiB that keeps the
/// upload within 10,000 parts.
pub fn default_part_size(total_size: u64) -> u64 {
    let base = if total_size >= LARGE_SOURCE {
        LARGE_PART_SIZE
    } else {
        DEFAULT_PART_SIZE
    };
    base.max(min_part_size_for(total_size))
}

/// The smallest whole number of MiB that cuts `total_size` into at most
/// 10,000 parts.
fn min_part_size_for(total_size: u64) -> u64 {
    total_size
        .div_ceil(u64::from(MAX_PARTS))
        .div_ceil(MIB)
        .saturating_mul(MIB)
}

/// How a source of a given size is cut into parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartPlan {
    total_size: u64,
    part_size: u64,
    part_count: u32,
}

impl PartPlan {
    /// Plans a new upload of `total_size` bytes.
    ///
    /// `requested` (default [`default_part_size`]) must be within 5 MiB and
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

    /// The plan of an upload whose part size is already fixed (a resume).
    pub fn exact(total_size: u64, part_size: u64) -> Result<Self, ValidationError> {
        check_total(total_size)?;
        check_part_size(part_size)?;
        let count = total_size.div_ceil(part_size);
        let part_count = u32::try_from(count)
            .ok()
            .filter(|c| *c <= MAX_PARTS)
            .ok_or_else(|| {
                ValidationError::BadResumeState(format!(
                    "{total_size} bytes in parts of {part_size} makes {count} parts, more than {MAX_PARTS}"
                ))
            })?;
        Ok(Self {
            total_size,
            part_size,
            part_count,
        })
    }

    /// The size of the source.
    pub fn total_size(&self) -> u64 {
        self.total_size
    }

    /// The size of every part but the last.
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
        // n - 1 < 10,000 and part_size <= 5 GiB: no overflow.
        let start = u64::from(n.saturating_sub(1)).saturating_mul(self.part_size);
        let end = start.saturating_add(self.part_size).min(self.total_size);
        Some(start..end)
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
        // Defaults: 8 MiB parts below 512 MiB, 16 MiB from there.
        assert_eq!(
            PartPlan::new(LARGE_SOURCE - 1, None).unwrap().part_size(),
            8 * MIB
        );
        assert_eq!(
            PartPlan::new(LARGE_SOURCE, None).unwrap().part_size(),
            16 * MIB
        );
        assert_eq!(PartPlan::new(GIB, None).unwrap().part_count(), 64);
        // 80 GiB + 1 byte with 8 MiB parts would need 10,241 parts: grown to 9 MiB.
        let plan = PartPlan::new(80 * GIB + 1, Some(8 * MIB)).unwrap();
        assert_eq!(plan.part_size(), 9 * MIB);
        assert_eq!(plan.part_count(), 9103);
        assert_eq!(plan.len_of(9103), 80 * GIB + 1 - 9102 * 9 * MIB);
        assert_valid(&plan);
        // With the defaults 16 MiB parts still fit: 5121 parts, the last 1 byte.
        let plan = PartPlan::new(80 * GIB + 1, None).unwrap();
        assert_eq!(
            (plan.part_size(), plan.part_count(), plan.len_of(5121)),
            (16 * MIB, 5121, 1)
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
    fn default_part_size_covers_every_accepted_size() {
        let sizes = [
            1,
            5 * MIB,
            512 * MIB - 1,
            512 * MIB,
            156 * GIB,
            157 * GIB,
            1024 * GIB,
            MAX_UPLOAD_SIZE,
        ];
        for size in sizes {
            let part = default_part_size(size);
            assert!((MIN_PART_SIZE..=MAX_PART_SIZE).contains(&part), "{size}");
            assert!(size.div_ceil(part) <= u64::from(MAX_PARTS), "{size}");
            assert_eq!(part % MIB, 0);
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
