//! Conversions used by the generated list-trait impls, so they work whatever
//! Rust type the generator picked for a field (integer width, optionality).

use std::num::{NonZeroU32, NonZeroU64};

/// A page number as `u64`.
pub(crate) trait ToU64 {
    fn to_u64(&self) -> Option<u64>;
}

macro_rules! to_u64_int {
    ($($t:ty),*) => {$(
        impl ToU64 for $t {
            fn to_u64(&self) -> Option<u64> {
                u64::try_from(*self).ok()
            }
        }
    )*};
}
to_u64_int!(u8, u16, u32, u64, i8, i16, i32, i64);

impl ToU64 for NonZeroU64 {
    fn to_u64(&self) -> Option<u64> {
        Some(self.get())
    }
}

impl ToU64 for NonZeroU32 {
    fn to_u64(&self) -> Option<u64> {
        Some(u64::from(self.get()))
    }
}

impl ToU64 for f64 {
    fn to_u64(&self) -> Option<u64> {
        (self.is_finite() && *self >= 0.0 && self.fract() == 0.0 && *self <= u64::MAX as f64)
            .then_some(*self as u64)
    }
}

impl<T: ToU64> ToU64 for Option<T> {
    fn to_u64(&self) -> Option<u64> {
        self.as_ref().and_then(ToU64::to_u64)
    }
}

/// A flag as `bool`.
pub(crate) trait ToBool {
    fn to_bool(&self) -> Option<bool>;
}

impl ToBool for bool {
    fn to_bool(&self) -> Option<bool> {
        Some(*self)
    }
}

impl ToBool for Option<bool> {
    fn to_bool(&self) -> Option<bool> {
        *self
    }
}

/// The `data` array, required or not.
pub(crate) trait IntoItems<T> {
    fn into_items(self) -> Vec<T>;
}

impl<T> IntoItems<T> for Vec<T> {
    fn into_items(self) -> Vec<T> {
        self
    }
}

impl<T> IntoItems<T> for Option<Vec<T>> {
    fn into_items(self) -> Vec<T> {
        self.unwrap_or_default()
    }
}

/// The next cursor; an empty string counts as the end.
pub(crate) trait IntoCursor {
    fn into_cursor(self) -> Option<String>;
}

impl IntoCursor for Option<String> {
    fn into_cursor(self) -> Option<String> {
        self.filter(|c| !c.is_empty())
    }
}

impl IntoCursor for String {
    fn into_cursor(self) -> Option<String> {
        (!self.is_empty()).then_some(self)
    }
}
