//! `x-mcp-header` (2026-07-28): tool arguments mirrored into `Mcp-Param-{Name}` headers.
//!
//! A server may annotate properties of a tool's `inputSchema` with `"x-mcp-header": "Name"`.
//! On the Streamable HTTP transport the client then sends each such argument of a
//! `tools/call` a second time, as the header `Mcp-Param-Name`, so intermediaries can route on
//! it without parsing the body; the server checks that header and body agree.
//!
//! - [`ToolHeaders::from_tool`] reads and validates the annotations of one tool;
//! - [`ParamHeaderRegistry`] is the client's table of them, filled from `tools/list`
//!   ([`observe_tools`](ParamHeaderRegistry::observe_tools) drops invalid tools) and read when
//!   calling ([`headers_for_call`](ParamHeaderRegistry::headers_for_call));
//! - [`check_param_headers`] is the server's check, refusing with 400 and -32020.
//!
//! # Validity of a schema
//!
//! A tool is invalid, and a client must not show it, when any `x-mcp-header` in its input
//! schema breaks one of these rules ([`AnnotationRule`] names each):
//!
//! - it sits on a property reached from the root through `properties` keys alone
//!   (`/properties/a/properties/b` is fine). Every other position is searched too, and an
//!   annotation found there is an error: under `items`, `prefixItems`, `contains`,
//!   `allOf`/`anyOf`/`oneOf`/`not`, `if`/`then`/`else`, `$defs`/`definitions` (so a property
//!   typed through `$ref` cannot be annotated in its target), `additionalProperties`,
//!   `patternProperties`, `dependentSchemas`, `propertyNames`, `unevaluated*`, and any unknown
//!   keyword (fail closed). Only the values of `const`, `enum`, `default` and `examples` are
//!   skipped: they are instance data, not schemas. The root itself is not a property;
//! - its value is a non-empty string that is an RFC 9110 token (which excludes CR and LF);
//! - the property's `type` is exactly one of the strings `"string"`, `"integer"` or
//!   `"boolean"`. A missing `type`, `"number"` (which the spec names as forbidden), and a type
//!   array such as `["string", "null"]` are all refused. The spec allows these three types
//!   only; a type array is not one of them, and refusing it is also what the Python and
//!   TypeScript SDKs' validators do (they require `type` to be a string);
//! - its value is unique, ignoring ASCII case, within the schema.
//!
//! # Values
//!
//! The client mirrors what the body holds, with [`encode_param_value`]: strings as they are
//! (or `=?base64?…?=` when not plain ASCII, or when they look like the sentinel), integers in
//! decimal, booleans as `true`/`false`. An absent or `null` argument sends no header. A value
//! that cannot be mirrored (an integer beyond ±(2^53 − 1), a fraction, an array or an object:
//! all of them break the annotated type) sends no header either; the server then refuses the
//! call, which is the right outcome for an argument the tool cannot accept.
//!
//! ```
//! use mcp_proto::streamable::param_headers::{ParamHeaderRegistry, check_param_headers};
//! use mcp_proto::types::Tool;
//! use serde_json::json;
//!
//! let tool: Tool = serde_json::from_value(json!({
//!     "name": "execute_sql",
//!     "inputSchema": {"type": "object", "properties": {
//!         "region": {"type": "string", "x-mcp-header": "Region"},
//!         "query": {"type": "string"}
//!     }}
//! })).unwrap();
//! let mut registry = ParamHeaderRegistry::default();
//! let (shown, rejected) = registry.observe_tools(vec![tool]);
//! assert_eq!((shown.len(), rejected.len()), (1, 0));
//!
//! let arguments = json!({"region": "eu-west-1", "query": "select 1"});
//! let arguments = arguments.as_object();
//! let headers = registry.headers_for_call("execute_sql", arguments);
//! assert_eq!(headers.len(), 1);
//! assert_eq!(headers[0].0, "mcp-param-region");
//! assert_eq!(headers[0].1, "eu-west-1");
//!
//! // The server side, with the same annotations.
//! let map: http::HeaderMap = headers.into_iter().collect();
//! let tool_headers = registry.get("execute_sql").unwrap();
//! assert!(check_param_headers(&map, tool_headers, arguments).is_ok());
//! assert!(check_param_headers(&http::HeaderMap::new(), tool_headers, arguments).is_err());
//! ```

