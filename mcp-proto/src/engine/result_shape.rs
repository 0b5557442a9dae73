//! A result serialized straight to JSON text with the era's top-level edits applied on the way
//! (`resultType`, and `ttlMs`/`cacheScope` on cacheable modern results), for
//! [`ServerEndpoint::respond`](super::ServerEndpoint::respond).
//!
//! Editing a `serde_json::Value` and serializing it again costs a tree of allocations per
//! answer; here the result goes through serde once, and a thin serializer watches only the
//! members of the top-level object. Whatever it cannot edit exactly as the `Value` route would
//! (repeated top-level keys, which a `Value` collapses; enum variants, which serialize as
//! objects; serde_json's own private structs such as `RawValue`; non-string map keys) is
//! left to the `Value` route, which stays the reference.

use std::cell::Cell;

use serde::ser::{self, Error as _, Impossible, Serialize, SerializeMap, SerializeStruct};
use serde_json::Value;

use crate::jsonrpc::RawJson;

/// The top-level edits owed to one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Edits {
    /// Modern: add `resultType: "complete"` when absent.
    pub(super) add_complete: bool,
    /// Modern and cacheable: on a complete result, add `ttlMs: 0` and `cacheScope: "private"`
    /// when absent.
    pub(super) cacheable: bool,
    /// Legacy without the tasks extension: drop `resultType: "complete"`.
    pub(super) strip_complete: bool,
    /// The request may not get a task result (`resultType: "task"`).
    pub(super) refuse_task: bool,
}

/// A result ready to send, or the reason it may not be sent.
#[derive(Debug, PartialEq)]
pub(super) enum Shaped {
    /// The edited text.
    Done(RawJson),
    /// The result is a task result (`resultType: "task"`) the request may not get.
    TaskRefused,
}

/// Serializes `result` with `edits` applied to its top-level object, if it is one.
///
/// # Errors
/// The serde error when `result` does not serialize.
pub(super) fn shape<R: Serialize + ?Sized>(
    result: &R,
    edits: Edits,
) -> Result<Shaped, serde_json::Error> {
    match one_pass(result, edits)? {
        Some(shaped) => Ok(shaped),
        None => by_value(result, edits),
    }
}

/// [`shape`] in one serialization; `None` for a result it leaves to [`by_value`].
fn one_pass<R: Serialize + ?Sized>(
    result: &R,
    edits: Edits,
) -> Result<Option<Shaped>, serde_json::Error> {
    let report = Cell::new(Report::default());
    let shaped = RawJson::from_serialize(&Shape {
        result,
        edits,
        report: &report,
    });
    let report = report.get();
    if report.fallback {
        return Ok(None);
    }
    let raw = shaped?;
    Ok(Some(if report.task_refused {
        Shaped::TaskRefused
    } else {
        Shaped::Done(raw)
    }))
}

/// [`shape`] through a `serde_json::Value`: simple, and the reference for [`one_pass`].
fn by_value<R: Serialize + ?Sized>(result: &R, edits: Edits) -> Result<Shaped, serde_json::Error> {
    let mut value = serde_json::to_value(result)?;
    if edits.refuse_task && value.get("resultType").and_then(Value::as_str) == Some("task") {
        // The tasks extension forbids a CreateTaskResult to a client that did not declare it.
        return Ok(Shaped::TaskRefused);
    }
    if let Some(object) = value.as_object_mut() {
        let kind = object.get("resultType");
        let complete = kind.is_none_or(|kind| kind == "complete");
        if edits.add_complete {
            if edits.cacheable && complete {
                // Required on these results; when the application did not choose, the safe
                // default is "do not reuse": zero lifetime, private scope.
                object.entry("ttlMs").or_insert_with(|| Value::from(0));
                object
                    .entry("cacheScope")
                    .or_insert_with(|| Value::from("private"));
            }
            object
                .entry("resultType")
                .or_insert_with(|| Value::from("complete"));
        } else if edits.strip_complete && kind.is_some() && complete {
            // A legacy result has no `resultType` (only the tasks extension brings it to
            // legacy sessions); results built for either era carry the modern default.
            object.remove("resultType");
        }
    }
    RawJson::from_serialize(&value).map(Shaped::Done)
}

