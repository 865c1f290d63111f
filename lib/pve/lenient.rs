//! Reading what a Proxmox VE server sends, as it really sends it. PVE is
//! Perl: its JSON encoder writes a scalar as a number or a string depending
//! on how Perl last used it, and field types have changed between releases
//! (API-NOTES, "Types in answers"). So every field is a `Field<T>`: a number
//! is taken as a JSON number or a numeric string, a boolean as true/false,
//! 0/1, "0"/"1" or "" (false), text as a string or a number; absent and null
//! are alike. A value of no fitting kind is kept as `Malformed`, with what
//! it was, so that one bad field never fails a whole answer: the caller
//! decides (skip that guest, with a warning naming it and the field).

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// A field of an answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Field<T> {
    /// Absent, or null.
    #[default]
    Absent,
    /// There, and read as a `T`.
    Value(T),
    /// There, but of no kind that fits: what it was, for the warning.
    Malformed(String),
}

impl<T> Field<T> {
    /// The value, when there is one (a malformed one is none).
    pub fn get(self) -> Option<T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }

    /// The value, borrowed, when there is one.
    pub fn as_ref(&self) -> Option<&T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }

    /// The value of a field of a `Copy` kind, left in place.
    pub fn copied(&self) -> Option<T>
    where
        T: Copy,
    {
        self.as_ref().copied()
    }

    /// What was wrong with it, when something was.
    pub fn malformed(&self) -> Option<&str> {
        match self {
            Field::Malformed(what) => Some(what),
            _ => None,
        }
    }
}

impl Field<String> {
    /// The text, when there is some.
    pub fn str(&self) -> Option<&str> {
        self.as_ref().map(String::as_str)
    }
}

/// The kinds a field can hold, and how each JSON shape is read as one.
pub trait Kind: Sized {
    /// What a value of this kind is, for the warning: `a whole number`.
    const EXPECTED: &'static str;
    /// A JSON unsigned integer; `None` when it does not fit.
    fn from_u64(n: u64) -> Option<Self>;
    /// A JSON signed integer; `None` when it does not fit.
    fn from_i64(n: i64) -> Option<Self>;
    /// A JSON number with a fraction or an exponent; `None` when it does
    /// not fit.
    fn from_f64(n: f64) -> Option<Self>;
    /// A JSON boolean; `None` for a kind that takes none.
    fn from_bool(b: bool) -> Option<Self>;
    /// A JSON string; `None` when it does not read as this kind (a blank
    /// one is then taken as absent).
    fn from_str(s: &str) -> Option<Self>;
}

impl Kind for u64 {
    const EXPECTED: &'static str = "a whole number";
    fn from_u64(n: u64) -> Option<u64> {
        Some(n)
    }
    fn from_i64(n: i64) -> Option<u64> {
        u64::try_from(n).ok()
    }
    fn from_f64(n: f64) -> Option<u64> {
        // Sizes and times may come as floats (an average, `1.0e10`).
        (0.0..1.9e19).contains(&n).then_some(n as u64)
    }
    fn from_bool(_: bool) -> Option<u64> {
        None
    }
    fn from_str(s: &str) -> Option<u64> {
        let s = s.trim();
        s.parse()
            .ok()
            .or_else(|| s.parse::<f64>().ok().and_then(Self::from_f64))
    }
}

impl Kind for u32 {
    const EXPECTED: &'static str = "a whole number";
    fn from_u64(n: u64) -> Option<u32> {
        u32::try_from(n).ok()
    }
    fn from_i64(n: i64) -> Option<u32> {
        u32::try_from(n).ok()
    }
    fn from_f64(n: f64) -> Option<u32> {
        u64::from_f64(n).and_then(Self::from_u64)
    }
    fn from_bool(_: bool) -> Option<u32> {
        None
    }
    fn from_str(s: &str) -> Option<u32> {
        u64::from_str(s).and_then(Self::from_u64)
    }
}