use std::collections::BTreeMap;

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::{Map, Value};

use super::validate::HttpReject;
use crate::http::header_value::{
    ParamHeaderNameError, ParamValueError, encode_param_value, param_matches,
    validate_param_header_name,
};
use crate::jsonrpc::{ErrorCode, ErrorObject, ErrorResponse};
use crate::types::Tool;

/// The schema keyword that designates a mirrored property.
pub const ANNOTATION_KEY: &str = "x-mcp-header";
/// The prefix of every mirrored header's name.
pub const PARAM_HEADER_PREFIX: &str = "Mcp-Param-";
/// The default bound of a [`ParamHeaderRegistry`]: 10 000 annotated tools.
pub const DEFAULT_MAX_TOOLS: usize = 10_000;

/// Keywords whose values are instance data, never schemas: not searched.
const DATA_KEYWORDS: [&str; 4] = ["const", "enum", "default", "examples"];
/// Keywords whose values map names to schemas (the names are not keywords).
const SCHEMA_MAP_KEYWORDS: [&str; 6] = [
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
    "dependencies",
];

/// The JSON type of a mirrored property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamType {
    /// `"type": "string"`.
    String,
    /// `"type": "integer"`.
    Integer,
    /// `"type": "boolean"`.
    Boolean,
}

impl ParamType {
    /// The JSON Schema type keyword.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Boolean => "boolean",
        }
    }

    fn from_keyword(keyword: &str) -> Option<Self> {
        match keyword {
            "string" => Some(Self::String),
            "integer" => Some(Self::Integer),
            "boolean" => Some(Self::Boolean),
            _ => None,
        }
    }
}

/// One annotated property: where it is and which header mirrors it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamHeader {
    path: Vec<String>,
    name: String,
    header: HeaderName,
    param_type: ParamType,
}

impl ParamHeader {
    /// The `properties` keys from the root to the property (`["options", "limit"]`), which is
    /// also the path of the argument inside `arguments`.
    #[must_use]
    pub fn path(&self) -> &[String] {
        &self.path
    }

    /// The annotation's value as written (`Region`).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The header name (`mcp-param-region`; header names are case-insensitive and `http`
    /// keeps them lowercase).
    #[must_use]
    pub fn header_name(&self) -> &HeaderName {
        &self.header
    }

    /// The header as the spec writes it, for messages: `Mcp-Param-Region`.
    #[must_use]
    pub fn display_name(&self) -> String {
        format!("{PARAM_HEADER_PREFIX}{}", self.name)
    }

    /// The property's declared type.
    #[must_use]
    pub fn param_type(&self) -> ParamType {
        self.param_type
    }

    /// The JSON pointer of the argument inside `arguments` (`/options/limit`).
    #[must_use]
    pub fn argument_pointer(&self) -> String {
        self.path.iter().fold(String::new(), |mut pointer, key| {
            pointer.push('/');
            pointer.push_str(&escape_pointer_token(key));
            pointer
        })
    }

    /// The argument this header mirrors, or `None` when it is absent or `null` (then no
    /// header is sent). A path through a value that is not an object finds nothing.
    #[must_use]
    pub fn value_in<'a>(&self, arguments: Option<&'a Map<String, Value>>) -> Option<&'a Value> {
        let (last, parents) = self.path.split_last()?;
        let mut object = arguments?;
        for key in parents {
            object = object.get(key)?.as_object()?;
        }
        object.get(last).filter(|value| !value.is_null())
    }
}

/// The validated `x-mcp-header` annotations of one tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolHeaders {
    tool: String,
    params: Vec<ParamHeader>,
}

impl ToolHeaders {
    /// Reads and validates the annotations in `tool.input_schema` (see the
    /// [module docs](self) for the rules).
    ///
    /// # Errors
    /// The first annotation that breaks a rule, in document order.
    pub fn from_tool(tool: &Tool) -> Result<Self, InvalidAnnotation> {
        Self::from_schema(&tool.name, &tool.input_schema)
    }

