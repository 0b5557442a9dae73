//! [`RawJson`]: a JSON value kept as text until someone needs its contents.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// A JSON value kept as its (already validated) source text.
///
/// `params`, `result` and `error.data` travel as `RawJson` so that routing a message never parses
/// its body twice: the engine looks at `method` and `id`, and only the handler that owns the
/// message pays for [`RawJson::parse`].
///
/// Equality compares the text byte for byte, which is what a transport needs (the same bytes
/// went in and came out); compare parsed values when semantic equality is wanted.
#[derive(Clone)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// Wraps JSON text after checking that it is one well-formed JSON value.
    ///
    /// # Errors
    /// Returns the `serde_json` syntax error when `text` is not a single JSON value.
    pub fn from_text(text: impl Into<String>) -> Result<Self, serde_json::Error> {
        RawValue::from_string(text.into()).map(Self)
    }

    /// Serializes `value` into compact JSON text.
    ///
    /// # Errors
    /// Fails only when `value`'s `Serialize` implementation fails (e.g. a map with non-string keys).
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::value::to_raw_value(value).map(Self)
    }

    /// The empty object `{}` (the result of `ping`, `logging/setLevel`, subscriptions…).
    #[must_use]
    pub fn empty_object() -> Self {
        // `{}` is valid JSON, so the fallback is never taken; it keeps this infallible.
        Self::from_text("{}").unwrap_or_else(|_| Self::null())
    }

    /// The JSON `null` value.
    #[must_use]
    pub fn null() -> Self {
        Self(RawValue::NULL.to_owned())
    }

    /// The JSON text, exactly as received or produced.
    #[must_use]
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// Parses the text into `T`.
    ///
    /// # Errors
    /// Returns the `serde_json` error when the text does not fit `T`.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }

    /// True when the value is a JSON object (its text starts with `{`).
    #[must_use]
    pub fn is_object(&self) -> bool {
        self.first_byte() == Some(b'{')
    }

    /// True when the value is JSON `null`.
    #[must_use]
    pub fn is_null(&self) -> bool {
        self.first_byte() == Some(b'n')
    }

    /// The first significant byte of the text; raw values never carry leading whitespace
    /// once deserialized, but text given to [`RawJson::from_text`] may.
    fn first_byte(&self) -> Option<u8> {
        self.0.get().bytes().find(|b| !b.is_ascii_whitespace())
    }

    pub(crate) fn from_raw(raw: &RawValue) -> Self {
        Self(raw.to_owned())
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for RawJson {}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get())
    }
}

impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get())
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(deserializer).map(Self)
    }
}

impl From<Box<RawValue>> for RawJson {
    fn from(raw: Box<RawValue>) -> Self {
        Self(raw)
    }
}

impl From<RawJson> for Box<RawValue> {
    fn from(raw: RawJson) -> Self {
        raw.0
    }
}
