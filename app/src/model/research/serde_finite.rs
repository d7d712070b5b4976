//! Serde for `f64` result fields that may be NaN or ±∞, which JSON cannot hold: written as
//! `null`, read back as NaN.

/// Serde for plain `f64` result fields. JSON has no NaN or ±∞ (serde_json writes them as
/// `null`), so a non-finite value is written as `null` and a `null` reads back as NaN, which
/// the views show as "—". Finite values round-trip unchanged, so a stored result can always be
/// read back.
pub mod finite_or_null {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `v`, or `null` when it is not finite.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }

    /// Reads a number, or NaN for `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// [`finite_or_null`] for every element of a `Vec<f64>`.
pub mod finite_vec_or_null {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes the values, `null` for the non-finite ones.
    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        v.iter()
            .map(|x| x.is_finite().then_some(*x))
            .collect::<Vec<Option<f64>>>()
            .serialize(s)
    }

    /// Reads the values, NaN for each `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<Option<f64>>::deserialize(d)?
            .into_iter()
            .map(|x| x.unwrap_or(f64::NAN))
            .collect())
    }
}