impl Kind for i64 {
    const EXPECTED: &'static str = "a whole number";
    fn from_u64(n: u64) -> Option<i64> {
        i64::try_from(n).ok()
    }
    fn from_i64(n: i64) -> Option<i64> {
        Some(n)
    }
    fn from_f64(n: f64) -> Option<i64> {
        (n.is_finite() && n.fract() == 0.0 && n.abs() < 9.2e18).then_some(n as i64)
    }
    fn from_bool(_: bool) -> Option<i64> {
        None
    }
    fn from_str(s: &str) -> Option<i64> {
        s.trim().parse().ok()
    }
}

impl Kind for f64 {
    const EXPECTED: &'static str = "a number";
    fn from_u64(n: u64) -> Option<f64> {
        Some(n as f64)
    }
    fn from_i64(n: i64) -> Option<f64> {
        Some(n as f64)
    }
    fn from_f64(n: f64) -> Option<f64> {
        n.is_finite().then_some(n)
    }
    fn from_bool(_: bool) -> Option<f64> {
        None
    }
    fn from_str(s: &str) -> Option<f64> {
        s.trim().parse().ok().and_then(Self::from_f64)
    }
}

impl Kind for bool {
    const EXPECTED: &'static str = "a boolean";
    fn from_u64(n: u64) -> Option<bool> {
        match n {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
    fn from_i64(n: i64) -> Option<bool> {
        u64::try_from(n).ok().and_then(Self::from_u64)
    }
    fn from_f64(n: f64) -> Option<bool> {
        if n == 0.0 {
            Some(false)
        } else if n == 1.0 {
            Some(true)
        } else {
            None
        }
    }
    fn from_bool(b: bool) -> Option<bool> {
        Some(b)
    }
    fn from_str(s: &str) -> Option<bool> {
        match s.trim() {
            "" | "0" => Some(false),
            "1" => Some(true),
            _ => None,
        }
    }
}

impl Kind for String {
    const EXPECTED: &'static str = "text";
    fn from_u64(n: u64) -> Option<String> {
        Some(n.to_string())
    }
    fn from_i64(n: i64) -> Option<String> {
        Some(n.to_string())
    }
    fn from_f64(n: f64) -> Option<String> {
        Some(n.to_string())
    }
    fn from_bool(_: bool) -> Option<String> {
        None
    }
    fn from_str(s: &str) -> Option<String> {
        Some(s.to_string())
    }
}

impl<'de, T: Kind> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FieldVisitor(PhantomData))
    }
}

struct FieldVisitor<T>(PhantomData<T>);

fn got<T: Kind>(v: Option<T>, what: impl FnOnce() -> String) -> Field<T> {
    match v {
        Some(v) => Field::Value(v),
        None => Field::Malformed(format!("{}, not {}", what(), T::EXPECTED)),
    }
}

impl<'de, T: Kind> Visitor<'de> for FieldVisitor<T> {
    type Value = Field<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(T::EXPECTED)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Field<T>, E> {
        Ok(Field::Absent)
    }