    /// As [`from_tool`](Self::from_tool), from a tool name and an input schema.
    ///
    /// # Errors
    /// The first annotation that breaks a rule, in document order.
    pub fn from_schema(
        tool: &str,
        input_schema: &Map<String, Value>,
    ) -> Result<Self, InvalidAnnotation> {
        let params = scan(input_schema).map_err(|(pointer, rule)| InvalidAnnotation {
            tool: tool.to_owned(),
            pointer,
            rule,
        })?;
        Ok(Self {
            tool: tool.to_owned(),
            params,
        })
    }

    /// The tool's name.
    #[must_use]
    pub fn tool(&self) -> &str {
        &self.tool
    }

    /// The annotated properties, in document order.
    #[must_use]
    pub fn params(&self) -> &[ParamHeader] {
        &self.params
    }

    /// True when the tool has no annotation.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// The `Mcp-Param-*` headers of a call with `arguments` (see the [module docs](self) for
    /// the values; absent, `null` and unmirrorable arguments send no header).
    #[must_use]
    pub fn headers_for_call(
        &self,
        arguments: Option<&Map<String, Value>>,
    ) -> Vec<(HeaderName, HeaderValue)> {
        self.params
            .iter()
            .filter_map(|param| {
                let value = param.value_in(arguments)?;
                let text = encode_param_value(value).ok().flatten()?;
                // The codec emits visible ASCII, space and tab only, which `http` accepts.
                let value = HeaderValue::from_str(&text).ok()?;
                Some((param.header.clone(), value))
            })
            .collect()
    }
}

/// A tool whose `x-mcp-header` annotations break a rule: the client must not show it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tool {tool:?} excluded: x-mcp-header at {pointer:?}: {rule}")]
pub struct InvalidAnnotation {
    /// The tool's name.
    pub tool: String,
    /// The JSON pointer, inside `inputSchema`, of the schema carrying the offending
    /// annotation (`/properties/region`; `""` is the root).
    pub pointer: String,
    /// The rule broken.
    pub rule: AnnotationRule,
}

/// The `x-mcp-header` rule a tool breaks.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnnotationRule {
    /// The annotation is on the schema root, which is not a property.
    #[error("the schema root is not a property")]
    OnRoot,
    /// The annotated schema is not reached from the root through `properties` keys alone.
    #[error("only properties reached from the root through `properties` alone may be annotated")]
    Unreachable,
    /// The annotation's value is not a string.
    #[error("the value is {found}, not a string")]
    NotAString {
        /// The JSON kind found (`"a number"`, `"null"`, …).
        found: &'static str,
    },
    /// The annotation's value is empty or not an RFC 9110 token (this covers CR and LF).
    #[error("invalid header name {name:?}: {source}")]
    InvalidName {
        /// The value.
        name: String,
        /// What is wrong with it.
        source: ParamHeaderNameError,
    },
    /// The property's `type` is not exactly `"string"`, `"integer"` or `"boolean"`.
    #[error("the property's type is {found}; only string, integer and boolean may be mirrored")]
    UnsupportedType {
        /// The `type` found: the keyword (`number`), other JSON as text (`["string","null"]`),
        /// or `none`.
        found: String,
    },
    /// Another annotation has the same name, ignoring ASCII case.
    #[error("header name {name:?} is already used at {first:?}")]
    Duplicate {
        /// The repeated value, as written here.
        name: String,
        /// The JSON pointer of the first annotation with that name.
        first: String,
    },
    /// Not a schema problem: the client's [`ParamHeaderRegistry`] is full, so it cannot
    /// mirror this tool's arguments and hides the tool rather than send calls without them.
    #[error("the client already tracks {limit} annotated tools")]
    RegistryFull {
        /// The registry's bound.
        limit: usize,
    },
}

/// One step of a JSON pointer.
#[derive(Debug, Clone, Copy)]
enum Token<'a> {
    Key(&'a str),
    Index(usize),
}

/// A pointer step with a link to its parent, so that a position costs one entry however deep
/// it is; whole pointers are only built where an annotation is found.
#[derive(Debug)]
struct Crumb<'a> {
    parent: Option<usize>,
    token: Token<'a>,
}

