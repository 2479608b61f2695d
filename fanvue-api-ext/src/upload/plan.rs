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
/// The part size used when none is given (grown for files above ~78 GiB).
pub const DEFAULT_PART_SIZE: u64 = 8 * MIB;

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
    /// `requested` (default [`DEFAULT_PART_SIZE`]) must be within 5 MiB and
    /// 5 GiB; it is grown (to a whole number of MiB) when the source would
    /// otherwise need more than 10,000 parts.
    pub fn new(total_size: u64, requested: Option<u64>) -> Result<Self, ValidationError> {
        check_total(total_size)?;
        let requested = requested.unwrap_or(DEFAULT_PART_SIZE);
        check_part_size(requested)?;
        let needed = total_size.div_ceil(u64::from(MAX_PARTS)).div_ceil(MIB) * MIB;
        let part_size = requested.max(needed);
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
        let start = u64::from(n - 1) * self.part_size;
        let end = (start + self.part_size).min(self.total_size);
        Some(start..end)
    }

    /// The length of part `n` (0 when out of range).
    pub fn len_of(&self, n: u32) -> u64 {
        self.range(n).map_or(0, |r| r.end - r.start)
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