    fn visit_none<E: de::Error>(self) -> Result<Field<T>, E> {
        Ok(Field::Absent)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Field<T>, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Field<T>, E> {
        Ok(got(T::from_bool(b), || format!("{b}")))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Field<T>, E> {
        Ok(got(T::from_u64(n), || n.to_string()))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Field<T>, E> {
        Ok(got(T::from_i64(n), || n.to_string()))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Field<T>, E> {
        Ok(got(T::from_f64(n), || n.to_string()))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Field<T>, E> {
        match T::from_str(s) {
            Some(v) => Ok(Field::Value(v)),
            // Perl's empty string: false for a flag, text for text, and
            // for a number, nothing.
            None if s.trim().is_empty() => Ok(Field::Absent),
            None => Ok(got(None, || crate::guest::names::quote(s))),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field<T>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Field::Malformed(format!("a list, not {}", T::EXPECTED)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field<T>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Field::Malformed(format!("an object, not {}", T::EXPECTED)))
    }
}

/// A field read from a `Value` already parsed (a config entry, a
/// property of a nested object).
pub fn read<T: Kind>(v: Option<&serde_json::Value>) -> Field<T> {
    match v {
        None => Field::Absent,
        Some(v) => Field::deserialize(v).unwrap_or_else(|e| Field::Malformed(e.to_string())),
    }
}

/// The first field of a record that is malformed, named: what a warning
/// about the record says.
pub fn first_malformed<'a>(fields: &[(&'a str, Option<&'a str>)]) -> Option<String> {
    fields
        .iter()
        .find_map(|(name, bad)| bad.map(|b| format!("its {name} is {b}")))
}

/// An entry of a list: a record, or something else that is skipped (with
/// what it was, for the warning) rather than failing the whole list.
#[derive(Debug)]
pub enum Item<T> {
    /// An object, read as a `T`.
    Record(T),
    /// Anything else (a list, null, a string…): what it was.
    Other(String),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Item<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ItemVisitor(PhantomData))
    }
}

struct ItemVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ItemVisitor<T> {
    type Value = Item<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Item<T>, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Item::Record)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Item<T>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Item::Other("a list, not an object".into()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Item<T>, E> {
        Ok(Item::Other("null, not an object".into()))
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Item<T>, E> {
        Ok(Item::Other(format!("{b}, not an object")))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Item<T>, E> {
        Ok(Item::Other(format!("{n}, not an object")))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Item<T>, E> {
        Ok(Item::Other(format!("{n}, not an object")))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Item<T>, E> {
        Ok(Item::Other(format!("{n}, not an object")))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Item<T>, E> {
        Ok(Item::Other(format!(
            "{}, not an object",
            crate::guest::names::quote(s)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct R {
        #[serde(default)]
        n: Field<u64>,
        #[serde(default)]
        b: Field<bool>,
        #[serde(default)]
        s: Field<String>,
        #[serde(default)]
        f: Field<f64>,
    }

    fn r(json: &str) -> R {
        serde_json::from_str(json).unwrap()
    }

    fn one<T: Kind>(json: &str) -> Field<T> {
        serde_json::from_str(json).unwrap()
    }

    /// Each kind, from each shape a server may send.
    #[test]
    fn every_kind_reads_every_shape() {
        assert_eq!(one::<u32>("7"), Field::Value(7));
        assert_eq!(one::<u32>("\"7\""), Field::Value(7));
        assert_eq!(one::<u32>("7.0"), Field::Value(7));
        assert!(one::<u32>("-1").malformed().is_some());
        assert!(one::<u32>("4294967296").malformed().is_some());
        assert!(one::<u32>("true").malformed().is_some());
        assert_eq!(one::<i64>("-3"), Field::Value(-3));
        assert_eq!(one::<i64>("\" -3 \""), Field::Value(-3));
        assert_eq!(one::<i64>("3"), Field::Value(3));
        assert_eq!(one::<i64>("3.0"), Field::Value(3));
        assert!(one::<i64>("3.5").malformed().is_some());
        assert!(one::<i64>("18446744073709551615").malformed().is_some());
        assert!(one::<i64>("false").malformed().is_some());
        assert_eq!(one::<u64>("-0.0"), Field::Value(0));
        assert!(one::<u64>("-2").malformed().is_some());
        assert!(one::<u64>("false").malformed().is_some());
        assert_eq!(one::<u64>("\"1e3\""), Field::Value(1000));
        assert_eq!(one::<f64>("-2"), Field::Value(-2.0));
        assert_eq!(one::<f64>("2"), Field::Value(2.0));
        assert!(one::<f64>("true").malformed().is_some());
        assert!(one::<f64>("\"NaN\"").malformed().is_some());
        assert_eq!(one::<bool>("0"), Field::Value(false));
        assert_eq!(one::<bool>("1.0"), Field::Value(true));
        assert_eq!(one::<bool>("0.0"), Field::Value(false));
        assert_eq!(one::<bool>("-0"), Field::Value(false));
        assert!(one::<bool>("0.5").malformed().is_some());
        assert!(one::<bool>("-1").malformed().is_some());
        assert!(one::<bool>("\"yes\"").malformed().is_some());
        assert_eq!(one::<String>("-4"), Field::Value("-4".into()));
        assert_eq!(one::<String>("1.5"), Field::Value("1.5".into()));
        assert!(one::<String>("true").malformed().is_some());
        assert_eq!(one::<String>("null"), Field::Absent);
        assert_eq!(
            read::<u64>(Some(&serde_json::json!("12"))).copied(),
            Some(12)
        );
        assert_eq!(read::<u64>(None), Field::Absent);
        assert_eq!(one::<String>("\"x\"").str(), Some("x"));
    }

    /// An entry of a list that is not an object is kept as what it was.
    #[test]
    fn list_entries_of_another_shape_are_named() {
        let items: Vec<Item<R>> =
            serde_json::from_str(r#"[{"n":1}, null, true, 3, -3, 1.5, "x", [1]]"#).unwrap();
        let what: Vec<String> = items
            .iter()
            .map(|i| match i {
                Item::Record(r) => format!("record {:?}", r.n),
                Item::Other(w) => w.clone(),
            })
            .collect();
        assert_eq!(
            what,
            [
                "record Value(1)",
                "null, not an object",
                "true, not an object",
                "3, not an object",
                "-3, not an object",
                "1.5, not an object",
                "\"x\", not an object",
                "a list, not an object"
            ]
        );
        assert_eq!(
            first_malformed(&[("a", None), ("b", Some("\"x\", not a number"))]),
            Some("its b is \"x\", not a number".into())
        );
    }

    #[test]
    fn perl_answers_read_as_the_schema_means() {
        let a = r(r#"{"n":"1234","b":"","s":2048,"f":"0.4"}"#);
        assert_eq!(
            (a.n, a.b, a.s, a.f),
            (
                Field::Value(1234),
                Field::Value(false),
                Field::Value("2048".to_string()),
                Field::Value(0.4)
            )
        );
        let a = r(r#"{"n":1.0e3,"b":"1","s":null}"#);
        assert_eq!(
            (a.n, a.b, a.s, a.f),
            (
                Field::Value(1000),
                Field::Value(true),
                Field::Absent,
                Field::Absent
            )
        );
        let a = r(r#"{"n":"","b":"","s":"","f":" "}"#);
        assert_eq!(
            (a.n, a.b, a.s, a.f),
            (
                Field::Absent,
                Field::Value(false),
                Field::Value(String::new()),
                Field::Absent
            )
        );
        let a = r(r#"{"n":"lots","b":2,"s":[1],"f":{"x":1}}"#);
        assert_eq!(a.n.malformed(), Some("\"lots\", not a whole number"));
        assert_eq!(a.b.malformed(), Some("2, not a boolean"));
        assert_eq!(a.s.malformed(), Some("a list, not text"));
        assert_eq!(a.f.malformed(), Some("an object, not a number"));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use crate::guest::arbitrary::json;
    use proptest::prelude::*;

    proptest! {
        /// Any value reads as a field of any kind without failing: a value,
        /// absent, or malformed with what it was.
        #[test]
        fn any_value_reads_as_any_kind(v in json()) {
            for f in [
                Field::<u64>::deserialize(&v).map(|f| f.malformed().map(String::from)),
                Field::<bool>::deserialize(&v).map(|f| f.malformed().map(String::from)),
                Field::<String>::deserialize(&v).map(|f| f.malformed().map(String::from)),
                Field::<f64>::deserialize(&v).map(|f| f.malformed().map(String::from)),
                Field::<i64>::deserialize(&v).map(|f| f.malformed().map(String::from)),
            ] {
                prop_assert!(f.is_ok());
            }
            let items: Result<Vec<Item<serde_json::Value>>, _> =
                serde_json::from_value(serde_json::Value::Array(vec![v]));
            prop_assert!(items.is_ok());
        }
    }
}