/// A position still to visit: a value, its crumb (`None` is the root), and whether it is
/// reached from the root through `properties` alone.
#[derive(Debug)]
struct Frame<'a> {
    node: &'a Value,
    crumb: Option<usize>,
    on_chain: bool,
}

/// Walks the whole schema depth-first in document order, with an explicit stack (no
/// recursion, so any depth is safe) and work linear in the size of the schema.
#[derive(Debug, Default)]
struct Walk<'a> {
    crumbs: Vec<Crumb<'a>>,
    stack: Vec<Frame<'a>>,
    params: Vec<ParamHeader>,
    /// Lowercased name -> pointer of its first use.
    seen: BTreeMap<String, String>,
}

fn scan(root: &Map<String, Value>) -> Result<Vec<ParamHeader>, (String, AnnotationRule)> {
    let mut walk = Walk::default();
    walk.visit_schema(root, None, true)?;
    while let Some(frame) = walk.stack.pop() {
        match frame.node {
            Value::Object(schema) => walk.visit_schema(schema, frame.crumb, frame.on_chain)?,
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate().rev() {
                    walk.push(item, frame.crumb, Token::Index(index), false);
                }
            }
            _ => {}
        }
    }
    Ok(walk.params)
}

impl<'a> Walk<'a> {
    fn crumb(&mut self, parent: Option<usize>, token: Token<'a>) -> usize {
        self.crumbs.push(Crumb { parent, token });
        self.crumbs.len() - 1
    }

    /// Queues `node` below `parent` when it can hold schemas.
    fn push(&mut self, node: &'a Value, parent: Option<usize>, token: Token<'a>, on_chain: bool) {
        if matches!(node, Value::Object(_) | Value::Array(_)) {
            let crumb = Some(self.crumb(parent, token));
            self.stack.push(Frame {
                node,
                crumb,
                on_chain,
            });
        }
    }

    /// The pointer steps from the root to `crumb`.
    fn tokens(&self, mut crumb: Option<usize>) -> Vec<Token<'a>> {
        let mut tokens = Vec::new();
        while let Some(step) = crumb.and_then(|index| self.crumbs.get(index)) {
            tokens.push(step.token);
            crumb = step.parent;
        }
        tokens.reverse();
        tokens
    }

    fn visit_schema(
        &mut self,
        schema: &'a Map<String, Value>,
        crumb: Option<usize>,
        on_chain: bool,
    ) -> Result<(), (String, AnnotationRule)> {
        if let Some(annotation) = schema.get(ANNOTATION_KEY) {
            let tokens = self.tokens(crumb);
            let pointer = pointer_of(&tokens);
            // On the chain the steps are `properties`, name, `properties`, name, …
            let path = on_chain.then(|| {
                tokens
                    .iter()
                    .skip(1)
                    .step_by(2)
                    .filter_map(|token| match token {
                        Token::Key(name) => Some((*name).to_owned()),
                        Token::Index(_) => None,
                    })
                    .collect::<Vec<_>>()
            });
            match check_annotation(schema, annotation, &pointer, path, &mut self.seen) {
                Ok(param) => self.params.push(param),
                Err(rule) => return Err((pointer, rule)),
            }
        }
        // Pushed in reverse so that the stack pops them in document order.
        for (key, value) in schema.iter().rev() {
            if key == ANNOTATION_KEY || DATA_KEYWORDS.contains(&key.as_str()) {
                continue;
            }
            match value {
                Value::Object(members) if SCHEMA_MAP_KEYWORDS.contains(&key.as_str()) => {
                    let members_on_chain = on_chain && key == "properties";
                    let keyword = self.crumb(crumb, Token::Key(key));
                    for (name, member) in members.iter().rev() {
                        self.push(member, Some(keyword), Token::Key(name), members_on_chain);
                    }
                }
                _ => self.push(value, crumb, Token::Key(key), false),
            }
        }
        Ok(())
    }
}

