//! Integers that arrive as JSON floats.
//!
//! The spec's integers are sent by some servers as `3840.0`. The build script
//! adds `#[serde(deserialize_with = "crate::int::field::<_, _, N>")]` to every
//! generated field whose type holds an integer (also inside `Option`, `Vec`
//! and maps), so the field keeps its plain integer type but accepts an
//! integral float; a fractional or out-of-range number is an error naming the
//! type and field (`Media.width`).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;
use std::num::{NonZeroI64, NonZeroU32, NonZeroU64};

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// A type that decodes from an integer, an integral float, or a container of them.
pub trait Lenient: Sized {
    /// Decodes the value.
    fn lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error>;
}

/// The `deserialize_with` function of generated integer fields: `N` indexes
/// the table of field names used in error messages.
pub fn field<'de, D, T, const N: usize>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Lenient,
{
    T::lenient(deserializer).map_err(|e| {
        let name = crate::generated::INT_FIELDS.get(N).copied().unwrap_or("?");
        de::Error::custom(format_args!("field `{name}`: {e}"))
    })
}

struct IntVisitor<T>(PhantomData<T>);

macro_rules! lenient_int {
    ($($t:ty),*) => {$(
        impl<'de> Visitor<'de> for IntVisitor<$t> {
            type Value = $t;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "an integer fitting {}", stringify!($t))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<$t, E> {
                <$t>::try_from(v).map_err(|_| E::custom(format_args!("{v} does not fit {}", stringify!($t))))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<$t, E> {
                <$t>::try_from(v).map_err(|_| E::custom(format_args!("{v} does not fit {}", stringify!($t))))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<$t, E> {
                if !v.is_finite() || v.fract() != 0.0 {
                    return Err(E::custom(format_args!("expected an integer, got {v}")));
                }
                // Integral and finite: the conversion is exact within i128.
                if v.abs() >= 1.7e38 {
                    return Err(E::custom(format_args!("{v} does not fit {}", stringify!($t))));
                }
                let wide = v as i128;
                <$t>::try_from(wide).map_err(|_| E::custom(format_args!("{v} does not fit {}", stringify!($t))))
            }
        }

        impl Lenient for $t {
            fn lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_any(IntVisitor::<$t>(PhantomData))
            }
        }
    )*};
}
lenient_int!(i8, i16, i32, i64, u8, u16, u32, u64);

macro_rules! lenient_nonzero {
    ($($nz:ty => $t:ty),*) => {$(
        impl Lenient for $nz {
            fn lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let n = <$t>::lenient(deserializer)?;
                <$nz>::new(n).ok_or_else(|| de::Error::custom("expected a non-zero integer, got 0"))
            }
        }
    )*};
}
lenient_nonzero!(NonZeroU64 => u64, NonZeroU32 => u32, NonZeroI64 => i64);

/// Decodes a `T` through [`Lenient`] inside containers.
struct Wrap<T>(T);

impl<'de, T: Lenient> Deserialize<'de> for Wrap<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::lenient(deserializer).map(Wrap)
    }
}

impl<T: Lenient> Lenient for Option<T> {
    fn lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Option::<Wrap<T>>::deserialize(deserializer)?.map(|w| w.0))
    }
}

impl<T: Lenient> Lenient for Vec<T> {
    fn lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Vec::<Wrap<T>>::deserialize(deserializer)?
            .into_iter()
            .map(|w| w.0)
            .collect())
    }
}

impl<K, V> Lenient for HashMap<K, V>
where
    K: for<'a> Deserialize<'a> + Eq + Hash,
    V: Lenient,
{
    fn lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(HashMap::<K, Wrap<V>>::deserialize(deserializer)?
            .into_iter()
            .map(|(k, w)| (k, w.0))
            .collect())
    }
}

impl<K, V> Lenient for BTreeMap<K, V>
where
    K: for<'a> Deserialize<'a> + Ord,
    V: Lenient,
{
    fn lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(BTreeMap::<K, Wrap<V>>::deserialize(deserializer)?
            .into_iter()
            .map(|(k, w)| (k, w.0))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de<T: Lenient>(json: &str) -> Result<T, serde_json::Error> {
        T::lenient(&mut serde_json::Deserializer::from_str(json))
    }

    #[test]
    fn integral_floats_decode() {
        assert_eq!(de::<i64>("3840.0").unwrap(), 3840);
        assert_eq!(de::<i64>("0.0").unwrap(), 0);
        assert_eq!(de::<i64>("-2.0").unwrap(), -2);
        assert_eq!(de::<u64>("7").unwrap(), 7);
        assert_eq!(de::<Option<i64>>("null").unwrap(), None);
        assert_eq!(de::<Option<i64>>("5.0").unwrap(), Some(5));
        assert_eq!(de::<Vec<i64>>("[1, 2.0]").unwrap(), vec![1, 2]);
        let map = de::<HashMap<String, i64>>(r#"{"a": 1.0}"#).unwrap();
        assert_eq!(map["a"], 1);
        assert_eq!(de::<NonZeroU64>("3.0").unwrap().get(), 3);
    }

    #[test]
    fn fractions_and_overflow_fail() {
        assert!(
            de::<i64>("3840.5")
                .unwrap_err()
                .to_string()
                .contains("3840.5")
        );
        assert!(de::<u64>("-1").is_err());
        assert!(de::<u64>("-1.0").is_err());
        assert!(de::<i64>("1e300").is_err());
        assert!(de::<NonZeroU64>("0.0").is_err());
        assert!(de::<Vec<i64>>("[1, 2.5]").is_err());
        assert!(de::<i64>("\"3\"").is_err());
    }
}