/// What the serializer found, read after it ran (serde hands a serializer out by value, so it
/// reports through a shared cell).
#[derive(Debug, Clone, Copy, Default)]
struct Report {
    fallback: bool,
    task_refused: bool,
}

/// Members the top level may need appended: at most `ttlMs`, `cacheScope` and `resultType`.
const APPENDED_MAX: usize = 3;

/// Top-level keys tracked without allocating; a struct with more takes the `Value` route.
const STRUCT_KEYS_MAX: usize = 32;

struct Shape<'a, R: ?Sized> {
    result: &'a R,
    edits: Edits,
    report: &'a Cell<Report>,
}

impl<R: Serialize + ?Sized> Serialize for Shape<'_, R> {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.result.serialize(TopLevel {
            inner: serializer,
            edits: self.edits,
            report: self.report,
        })
    }
}

/// Stops serializing and leaves the result to the `Value` route.
fn fallback<E: ser::Error>(report: &Cell<Report>) -> E {
    let mut found = report.get();
    found.fallback = true;
    report.set(found);
    E::custom("result not editable in one pass")
}

/// The serializer of the result itself: everything is passed through, objects are watched.
struct TopLevel<'a, S> {
    inner: S,
    edits: Edits,
    report: &'a Cell<Report>,
}

/// The edits' view of the top-level members seen so far.
struct Members<'a> {
    edits: Edits,
    report: &'a Cell<Report>,
    /// `Some(is_complete)` once `resultType` was seen.
    result_type: Option<bool>,
    ttl_ms: bool,
    cache_scope: bool,
}

/// What to write for one member.
enum Write {
    /// The value as given.
    Original,
    /// The value as the `Value` route writes it (`resultType`, which the edits inspect).
    Parsed(Value),
    /// Nothing: the member is dropped.
    Skip,
}

impl<'a> Members<'a> {
    fn new(edits: Edits, report: &'a Cell<Report>) -> Self {
        Self {
            edits,
            report,
            result_type: None,
            ttl_ms: false,
            cache_scope: false,
        }
    }

    fn member<V: Serialize + ?Sized, E: ser::Error>(
        &mut self,
        key: &str,
        value: &V,
    ) -> Result<Write, E> {
        match key {
            "resultType" => {
                let kind = serde_json::to_value(value).map_err(E::custom)?;
                if self.edits.refuse_task && kind == "task" {
                    let mut found = self.report.get();
                    found.task_refused = true;
                    self.report.set(found);
                }
                let complete = kind == "complete";
                self.result_type = Some(complete);
                Ok(if self.edits.strip_complete && complete {
                    Write::Skip
                } else {
                    Write::Parsed(kind)
                })
            }
            "ttlMs" => {
                self.ttl_ms = true;
                Ok(Write::Original)
            }
            "cacheScope" => {
                self.cache_scope = true;
                Ok(Write::Original)
            }
            _ => Ok(Write::Original),
        }
    }

    /// The members to append at the end of the object, as the `Value` route's
    /// `entry(..).or_insert(..)` would have added them.
    fn appended(&self) -> [Option<(&'static str, Appended)>; APPENDED_MAX] {
        if !self.edits.add_complete {
            return [None, None, None];
        }
        let complete = self.result_type.unwrap_or(true);
        let cache = self.edits.cacheable && complete;
        [
            (cache && !self.ttl_ms).then_some(("ttlMs", Appended::Zero)),
            (cache && !self.cache_scope).then_some(("cacheScope", Appended::Private)),
            self.result_type
                .is_none()
                .then_some(("resultType", Appended::Complete)),
        ]
    }
}

/// The value of an appended member.
#[derive(Debug, Clone, Copy)]
enum Appended {
    /// `0` (`ttlMs`: do not reuse).
    Zero,
    /// `"private"` (`cacheScope`).
    Private,
    /// `"complete"` (`resultType`).
    Complete,
}

impl Serialize for Appended {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Zero => serializer.serialize_u64(0),
            Self::Private => serializer.serialize_str("private"),
            Self::Complete => serializer.serialize_str("complete"),
        }
    }
}

/// The top-level object of a struct.
struct TopStruct<'a, M> {
    inner: M,
    members: Members<'a>,
    keys: [&'static str; STRUCT_KEYS_MAX],
    seen: usize,
}

