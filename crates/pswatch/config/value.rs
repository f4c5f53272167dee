//! Reading a TOML value into the configuration's types with errors that say, as data, what is
//! wrong: an unknown key and the keys there are, a missing key, an unknown value and the values
//! there are, a value of the wrong kind. The messages a person reads are written from these
//! (in `raw.rs`), never from the English of serde's or toml's own messages.

use std::fmt;

use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, IntoDeserializer, Unexpected, Visitor};

/// What is wrong with a value, as the types reading it say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ReadError {
    /// A key the table does not have; `expected` are the keys it has.
    UnknownField {
        field: String,
        expected: &'static [&'static str],
    },
    /// A key the table needs.
    MissingField(&'static str),
    /// A value of a closed set that is not one of them; `expected` are those there are.
    UnknownVariant {
        variant: String,
        expected: &'static [&'static str],
    },
    /// A value of the right kind that is not acceptable, e.g. `"soon"` for a duration.
    /// `value` is the text given, when it was text.
    InvalidValue {
        value: Option<String>,
        expected: String,
    },
    /// A value of the wrong kind, e.g. a number where text belongs.
    InvalidType { found: String, expected: String },
    /// Anything else a type says.
    Other(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |names: &[&str]| {
            names
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Self::UnknownField { field, expected } => {
                write!(
                    formatter,
                    "unknown key `{field}` (the keys are {})",
                    list(expected)
                )
            }
            Self::MissingField(field) => write!(formatter, "missing key `{field}`"),
            Self::UnknownVariant { variant, expected } => {
                write!(
                    formatter,
                    "unknown value {variant:?} (use {})",
                    list(expected)
                )
            }
            Self::InvalidValue { value, expected } => match (value, integer_range(expected)) {
                (Some(value), Some((least, most))) => write!(
                    formatter,
                    "{value} is not a whole number from {least} to {most}"
                ),
                (Some(value), None) => write!(formatter, "{value:?} is not {expected}"),
                (None, _) => write!(formatter, "must be {}", words(expected)),
            },
            Self::InvalidType { found, expected } => {
                write!(formatter, "is {found}, but must be {}", words(expected))
            }
            Self::Other(message) => formatter.write_str(message),
        }
    }
}

impl std::error::Error for ReadError {}

/// The range of an integer type serde names by its Rust name (`u32`).
fn integer_range(expected: &str) -> Option<(i128, u128)> {
    Some(match expected {
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        "u64" | "usize" => (0, u64::MAX.into()),
        "i64" => (i64::MIN.into(), i64::MAX.unsigned_abs().into()),
        _ => return None,
    })
}

/// What a type expects, in the configuration's words (a TOML list and table, not a sequence
/// and a map).
fn words(expected: &str) -> String {
    match expected {
        "a sequence" => "a list".to_owned(),
        "a map" => "a table".to_owned(),
        "a string" => "text".to_owned(),
        "a boolean" => "true or false".to_owned(),
        other if integer_range(other).is_some() => "a whole number".to_owned(),
        other => other.to_owned(),
    }
}

/// The kind of value found, in words.
fn found(unexpected: &Unexpected<'_>) -> String {
    match unexpected {
        Unexpected::Bool(value) => format!("{value}"),
        Unexpected::Signed(value) => format!("the number {value}"),
        Unexpected::Unsigned(value) => format!("the number {value}"),
        Unexpected::Float(value) => format!("the number {value}"),
        Unexpected::Str(value) => format!("the text {value:?}"),
        Unexpected::Seq => "a list".to_owned(),
        Unexpected::Map => "a table".to_owned(),
        other => other.to_string(),
    }
}

impl de::Error for ReadError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self::Other(message.to_string())
    }

    fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        Self::InvalidType {
            found: found(&unexpected),
            expected: expected.to_string(),
        }
    }

    fn invalid_value(unexpected: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        let value = match unexpected {
            Unexpected::Str(value) => Some(value.to_owned()),
            Unexpected::Signed(value) => Some(value.to_string()),
            Unexpected::Unsigned(value) => Some(value.to_string()),
            _ => None,
        };
        Self::InvalidValue {
            value,
            expected: expected.to_string(),
        }
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        Self::UnknownVariant {
            variant: variant.to_owned(),
            expected,
        }
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Self::UnknownField {
            field: field.to_owned(),
            expected,
        }
    }

    fn missing_field(field: &'static str) -> Self {
        Self::MissingField(field)
    }
}

