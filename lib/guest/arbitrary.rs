//! Strategies for the property tests of every parser of outside input
//! (proptest): text that looks like what a parser expects, and JSON of any
//! shape. Test support only.

use proptest::prelude::*;
use serde_json::Value;

/// Any JSON value, a few levels deep, with the scalars Perl and people send:
/// numbers as numbers and as strings, empty strings, null.
pub fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[0-9]{0,12}".prop_map(Value::String),
        ".{0,24}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Text made of the pieces a line-oriented format has: words, separators,
/// quotes, brackets and newlines, mixed with anything at all.
pub fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[A-Za-z0-9_.-]{1,12}",
            Just(" ".to_string()),
            Just("\n".to_string()),
            Just("=".to_string()),
            Just(":".to_string()),
            Just(",".to_string()),
            Just("\"".to_string()),
            Just("[".to_string()),
            Just("]".to_string()),
            Just("{".to_string()),
            Just("}".to_string()),
            Just("-".to_string()),
            ".{0,8}",
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}