fn pointer_of(tokens: &[Token<'_>]) -> String {
    tokens.iter().fold(String::new(), |mut pointer, token| {
        pointer.push('/');
        match token {
            Token::Key(key) => pointer.push_str(&escape_pointer_token(key)),
            Token::Index(index) => pointer.push_str(&index.to_string()),
        }
        pointer
    })
}

fn check_annotation(
    schema: &Map<String, Value>,
    annotation: &Value,
    pointer: &str,
    path: Option<Vec<String>>,
    seen: &mut BTreeMap<String, String>,
) -> Result<ParamHeader, AnnotationRule> {
    let path = match path {
        None => return Err(AnnotationRule::Unreachable),
        Some(path) if path.is_empty() => return Err(AnnotationRule::OnRoot),
        Some(path) => path,
    };
    let Value::String(name) = annotation else {
        return Err(AnnotationRule::NotAString {
            found: json_kind(annotation),
        });
    };
    validate_param_header_name(name).map_err(|source| AnnotationRule::InvalidName {
        name: name.clone(),
        source,
    })?;
    let param_type = match schema.get("type") {
        Some(Value::String(keyword)) => ParamType::from_keyword(keyword),
        _ => None,
    }
    .ok_or_else(|| AnnotationRule::UnsupportedType {
        found: match schema.get("type") {
            None => "none".to_owned(),
            Some(Value::String(keyword)) => keyword.clone(),
            Some(other) => other.to_string(),
        },
    })?;
    let header = HeaderName::from_bytes(format!("{PARAM_HEADER_PREFIX}{name}").as_bytes())
        // Unreachable for a token; refused rather than unwrapped.
        .map_err(|_| AnnotationRule::InvalidName {
            name: name.clone(),
            source: ParamHeaderNameError::Empty,
        })?;
    match seen.entry(name.to_ascii_lowercase()) {
        std::collections::btree_map::Entry::Occupied(first) => {
            return Err(AnnotationRule::Duplicate {
                name: name.clone(),
                first: first.get().clone(),
            });
        }
        std::collections::btree_map::Entry::Vacant(slot) => {
            slot.insert(pointer.to_owned());
        }
    }
    Ok(ParamHeader {
        path,
        name: name.clone(),
        header,
        param_type,
    })
}

const fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// RFC 6901: `~` as `~0`, `/` as `~1`.
fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The client's table of `x-mcp-header` annotations, by tool name, filled from `tools/list`.
///
/// Only tools with at least one annotation take room; at most
/// [`max_tools`](Self::max_tools) of them are kept. A new annotated tool that does not fit is
/// hidden and reported ([`AnnotationRule::RegistryFull`]) rather than shown and called
/// without its headers (which the server would refuse).
///
/// stdio clients may ignore `x-mcp-header` altogether; this table is for the HTTP transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamHeaderRegistry {
    tools: BTreeMap<String, ToolHeaders>,
    max_tools: usize,
}

impl Default for ParamHeaderRegistry {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_TOOLS)
    }
}

impl ParamHeaderRegistry {
    /// An empty registry keeping at most `max_tools` annotated tools.
    #[must_use]
    pub const fn new(max_tools: usize) -> Self {
        Self {
            tools: BTreeMap::new(),
            max_tools,
        }
    }

    /// The bound on annotated tools.
    #[must_use]
    pub const fn max_tools(&self) -> usize {
        self.max_tools
    }

    /// Records the annotations of a `tools/list` page. Returns the tools to show (in order,
    /// invalid ones removed) and why each removed tool was removed; the caller should log a
    /// warning for each.
    ///
    /// A tool seen again replaces its earlier entry; a tool that became invalid or lost its
    /// annotations loses its entry, so no stale header is sent for it.
    pub fn observe_tools(&mut self, tools: Vec<Tool>) -> (Vec<Tool>, Vec<InvalidAnnotation>) {
        let mut shown = Vec::with_capacity(tools.len());
        let mut rejected = Vec::new();
        for tool in tools {
            match ToolHeaders::from_tool(&tool) {
                Err(invalid) => {
                    self.tools.remove(&tool.name);
                    rejected.push(invalid);
                }
                Ok(headers) if headers.is_empty() => {
                    self.tools.remove(&tool.name);
                    shown.push(tool);
                }
                Ok(headers) => {
                    if self.tools.contains_key(&tool.name) || self.tools.len() < self.max_tools {
                        self.tools.insert(tool.name.clone(), headers);
                        shown.push(tool);
                    } else {
                        rejected.push(InvalidAnnotation {
                            tool: tool.name,
                            pointer: String::new(),
                            rule: AnnotationRule::RegistryFull {
                                limit: self.max_tools,
                            },
                        });
                    }
                }
            }
        }
        (shown, rejected)
    }