/// A TOML value as a serde `Deserializer` whose errors are [`ReadError`]s.
pub(super) struct Value(pub(super) toml::Value);

impl<'de> IntoDeserializer<'de, ReadError> for Value {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> de::Deserializer<'de> for Value {
    type Error = ReadError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        match self.0 {
            toml::Value::String(text) => visitor.visit_string(text),
            toml::Value::Integer(number) => visitor.visit_i64(number),
            toml::Value::Float(number) => visitor.visit_f64(number),
            toml::Value::Boolean(value) => visitor.visit_bool(value),
            toml::Value::Datetime(datetime) => visitor.visit_string(datetime.to_string()),
            toml::Value::Array(values) => {
                let mut values = SeqDeserializer::new(values.into_iter().map(Value));
                let read = visitor.visit_seq(&mut values)?;
                values.end()?;
                Ok(read)
            }
            toml::Value::Table(table) => {
                let mut entries =
                    MapDeserializer::new(table.into_iter().map(|(key, value)| (key, Value(value))));
                let read = visitor.visit_map(&mut entries)?;
                entries.end()?;
                Ok(read)
            }
        }
    }

    /// TOML has no null: a key that is there is `Some`.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        visitor.visit_some(self)
    }

    /// A closed set of values is written as text.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ReadError> {
        match self.0 {
            toml::Value::String(text) => visitor.visit_enum(text.into_deserializer()),
            other => Value(other).deserialize_any(EnumAsAny {
                visitor,
                name,
                variants,
            }),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ReadError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// An enum written as anything but text is refused as of the wrong kind.
struct EnumAsAny<V> {
    visitor: V,
    name: &'static str,
    variants: &'static [&'static str],
}

impl<'de, V: Visitor<'de>> Visitor<'de> for EnumAsAny<V> {
    type Value = V::Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let _ = (&self.visitor, self.name);
        let quoted: Vec<String> = self
            .variants
            .iter()
            .map(|name| format!("`{name}`"))
            .collect();
        write!(formatter, "one of {}", quoted.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        #[serde(default, with = "humantime_serde")]
        every: Option<Duration>,
        level: Option<Level>,
        count: Option<u32>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Level {
        Low,
        High,
    }

    fn read(text: &str) -> Result<Sample, ReadError> {
        let table: toml::Table = text.parse().expect("toml");
        Sample::deserialize(Value(toml::Value::Table(table)))
    }

    #[test]
    fn errors_say_what_is_wrong_as_data() {
        assert!(read("name = \"a\"\nevery = \"5m\"\nlevel = \"high\"\ncount = 3").is_ok());
        assert_eq!(
            read("name = \"a\"\ncolour = 1").expect_err("unknown"),
            ReadError::UnknownField {
                field: "colour".into(),
                expected: &["name", "every", "level", "count"],
            }
        );
        assert_eq!(
            read("every = \"5m\"").expect_err("missing"),
            ReadError::MissingField("name")
        );
        assert_eq!(
            read("name = \"a\"\nlevel = \"medium\"").expect_err("variant"),
            ReadError::UnknownVariant {
                variant: "medium".into(),
                expected: &["low", "high"],
            }
        );
        assert!(matches!(
            read("name = \"a\"\nevery = \"soon\"").expect_err("duration"),
            ReadError::InvalidValue { value: Some(value), .. } if value == "soon"
        ));
        assert!(matches!(
            read("name = 3").expect_err("type"),
            ReadError::InvalidType { found, .. } if found == "the number 3"
        ));
        assert!(matches!(
            read("name = \"a\"\nlevel = 2").expect_err("enum of the wrong kind"),
            ReadError::InvalidType { .. }
        ));
        assert!(matches!(
            read("name = \"a\"\ncount = -1").expect_err("out of range"),
            ReadError::InvalidValue { value: Some(value), .. } if value == "-1"
        ));
    }
}