impl<M: SerializeStruct> SerializeStruct for TopStruct<'_, M> {
    type Ok = M::Ok;
    type Error = M::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Self::Error> {
        let seen = self.keys.get(..self.seen).unwrap_or_default();
        if seen.contains(&key) {
            return Err(fallback(self.members.report));
        }
        let Some(slot) = self.keys.get_mut(self.seen) else {
            return Err(fallback(self.members.report));
        };
        *slot = key;
        self.seen += 1;
        match self.members.member(key, value)? {
            Write::Original => self.inner.serialize_field(key, value),
            Write::Parsed(parsed) => self.inner.serialize_field(key, &parsed),
            Write::Skip => Ok(()),
        }
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), Self::Error> {
        self.inner.skip_field(key)
    }

    fn end(mut self) -> Result<Self::Ok, Self::Error> {
        for (key, value) in self.members.appended().into_iter().flatten() {
            self.inner.serialize_field(key, &value)?;
        }
        self.inner.end()
    }
}

/// The top-level object of a map (a `Value`, a `JsonObject`, a struct with flattened members).
struct TopMap<'a, M> {
    inner: M,
    members: Members<'a>,
    keys: Vec<String>,
    /// The key of the entry whose value comes next.
    pending: Option<String>,
}

impl<M: SerializeMap> SerializeMap for TopMap<'_, M> {
    type Ok = M::Ok;
    type Error = M::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Self::Error> {
        // The `Value` route turns numeric keys into strings; only string keys are kept here.
        let Ok(Value::String(key)) = serde_json::to_value(key) else {
            return Err(fallback(self.members.report));
        };
        if self.keys.contains(&key) {
            return Err(fallback(self.members.report));
        }
        self.pending = Some(key);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Self::Error> {
        let Some(key) = self.pending.take() else {
            return Err(Self::Error::custom("map value without a key"));
        };
        let written = match self.members.member(&key, value)? {
            Write::Original => self.inner.serialize_entry(&key, value),
            Write::Parsed(parsed) => self.inner.serialize_entry(&key, &parsed),
            Write::Skip => Ok(()),
        };
        self.keys.push(key);
        written
    }

    fn end(mut self) -> Result<Self::Ok, Self::Error> {
        for (key, value) in self.members.appended().into_iter().flatten() {
            self.inner.serialize_entry(key, &value)?;
        }
        self.inner.end()
    }
}