    /// The `Mcp-Param-*` headers of a `tools/call` of `tool` with `arguments`. Empty for a
    /// tool without annotations or never listed.
    #[must_use]
    pub fn headers_for_call(
        &self,
        tool: &str,
        arguments: Option<&Map<String, Value>>,
    ) -> Vec<(HeaderName, HeaderValue)> {
        self.tools
            .get(tool)
            .map(|headers| headers.headers_for_call(arguments))
            .unwrap_or_default()
    }

    /// The annotations recorded for `tool`.
    #[must_use]
    pub fn get(&self, tool: &str) -> Option<&ToolHeaders> {
        self.tools.get(tool)
    }

    /// Forgets `tool`.
    pub fn remove(&mut self, tool: &str) -> Option<ToolHeaders> {
        self.tools.remove(tool)
    }

    /// Forgets every tool (before listing afresh from the first page).
    pub fn clear(&mut self) {
        self.tools.clear();
    }

    /// How many annotated tools are recorded.
    #[must_use]
    pub fn len(&self) -> usize {
        self.tools.len()
    }

    /// True when no annotated tool is recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }
}

/// The server's check of a `tools/call`'s `Mcp-Param-*` headers against its `arguments`.
///
/// For each annotated property: a header without a value in the body (absent or `null`),
/// a value without a header, a value the header does not carry (after base64 decoding;
/// integers compared numerically), a header that does not decode (invalid characters or
/// base64), a header sent twice, and a body value that cannot be mirrored at all are each
/// refused. `Mcp-Param-*` headers no annotation names are ignored. Header names are
/// case-insensitive.
///
/// # Errors
/// 400 with a -32020 (`HeaderMismatch`) error naming the header. The error's `id` is `None`:
/// the caller sets it to the request's id.
pub fn check_param_headers(
    headers: &HeaderMap,
    tool: &ToolHeaders,
    arguments: Option<&Map<String, Value>>,
) -> Result<(), HttpReject> {
    for param in &tool.params {
        check_one(headers, param, arguments).map_err(|message| HttpReject {
            status: StatusCode::BAD_REQUEST,
            error: Some(ErrorResponse {
                id: None,
                error: ErrorObject::new(ErrorCode::HEADER_MISMATCH, message),
            }),
        })?;
    }
    Ok(())
}

fn check_one(
    headers: &HeaderMap,
    param: &ParamHeader,
    arguments: Option<&Map<String, Value>>,
) -> Result<(), String> {
    let header = param.display_name();
    let mut values = headers.get_all(&param.header).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(format!("{header} appears more than once"));
    }
    let body = param.value_in(arguments);
    match (first, body) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(format!(
            "{header} is present but argument {} is absent or null",
            param.argument_pointer()
        )),
        (None, Some(value)) => match encode_param_value(value) {
            Err(err) => Err(unmirrorable(&header, param, &err)),
            Ok(_) => Err(format!(
                "missing {header} header for argument {}",
                param.argument_pointer()
            )),
        },
        (Some(sent), Some(value)) => match param_matches(sent.as_bytes(), Some(value)) {
            Ok(true) => Ok(()),
            Ok(false) => Err(format!(
                "{header} does not match argument {}",
                param.argument_pointer()
            )),
            Err(ParamValueError::Header(err)) => Err(format!("invalid {header}: {err}")),
            Err(err) => Err(unmirrorable(&header, param, &err)),
        },
    }
}

fn unmirrorable(header: &str, param: &ParamHeader, err: &ParamValueError) -> String {
    format!(
        "argument {} cannot be mirrored into {header}: {err}",
        param.argument_pointer()
    )
}