impl<'a, S: ser::Serializer> ser::Serializer for TopLevel<'a, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = S::SerializeSeq;
    type SerializeTuple = S::SerializeTuple;
    type SerializeTupleStruct = S::SerializeTupleStruct;
    type SerializeTupleVariant = Impossible<S::Ok, S::Error>;
    type SerializeMap = TopMap<'a, S::SerializeMap>;
    type SerializeStruct = TopStruct<'a, S::SerializeStruct>;
    type SerializeStructVariant = Impossible<S::Ok, S::Error>;

    fn serialize_bool(self, v: bool) -> Result<S::Ok, S::Error> {
        self.inner.serialize_bool(v)
    }
    fn serialize_i8(self, v: i8) -> Result<S::Ok, S::Error> {
        self.inner.serialize_i8(v)
    }
    fn serialize_i16(self, v: i16) -> Result<S::Ok, S::Error> {
        self.inner.serialize_i16(v)
    }
    fn serialize_i32(self, v: i32) -> Result<S::Ok, S::Error> {
        self.inner.serialize_i32(v)
    }
    fn serialize_i64(self, v: i64) -> Result<S::Ok, S::Error> {
        self.inner.serialize_i64(v)
    }
    fn serialize_i128(self, v: i128) -> Result<S::Ok, S::Error> {
        self.inner.serialize_i128(v)
    }
    fn serialize_u8(self, v: u8) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u8(v)
    }
    fn serialize_u16(self, v: u16) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u16(v)
    }
    fn serialize_u32(self, v: u32) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u32(v)
    }
    fn serialize_u64(self, v: u64) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u64(v)
    }
    fn serialize_u128(self, v: u128) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u128(v)
    }
    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        self.inner.serialize_f32(v)
    }
    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        self.inner.serialize_f64(v)
    }
    fn serialize_char(self, v: char) -> Result<S::Ok, S::Error> {
        self.inner.serialize_char(v)
    }
    fn serialize_str(self, v: &str) -> Result<S::Ok, S::Error> {
        self.inner.serialize_str(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<S::Ok, S::Error> {
        self.inner.serialize_bytes(v)
    }
    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_none()
    }
    // `Some(x)` and newtypes are written as `x` in JSON: the object, if any, is `x`'s.
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit()
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit_struct(name)
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit_variant(name, index, variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<S::Ok, S::Error> {
        Err(fallback(self.report))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.inner.serialize_seq(len)
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.inner.serialize_tuple(len)
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.inner.serialize_tuple_struct(name, len)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        Err(fallback(self.report))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        // serde_json closes an object announced as empty at once; members may be appended.
        let len = len.map(|n| n.saturating_add(APPENDED_MAX));
        Ok(TopMap {
            inner: self.inner.serialize_map(len)?,
            members: Members::new(self.edits, self.report),
            keys: Vec::new(),
            pending: None,
        })
    }
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        // No derived struct is named `$…`: such names are serde_json's private protocols
        // (`RawValue`, arbitrary-precision numbers), whose fields are not members.
        if name.starts_with('$') {
            return Err(fallback(self.report));
        }
        Ok(TopStruct {
            inner: self
                .inner
                .serialize_struct(name, len.saturating_add(APPENDED_MAX))?,
            members: Members::new(self.edits, self.report),
            keys: [""; STRUCT_KEYS_MAX],
            seen: 0,
        })
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        Err(fallback(self.report))
    }
    fn collect_str<T: std::fmt::Display + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.inner.collect_str(value)
    }
    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::types::{CallToolResult, ResultType};

    /// Writes `resultType` (or another key) twice, which a `Value` collapses to the last one.
    struct Repeated {
        key: &'static str,
        first: &'static str,
        second: &'static str,
        as_map: bool,
    }

    impl Serialize for Repeated {
        fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            if self.as_map {
                let mut map = serializer.serialize_map(Some(3))?;
                map.serialize_entry(self.key, self.first)?;
                map.serialize_entry("content", &[0; 0])?;
                map.serialize_entry(self.key, self.second)?;
                map.end()
            } else {
                let mut object = serializer.serialize_struct("Repeated", 3)?;
                object.serialize_field(self.key, self.first)?;
                object.serialize_field("content", &[0; 0])?;
                object.serialize_field(self.key, self.second)?;
                object.end()
            }
        }
    }

    #[derive(serde::Serialize)]
    enum Variant {
        Newtype(u8),
        Struct {
            #[serde(rename = "resultType")]
            result_type: u8,
        },
    }

    #[derive(serde::Serialize, Default)]
    struct Empty {
        #[serde(skip_serializing_if = "Option::is_none")]
        nothing: Option<u8>,
    }

    #[derive(serde::Serialize)]
    struct Flattened {
        #[serde(rename = "resultType", skip_serializing_if = "Option::is_none")]
        result_type: Option<ResultType>,
        #[serde(flatten)]
        rest: BTreeMap<String, Value>,
    }

    fn all_edits() -> Vec<Edits> {
        let mut all = Vec::new();
        for bits in 0..16u8 {
            let edits = Edits {
                add_complete: bits & 1 != 0,
                cacheable: bits & 2 != 0,
                strip_complete: bits & 4 != 0,
                refuse_task: bits & 8 != 0,
            };
            // `Answering::edits` never asks to both add and strip, nor caches legacy results.
            if !(edits.add_complete && edits.strip_complete)
                && (edits.add_complete || !edits.cacheable)
            {
                all.push(edits);
            }
        }
        all
    }

    /// One pass and the `Value` route agree on `result` under every edit; returns whether the
    /// one pass handled it itself.
    fn agree<R: Serialize + ?Sized>(result: &R) -> bool {
        let mut handled = true;
        for edits in all_edits() {
            let reference = by_value(result, edits).map_err(|e| e.to_string());
            let fast = one_pass(result, edits).map_err(|e| e.to_string());
            let fast = match fast {
                Ok(Some(shaped)) => Ok(shaped),
                Ok(None) => {
                    handled = false;
                    continue;
                }
                Err(e) => Err(e),
            };
            match (&fast, &reference) {
                (Ok(Shaped::Done(fast)), Ok(Shaped::Done(reference))) => {
                    let fast: Value = serde_json::from_str(fast.get())
                        .unwrap_or_else(|e| panic!("{fast} is not JSON: {e}"));
                    let reference: Value = reference.parse().unwrap();
                    assert_eq!(fast, reference, "{edits:?}");
                }
                (Err(_), Err(_)) => {}
                _ => assert_eq!(fast, reference, "{edits:?}"),
            }
        }
        handled
    }

    #[test]
    fn one_pass_agrees_with_the_value_route() {
        let mut with_type = CallToolResult::text("hi");
        assert!(agree(&with_type));
        for kind in ["complete", "input_required", "task", "other"] {
            with_type.result_type = Some(ResultType::from_wire(kind));
            assert!(agree(&with_type), "{kind}");
            assert!(agree(&Some(&with_type)), "{kind}");
            let flattened = Flattened {
                result_type: Some(ResultType::from_wire(kind)),
                rest: BTreeMap::from([("ttlMs".to_owned(), json!(5))]),
            };
            assert!(agree(&flattened), "{kind}");
        }
        for value in [
            json!({}),
            json!({"resultType": "complete"}),
            json!({"resultType": "task", "taskId": "t"}),
            json!({"resultType": 5}),
            json!({"resultType": null}),
            json!({"tools": [], "ttlMs": 60000}),
            json!({"tools": [], "cacheScope": "public"}),
            json!({"content": [], "resultType": "input_required"}),
            json!([{"resultType": "complete"}]),
            json!("complete"),
            json!(null),
            json!(7),
        ] {
            assert!(agree(&value), "{value}");
        }
        assert!(agree(&Empty::default()));
    }

    #[test]
    fn what_one_pass_leaves_is_edited_by_value() {
        // Repeated keys, in a struct and in a map, resultType or not: the last one wins.
        for as_map in [false, true] {
            for (key, first, second) in [
                ("resultType", "task", "complete"),
                ("resultType", "complete", "task"),
                ("other", "a", "b"),
            ] {
                let repeated = Repeated {
                    key,
                    first,
                    second,
                    as_map,
                };
                assert!(!agree(&repeated), "{key} {as_map}");
            }
        }
        // Enum variants are objects; raw JSON is a serde_json private struct; numeric keys.
        assert!(!agree(&Variant::Newtype(1)));
        assert!(!agree(&Variant::Struct { result_type: 1 }));
        assert!(!agree(&RawJson::from_text(r#"{"a":1,"a":2}"#).unwrap()));
        assert!(!agree(&BTreeMap::from([(1, 2)])));
        // Not serializable at all (a non-string key): an error either way.
        assert!(!agree(&BTreeMap::from([((1, 2), 3)])));
        assert!(shape(&BTreeMap::from([((1, 2), 3)]), Edits::default()).is_err());
    }

    #[test]
    fn typed_results_are_edited_in_place() {
        let modern = Edits {
            add_complete: true,
            cacheable: true,
            ..Edits::default()
        };
        let text = |shaped: Shaped| match shaped {
            Shaped::Done(raw) => raw.get().to_owned(),
            Shaped::TaskRefused => panic!("refused"),
        };
        assert_eq!(
            text(shape(&Empty::default(), modern).unwrap()),
            r#"{"ttlMs":0,"cacheScope":"private","resultType":"complete"}"#
        );
        assert_eq!(text(shape(&json!({}), Edits::default()).unwrap()), "{}");
        let legacy = Edits {
            strip_complete: true,
            ..Edits::default()
        };
        let mut result = CallToolResult::text("hi");
        result.result_type = Some(ResultType::Complete);
        assert_eq!(
            text(shape(&result, legacy).unwrap()),
            r#"{"content":[{"type":"text","text":"hi"}]}"#
        );
        let refuse = Edits {
            refuse_task: true,
            ..legacy
        };
        result.result_type = Some(ResultType::Task);
        assert_eq!(shape(&result, refuse).unwrap(), Shaped::TaskRefused);
    }
}
