//! `x-mcp-header`: schema validity, the client's `Mcp-Param-*` headers, the server's check, and
//! a client→server round trip.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use mcp_proto::http::header_value::{MAX_SAFE_INTEGER, ParamHeaderNameError};
use mcp_proto::jsonrpc::ErrorCode;
use mcp_proto::streamable::param_headers::DEFAULT_MAX_TOOLS;
use mcp_proto::streamable::{
    AnnotationRule, HttpReject, InvalidAnnotation, ParamHeaderRegistry, ParamType, ToolHeaders,
    check_param_headers,
};
use mcp_proto::types::Tool;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn tool(name: &str, input_schema: Value) -> Tool {
    Tool {
        name: name.to_owned(),
        input_schema: input_schema.as_object().unwrap().clone(),
        ..Tool::default()
    }
}

fn object(properties: Value) -> Value {
    json!({"type": "object", "properties": properties})
}

fn args(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

// ---------------------------------------------------------------------------------------------
// Schema validity
// ---------------------------------------------------------------------------------------------

/// (label, schema, expected (path, name, type) of each annotation in document order).
type ValidRow = (
    &'static str,
    Value,
    Vec<(Vec<&'static str>, &'static str, ParamType)>,
);

#[test]
fn valid_schemas() {
    let rows: Vec<ValidRow> = vec![
        (
            "no annotation",
            object(json!({"q": {"type": "string"}})),
            vec![],
        ),
        ("no properties at all", json!({"type": "object"}), vec![]),
        (
            "three types",
            object(json!({
                "a": {"type": "string", "x-mcp-header": "Region"},
                "b": {"type": "integer", "x-mcp-header": "Limit"},
                "c": {"type": "boolean", "x-mcp-header": "Confirm"},
                "d": {"type": "number"}
            })),
            vec![
                (vec!["a"], "Region", ParamType::String),
                (vec!["b"], "Limit", ParamType::Integer),
                (vec!["c"], "Confirm", ParamType::Boolean),
            ],
        ),
        (
            "nested through properties",
            object(json!({
                "options": {"type": "object", "properties": {
                    "limit": {"type": "integer", "x-mcp-header": "Limit"},
                    "deeper": {"type": "object", "properties": {
                        "flag": {"type": "boolean", "x-mcp-header": "Flag"}
                    }}
                }}
            })),
            vec![
                (
                    vec!["options", "deeper", "flag"],
                    "Flag",
                    ParamType::Boolean,
                ),
                (vec!["options", "limit"], "Limit", ParamType::Integer),
            ],
        ),
        (
            "every tchar",
            object(json!({"a": {"type": "string", "x-mcp-header": "!#$%&'*+-.^_`|~09azAZ"}})),
            vec![(vec!["a"], "!#$%&'*+-.^_`|~09azAZ", ParamType::String)],
        ),
        (
            "a property named x-mcp-header is not an annotation",
            object(json!({"x-mcp-header": {"type": "object"}})),
            vec![],
        ),
        (
            "annotation-shaped data in const, enum, default, examples",
            object(json!({"a": {
                "type": "object",
                "const": {"x-mcp-header": "A"},
                "enum": [{"x-mcp-header": "B"}],
                "default": {"x-mcp-header": "C"},
                "examples": [{"x-mcp-header": "D"}]
            }})),
            vec![],
        ),
        (
            "unannotated $defs, items and oneOf beside a valid annotation",
            json!({
                "type": "object",
                "properties": {
                    "r": {"type": "string", "x-mcp-header": "R"},
                    "s": {"$ref": "#/$defs/S"},
                    "t": {"type": "array", "items": {"type": "string"}}
                },
                "$defs": {"S": {"type": "string"}},
                "oneOf": [{"required": ["r"]}, {"required": ["s"]}]
            }),
            vec![(vec!["r"], "R", ParamType::String)],
        ),
        (
            "$ref beside the annotation on a reachable property",
            json!({
                "type": "object",
                "properties": {"r": {"$ref": "#/$defs/R", "type": "string", "x-mcp-header": "R"}},
                "$defs": {"R": {"maxLength": 8}}
            }),
            vec![(vec!["r"], "R", ParamType::String)],
        ),
        (
            "names that differ beyond case",
            object(json!({
                "a": {"type": "string", "x-mcp-header": "Region"},
                "b": {"type": "string", "x-mcp-header": "Region2"}
            })),
            vec![
                (vec!["a"], "Region", ParamType::String),
                (vec!["b"], "Region2", ParamType::String),
            ],
        ),
    ];
    for (label, schema, expected) in rows {
        let headers =
            ToolHeaders::from_tool(&tool("t", schema)).unwrap_or_else(|e| panic!("{label}: {e}"));
        let got: Vec<_> = headers
            .params()
            .iter()
            .map(|p| {
                (
                    p.path().iter().map(String::as_str).collect::<Vec<_>>(),
                    p.name(),
                    p.param_type(),
                )
            })
            .collect();
        assert_eq!(got, expected, "{label}");
        assert_eq!(headers.tool(), "t");
        assert_eq!(headers.is_empty(), expected.is_empty(), "{label}");
        for param in headers.params() {
            assert_eq!(
                param.header_name().as_str(),
                format!("mcp-param-{}", param.name().to_ascii_lowercase()),
                "{label}"
            );
        }
    }
}

fn annotated(ty: &str) -> Value {
    json!({"type": ty, "x-mcp-header": "H"})
}

#[test]
fn invalid_schemas() {
    let unreachable = AnnotationRule::Unreachable;
    let unsupported = |found: &str| AnnotationRule::UnsupportedType {
        found: found.to_owned(),
    };
    let bad_char = |name: &str, ch: char, position: usize| AnnotationRule::InvalidName {
        name: name.to_owned(),
        source: ParamHeaderNameError::InvalidCharacter { ch, position },
    };
    let with_name = |name: Value| object(json!({"a": {"type": "string", "x-mcp-header": name}}));
    let rows: Vec<(&str, Value, &str, AnnotationRule)> = vec![
        (
            "root",
            json!({"type": "object", "x-mcp-header": "H"}),
            "",
            AnnotationRule::OnRoot,
        ),
        (
            "items",
            object(json!({"tags": {"type": "array", "items": annotated("string")}})),
            "/properties/tags/items",
            unreachable.clone(),
        ),
        (
            "properties under items",
            object(json!({"rows": {"type": "array", "items": {
                "type": "object", "properties": {"id": annotated("string")}
            }}})),
            "/properties/rows/items/properties/id",
            unreachable.clone(),
        ),
        (
            "prefixItems",
            object(
                json!({"t": {"type": "array", "prefixItems": [{"type": "string"}, annotated("string")]}}),
            ),
            "/properties/t/prefixItems/1",
            unreachable.clone(),
        ),
        (
            "contains",
            object(json!({"t": {"type": "array", "contains": annotated("string")}})),
            "/properties/t/contains",
            unreachable.clone(),
        ),
        (
            "oneOf",
            json!({"type": "object", "oneOf": [{"properties": {"a": annotated("string")}}]}),
            "/oneOf/0/properties/a",
            unreachable.clone(),
        ),
        (
            "anyOf",
            object(json!({"a": {"anyOf": [annotated("string"), {"type": "integer"}]}})),
            "/properties/a/anyOf/0",
            unreachable.clone(),
        ),
        (
            "allOf",
            json!({"type": "object", "allOf": [{"properties": {"a": annotated("string")}}]}),
            "/allOf/0/properties/a",
            unreachable.clone(),
        ),
        (
            "not",
            object(json!({"a": {"type": "string", "not": annotated("string")}})),
            "/properties/a/not",
            unreachable.clone(),
        ),
        (
            "if",
            json!({"type": "object", "if": {"properties": {"a": annotated("string")}}}),
            "/if/properties/a",
            unreachable.clone(),
        ),
        (
            "then",
            json!({"type": "object", "then": {"properties": {"a": annotated("string")}}}),
            "/then/properties/a",
            unreachable.clone(),
        ),
        (
            "else",
            json!({"type": "object", "else": {"properties": {"a": annotated("string")}}}),
            "/else/properties/a",
            unreachable.clone(),
        ),
        (
            "$ref target in $defs",
            json!({
                "type": "object",
                "properties": {"a": {"$ref": "#/$defs/A"}},
                "$defs": {"A": annotated("string")}
            }),
            "/$defs/A",
            unreachable.clone(),
        ),
        (
            "definitions",
            json!({"type": "object", "definitions": {"A": annotated("string")}}),
            "/definitions/A",
            unreachable.clone(),
        ),
        (
            "additionalProperties",
            json!({"type": "object", "additionalProperties": annotated("string")}),
            "/additionalProperties",
            unreachable.clone(),
        ),
        (
            "patternProperties",
            json!({"type": "object", "patternProperties": {"^x/": annotated("string")}}),
            "/patternProperties/^x~1",
            unreachable.clone(),
        ),
        (
            "dependentSchemas",
            json!({"type": "object", "dependentSchemas": {"a": {"properties": {"b": annotated("string")}}}}),
            "/dependentSchemas/a/properties/b",
            unreachable.clone(),
        ),
        (
            "propertyNames",
            json!({"type": "object", "propertyNames": annotated("string")}),
            "/propertyNames",
            unreachable.clone(),
        ),
        (
            "unevaluatedProperties",
            json!({"type": "object", "unevaluatedProperties": annotated("string")}),
            "/unevaluatedProperties",
            unreachable.clone(),
        ),
        (
            "unknown keyword",
            json!({"type": "object", "x-vendor": {"nested": annotated("string")}}),
            "/x-vendor/nested",
            unreachable,
        ),
        (
            "number value",
            with_name(json!(5)),
            "/properties/a",
            AnnotationRule::NotAString { found: "a number" },
        ),
        (
            "null value",
            with_name(json!(null)),
            "/properties/a",
            AnnotationRule::NotAString { found: "null" },
        ),
        (
            "boolean value",
            with_name(json!(true)),
            "/properties/a",
            AnnotationRule::NotAString { found: "a boolean" },
        ),
        (
            "array value",
            with_name(json!(["H"])),
            "/properties/a",
            AnnotationRule::NotAString { found: "an array" },
        ),
        (
            "empty",
            with_name(json!("")),
            "/properties/a",
            AnnotationRule::InvalidName {
                name: String::new(),
                source: ParamHeaderNameError::Empty,
            },
        ),
        (
            "space",
            with_name(json!("a b")),
            "/properties/a",
            bad_char("a b", ' ', 1),
        ),
        (
            "CR LF",
            with_name(json!("a\r\nb")),
            "/properties/a",
            bad_char("a\r\nb", '\r', 1),
        ),
        (
            "LF",
            with_name(json!("ab\n")),
            "/properties/a",
            bad_char("ab\n", '\n', 2),
        ),
        (
            "colon",
            with_name(json!("a:b")),
            "/properties/a",
            bad_char("a:b", ':', 1),
        ),
        (
            "non-ASCII",
            with_name(json!("régión")),
            "/properties/a",
            bad_char("régión", 'é', 1),
        ),
        (
            "number type",
            object(json!({"a": annotated("number")})),
            "/properties/a",
            unsupported("number"),
        ),
        (
            "object type",
            object(json!({"a": annotated("object")})),
            "/properties/a",
            unsupported("object"),
        ),
        (
            "array type",
            object(json!({"a": annotated("array")})),
            "/properties/a",
            unsupported("array"),
        ),
        (
            "null type",
            object(json!({"a": annotated("null")})),
            "/properties/a",
            unsupported("null"),
        ),
        (
            "missing type",
            object(json!({"a": {"x-mcp-header": "H"}})),
            "/properties/a",
            unsupported("none"),
        ),
        (
            "type array",
            object(json!({"a": {"type": ["string", "null"], "x-mcp-header": "H"}})),
            "/properties/a",
            unsupported(r#"["string","null"]"#),
        ),
        (
            "duplicate ignoring case",
            object(json!({
                "a": {"type": "string", "x-mcp-header": "Region"},
                "b": {"type": "string", "x-mcp-header": "rEGION"}
            })),
            "/properties/b",
            AnnotationRule::Duplicate {
                name: "rEGION".into(),
                first: "/properties/a".into(),
            },
        ),
        (
            "duplicate across nesting",
            object(json!({
                "a": {"type": "string", "x-mcp-header": "Region"},
                "b": {"type": "object", "properties": {"c": {"type": "integer", "x-mcp-header": "REGION"}}}
            })),
            "/properties/b/properties/c",
            AnnotationRule::Duplicate {
                name: "REGION".into(),
                first: "/properties/a".into(),
            },
        ),
        (
            "pointer escaping",
            object(json!({"a/b~c": annotated("number")})),
            "/properties/a~1b~0c",
            unsupported("number"),
        ),
    ];
    for (label, schema, pointer, rule) in rows {
        let got = ToolHeaders::from_tool(&tool("bad_tool", schema));
        let expected = InvalidAnnotation {
            tool: "bad_tool".into(),
            pointer: pointer.into(),
            rule,
        };
        assert_eq!(got, Err(expected), "{label}");
    }
}

#[test]
fn invalid_annotation_names_tool_pointer_and_rule() {
    let err = ToolHeaders::from_tool(&tool(
        "execute_sql",
        object(json!({"ratio": annotated("number")})),
    ))
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("\"execute_sql\""), "{text}");
    assert!(text.contains("/properties/ratio"), "{text}");
    assert!(text.contains("number"), "{text}");
}

#[test]
fn deep_schemas_do_not_overflow_the_stack() {
    // Far deeper than a recursive walk survives on a test thread's stack. Built by moves and
    // never cloned or dropped (serde_json's clone and drop recurse, and `json!` clones).
    let wrap = |key: &str, inner: Value, extra: Option<(&str, Value)>| {
        let mut map = Map::new();
        map.insert(key.to_owned(), inner);
        if let Some((k, v)) = extra {
            map.insert(k.to_owned(), v);
        }
        Value::Object(map)
    };
    let mut schema = annotated("string");
    for _ in 0..100_000 {
        schema = wrap("items", schema, Some(("type", json!("array"))));
    }
    let Value::Object(input_schema) = wrap(
        "properties",
        wrap("a", schema, None),
        Some(("type", json!("object"))),
    ) else {
        unreachable!()
    };
    let deep = Tool {
        name: "deep".into(),
        input_schema,
        ..Tool::default()
    };
    let got = ToolHeaders::from_tool(&deep).map_err(|e| (e.rule, e.pointer.len()));
    // "/properties/a" then "/items" 100 000 times.
    assert_eq!(
        got,
        Err((
            AnnotationRule::Unreachable,
            "/properties/a".len() + 6 * 100_000
        ))
    );
    std::mem::forget(deep);
}

// ---------------------------------------------------------------------------------------------
// Client: headers
// ---------------------------------------------------------------------------------------------

fn sql_tool() -> Tool {
    tool(
        "execute_sql",
        object(json!({
            "region": {"type": "string", "x-mcp-header": "Region"},
            "options": {"type": "object", "properties": {
                "limit": {"type": "integer", "x-mcp-header": "Limit"}
            }},
            "confirm": {"type": "boolean", "x-mcp-header": "Confirm"},
            "query": {"type": "string"}
        })),
    )
}

fn registry() -> ParamHeaderRegistry {
    let mut registry = ParamHeaderRegistry::default();
    let (shown, rejected) = registry.observe_tools(vec![sql_tool()]);
    assert_eq!(shown.len(), 1);
    assert!(rejected.is_empty());
    registry
}

fn headers_as_text(headers: &[(HeaderName, HeaderValue)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn client_headers() {
    let registry = registry();
    type Row = (&'static str, Value, Vec<(&'static str, &'static str)>);
    let rows: Vec<Row> = vec![
        (
            "plain values",
            json!({"region": "us-west1", "options": {"limit": 42}, "confirm": true, "query": "x"}),
            vec![
                ("mcp-param-region", "us-west1"),
                ("mcp-param-limit", "42"),
                ("mcp-param-confirm", "true"),
            ],
        ),
        (
            "false",
            json!({"confirm": false}),
            vec![("mcp-param-confirm", "false")],
        ),
        (
            "inner space stays plain",
            json!({"region": "a b"}),
            vec![("mcp-param-region", "a b")],
        ),
        (
            "unicode",
            json!({"region": "日本"}),
            vec![("mcp-param-region", "=?base64?5pel5pys?=")],
        ),
        (
            "accent",
            json!({"region": "héllo"}),
            vec![("mcp-param-region", "=?base64?aMOpbGxv?=")],
        ),
        (
            "a literal shaped like the sentinel",
            json!({"region": "=?base64?abc?="}),
            vec![("mcp-param-region", "=?base64?PT9iYXNlNjQ/YWJjPz0=?=")],
        ),
        (
            "leading whitespace",
            json!({"region": " x"}),
            vec![("mcp-param-region", "=?base64?IHg=?=")],
        ),
        (
            "newline",
            json!({"region": "a\nb"}),
            vec![("mcp-param-region", "=?base64?YQpi?=")],
        ),
        (
            "empty string",
            json!({"region": ""}),
            vec![("mcp-param-region", "")],
        ),
        (
            "largest safe integer",
            json!({"options": {"limit": MAX_SAFE_INTEGER}}),
            vec![("mcp-param-limit", "9007199254740991")],
        ),
        (
            "smallest safe integer",
            json!({"options": {"limit": -MAX_SAFE_INTEGER}}),
            vec![("mcp-param-limit", "-9007199254740991")],
        ),
        (
            "integral float",
            json!({"options": {"limit": 5.0}}),
            vec![("mcp-param-limit", "5")],
        ),
        (
            "2^53 is omitted",
            json!({"options": {"limit": MAX_SAFE_INTEGER + 1}}),
            vec![],
        ),
        (
            "-2^53 is omitted",
            json!({"options": {"limit": -MAX_SAFE_INTEGER - 1}}),
            vec![],
        ),
        (
            "u64::MAX is omitted",
            json!({"options": {"limit": u64::MAX}}),
            vec![],
        ),
        (
            "a fraction is omitted",
            json!({"options": {"limit": 1.5}}),
            vec![],
        ),
        ("an array is omitted", json!({"region": ["a"]}), vec![]),
        ("an object is omitted", json!({"region": {}}), vec![]),
        (
            "null is omitted",
            json!({"region": null, "confirm": null}),
            vec![],
        ),
        ("a null parent is absent", json!({"options": null}), vec![]),
        (
            "a non-object parent is absent",
            json!({"options": "limit"}),
            vec![],
        ),
        ("absent", json!({"query": "select 1"}), vec![]),
        (
            "the body's own type is mirrored",
            json!({"region": 7, "confirm": "yes"}),
            vec![("mcp-param-region", "7"), ("mcp-param-confirm", "yes")],
        ),
    ];
    for (label, arguments, expected) in rows {
        let arguments = args(arguments);
        let got = headers_as_text(&registry.headers_for_call("execute_sql", Some(&arguments)));
        let mut got = got;
        got.sort();
        let mut expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
        expected.sort();
        assert_eq!(got, expected, "{label}");
    }
    assert!(registry.headers_for_call("execute_sql", None).is_empty());
    let arguments = args(json!({"region": "x"}));
    assert!(
        registry
            .headers_for_call("other_tool", Some(&arguments))
            .is_empty()
    );
    assert!(
        registry
            .headers_for_call("EXECUTE_SQL", Some(&arguments))
            .is_empty()
    );
}

// ---------------------------------------------------------------------------------------------
// Client: registry
// ---------------------------------------------------------------------------------------------

#[test]
fn registry_filters_invalid_tools_in_order() {
    let mut registry = ParamHeaderRegistry::default();
    assert_eq!(registry.max_tools(), DEFAULT_MAX_TOOLS);
    let tools = vec![
        tool("plain", object(json!({"q": {"type": "string"}}))),
        tool("bad_number", object(json!({"r": annotated("number")}))),
        sql_tool(),
        tool(
            "bad_items",
            object(json!({"t": {"type": "array", "items": annotated("string")}})),
        ),
        tool("also_plain", json!({"type": "object"})),
    ];
    let (shown, rejected) = registry.observe_tools(tools);
    let names: Vec<_> = shown.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["plain", "execute_sql", "also_plain"]);
    let rejected: Vec<_> = rejected
        .iter()
        .map(|e| (e.tool.as_str(), e.pointer.as_str()))
        .collect();
    assert_eq!(
        rejected,
        [
            ("bad_number", "/properties/r"),
            ("bad_items", "/properties/t/items")
        ]
    );
    // Only annotated tools take room.
    assert_eq!(registry.len(), 1);
    assert!(registry.get("execute_sql").is_some());
    assert!(registry.get("plain").is_none());
}

#[test]
fn registry_forgets_tools_that_become_invalid_or_unannotated() {
    let mut registry = registry();
    let arguments = args(json!({"region": "eu"}));
    assert_eq!(
        registry
            .headers_for_call("execute_sql", Some(&arguments))
            .len(),
        1
    );

    let (shown, rejected) = registry.observe_tools(vec![tool(
        "execute_sql",
        object(json!({"region": annotated("number")})),
    )]);
    assert!(shown.is_empty());
    assert_eq!(rejected.len(), 1);
    assert!(
        registry
            .headers_for_call("execute_sql", Some(&arguments))
            .is_empty()
    );
    assert!(registry.is_empty());

    let mut registry = self::registry();
    let (shown, _) = registry.observe_tools(vec![tool(
        "execute_sql",
        object(json!({"region": {"type": "string"}})),
    )]);
    assert_eq!(shown.len(), 1);
    assert!(
        registry
            .headers_for_call("execute_sql", Some(&arguments))
            .is_empty()
    );

    // A changed annotation replaces the old one.
    let mut registry = self::registry();
    registry.observe_tools(vec![tool(
        "execute_sql",
        object(json!({"region": {"type": "string", "x-mcp-header": "Zone"}})),
    )]);
    let got = headers_as_text(&registry.headers_for_call("execute_sql", Some(&arguments)));
    assert_eq!(got, [("mcp-param-zone".to_owned(), "eu".to_owned())]);

    assert!(registry.remove("execute_sql").is_some());
    assert!(registry.remove("execute_sql").is_none());
    registry.observe_tools(vec![sql_tool()]);
    registry.clear();
    assert!(registry.is_empty());
}

#[test]
fn registry_is_bounded() {
    let mut registry = ParamHeaderRegistry::new(1);
    let annotated_tool = |name: &str| {
        tool(
            name,
            object(json!({"r": {"type": "string", "x-mcp-header": "R"}})),
        )
    };
    let (shown, rejected) = registry.observe_tools(vec![
        annotated_tool("first"),
        tool("unannotated", object(json!({"q": {"type": "string"}}))),
        annotated_tool("second"),
    ]);
    let names: Vec<_> = shown.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["first", "unannotated"]);
    assert_eq!(
        rejected,
        [InvalidAnnotation {
            tool: "second".into(),
            pointer: String::new(),
            rule: AnnotationRule::RegistryFull { limit: 1 },
        }]
    );
    assert_eq!(registry.len(), 1);
    // A tool already tracked still fits when seen again.
    let (shown, rejected) = registry.observe_tools(vec![annotated_tool("first")]);
    assert_eq!((shown.len(), rejected.len()), (1, 0));
    // Room freed, room taken.
    registry.remove("first");
    let (shown, rejected) = registry.observe_tools(vec![annotated_tool("second")]);
    assert_eq!((shown.len(), rejected.len()), (1, 0));

    let mut none = ParamHeaderRegistry::new(0);
    let (shown, rejected) = none.observe_tools(vec![annotated_tool("first")]);
    assert_eq!((shown.len(), rejected.len()), (0, 1));
}

// ---------------------------------------------------------------------------------------------
// Server: check
// ---------------------------------------------------------------------------------------------

fn header_map(headers: &[(&str, &[u8])]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_bytes(value).unwrap(),
        );
    }
    map
}

fn sql_headers() -> ToolHeaders {
    ToolHeaders::from_tool(&sql_tool()).unwrap()
}

fn assert_reject(got: Result<(), HttpReject>, header: &str, fragment: &str, label: &str) {
    let reject = got.expect_err(label);
    assert_eq!(reject.status, StatusCode::BAD_REQUEST, "{label}");
    let error = reject.error.expect(label);
    assert_eq!(error.id, None, "{label}");
    assert_eq!(error.error.code, ErrorCode::HEADER_MISMATCH, "{label}");
    assert_eq!(error.error.code.0, -32020, "{label}");
    assert!(
        error.error.message.contains(header),
        "{label}: {:?} does not name {header}",
        error.error.message
    );
    assert!(
        error.error.message.contains(fragment),
        "{label}: {:?} does not say {fragment:?}",
        error.error.message
    );
}

#[test]
fn server_accepts_matching_headers() {
    let tool = sql_headers();
    let full = args(json!({"region": "eu-west-1", "options": {"limit": 7}, "confirm": false}));
    type Row = (
        &'static str,
        Vec<(&'static str, &'static [u8])>,
        Option<Map<String, Value>>,
    );
    let rows: Vec<Row> = vec![
        (
            "all three",
            vec![
                ("mcp-param-region", b"eu-west-1"),
                ("mcp-param-limit", b"7"),
                ("mcp-param-confirm", b"false"),
            ],
            Some(full.clone()),
        ),
        (
            "header names in any case",
            vec![
                ("MCP-PARAM-REGION", b"eu-west-1"),
                ("Mcp-Param-Limit", b"7"),
                ("mcp-PARAM-confirm", b"false"),
            ],
            Some(full.clone()),
        ),
        (
            "integers compared numerically; base64 decoded",
            vec![
                ("mcp-param-region", b"=?base64?ZXUtd2VzdC0x?="),
                ("mcp-param-limit", b"007"),
                ("mcp-param-confirm", b"=?base64?ZmFsc2U=?="),
            ],
            Some(full.clone()),
        ),
        (
            "unannotated Mcp-Param-* ignored",
            vec![
                ("mcp-param-region", b"eu-west-1"),
                ("mcp-param-limit", b"7"),
                ("mcp-param-confirm", b"false"),
                ("mcp-param-query", b"whatever\xff"),
            ],
            Some(full),
        ),
        (
            "nothing sent, nothing in the body",
            vec![],
            Some(args(json!({"query": "q"}))),
        ),
        ("no arguments at all", vec![], None),
        (
            "nulls need no header",
            vec![],
            Some(args(json!({"region": null, "options": {"limit": null}}))),
        ),
        (
            "unicode",
            vec![("mcp-param-region", b"=?base64?5pel5pys?=")],
            Some(args(json!({"region": "日本"}))),
        ),
    ];
    for (label, headers, arguments) in rows {
        assert_eq!(
            check_param_headers(&header_map(&headers), &tool, arguments.as_ref()),
            Ok(()),
            "{label}"
        );
    }
}

#[test]
fn server_refuses_mismatches() {
    let tool = sql_headers();
    let region = |value: Value| Some(args(json!({"region": value})));
    type Row = (
        &'static str,
        Vec<(&'static str, &'static [u8])>,
        Option<Map<String, Value>>,
        &'static str,
        &'static str,
    );
    let rows: Vec<Row> = vec![
        (
            "header without argument",
            vec![("mcp-param-region", b"eu")],
            Some(args(json!({}))),
            "Mcp-Param-Region",
            "absent or null",
        ),
        (
            "header without arguments",
            vec![("mcp-param-region", b"eu")],
            None,
            "Mcp-Param-Region",
            "absent or null",
        ),
        (
            "header for a null argument",
            vec![("mcp-param-region", b"null")],
            region(json!(null)),
            "Mcp-Param-Region",
            "absent or null",
        ),
        (
            "argument without header",
            vec![],
            region(json!("eu")),
            "Mcp-Param-Region",
            "missing",
        ),
        (
            "nested argument without header",
            vec![],
            Some(args(json!({"options": {"limit": 3}}))),
            "Mcp-Param-Limit",
            "/options/limit",
        ),
        (
            "false without header",
            vec![],
            Some(args(json!({"confirm": false}))),
            "Mcp-Param-Confirm",
            "missing",
        ),
        (
            "different string",
            vec![("mcp-param-region", b"us")],
            region(json!("eu")),
            "Mcp-Param-Region",
            "does not match",
        ),
        (
            "values are case-sensitive",
            vec![("mcp-param-region", b"EU")],
            region(json!("eu")),
            "Mcp-Param-Region",
            "does not match",
        ),
        (
            "base64 of another value",
            vec![("mcp-param-region", b"=?base64?dXM=?=")],
            region(json!("eu")),
            "Mcp-Param-Region",
            "does not match",
        ),
        (
            "a sentinel literal sent unencoded",
            vec![("mcp-param-region", b"=?base64?ZXU=?=")],
            region(json!("=?base64?ZXU=?=")),
            "Mcp-Param-Region",
            "does not match",
        ),
        (
            "different integer",
            vec![("mcp-param-limit", b"8")],
            Some(args(json!({"options": {"limit": 7}}))),
            "Mcp-Param-Limit",
            "does not match",
        ),
        (
            "integer written as a float",
            vec![("mcp-param-limit", b"7.0")],
            Some(args(json!({"options": {"limit": 7}}))),
            "Mcp-Param-Limit",
            "does not match",
        ),
        (
            "boolean in another case",
            vec![("mcp-param-confirm", b"True")],
            Some(args(json!({"confirm": true}))),
            "Mcp-Param-Confirm",
            "does not match",
        ),
        (
            "non-ASCII byte",
            vec![("mcp-param-region", b"\xc3\xa9")],
            region(json!("é")),
            "Mcp-Param-Region",
            "invalid",
        ),
        (
            "obs-text byte",
            vec![("mcp-param-region", b"a\xffb")],
            region(json!("a\u{ff}b")),
            "Mcp-Param-Region",
            "invalid",
        ),
        (
            "bad base64",
            vec![("mcp-param-region", b"=?base64?abc?=")],
            region(json!("i\u{b7}")),
            "Mcp-Param-Region",
            "invalid",
        ),
        (
            "sent twice",
            vec![("mcp-param-region", b"eu"), ("Mcp-Param-Region", b"eu")],
            region(json!("eu")),
            "Mcp-Param-Region",
            "more than once",
        ),
        (
            "unmirrorable integer without header",
            vec![],
            Some(args(json!({"options": {"limit": MAX_SAFE_INTEGER + 1}}))),
            "Mcp-Param-Limit",
            "cannot be mirrored",
        ),
        (
            "unmirrorable integer with header",
            vec![("mcp-param-limit", b"9007199254740992")],
            Some(args(json!({"options": {"limit": MAX_SAFE_INTEGER + 1}}))),
            "Mcp-Param-Limit",
            "cannot be mirrored",
        ),
        (
            "an object argument",
            vec![("mcp-param-region", b"{}")],
            region(json!({})),
            "Mcp-Param-Region",
            "cannot be mirrored",
        ),
        (
            "one good header does not excuse a bad one",
            vec![("mcp-param-region", b"eu"), ("mcp-param-confirm", b"true")],
            Some(args(json!({"region": "eu", "confirm": false}))),
            "Mcp-Param-Confirm",
            "does not match",
        ),
    ];
    for (label, headers, arguments, header, fragment) in rows {
        assert_reject(
            check_param_headers(&header_map(&headers), &tool, arguments.as_ref()),
            header,
            fragment,
            label,
        );
    }
}

#[test]
fn reject_renders_as_a_json_rpc_body() {
    let tool = sql_headers();
    let arguments = args(json!({"region": "eu"}));
    let reject = check_param_headers(&HeaderMap::new(), &tool, Some(&arguments)).unwrap_err();
    let response = reject.to_response();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(body["error"]["code"], -32020);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Mcp-Param-Region")
    );
}

// ---------------------------------------------------------------------------------------------
// Round trip
// ---------------------------------------------------------------------------------------------

/// An argument slot: absent, `null`, or a value.
#[derive(Debug, Clone)]
enum Slot<T> {
    Absent,
    Null,
    Set(T),
}

fn slot<T: std::fmt::Debug + Clone>(
    value: impl Strategy<Value = T>,
) -> impl Strategy<Value = Slot<T>> {
    prop_oneof![
        1 => Just(Slot::Absent),
        1 => Just(Slot::Null),
        6 => value.prop_map(Slot::Set),
    ]
}

fn put<T: Into<Value>>(object: &mut Map<String, Value>, key: &str, slot: Slot<T>) {
    match slot {
        Slot::Absent => {}
        Slot::Null => {
            object.insert(key.to_owned(), Value::Null);
        }
        Slot::Set(value) => {
            object.insert(key.to_owned(), value.into());
        }
    }
}

fn build(region: Slot<String>, limit: Slot<i64>, confirm: Slot<bool>) -> Map<String, Value> {
    let mut arguments = Map::new();
    put(&mut arguments, "region", region);
    let mut options = Map::new();
    put(&mut options, "limit", limit);
    arguments.insert("options".into(), Value::Object(options));
    put(&mut arguments, "confirm", confirm);
    arguments.insert("query".into(), json!("select 1"));
    arguments
}

/// Strings biased towards the codec's edges: sentinel shapes, whitespace, controls, unicode.
fn edgy_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,12}",
        "[ \t]{0,2}[a-z=?]{0,6}[ \t]{0,2}",
        "=\\?(base64|BASE64|Base64)\\?[A-Za-z0-9+/=?]{0,8}",
        "[\u{0}-\u{1f}\u{7f}\u{80}-\u{ff}é日😀]{1,6}",
    ]
}

fn safe_integer() -> impl Strategy<Value = i64> {
    prop_oneof![
        -MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER,
        Just(MAX_SAFE_INTEGER),
        Just(-MAX_SAFE_INTEGER),
        Just(0_i64),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn client_headers_pass_the_server_check(
        region in slot(edgy_string()),
        limit in slot(safe_integer()),
        confirm in slot(any::<bool>()),
        alter in 0_usize..3,
        suffix in edgy_string(),
    ) {
        let registry = registry();
        let tool = registry.get("execute_sql").unwrap();
        let arguments = build(region.clone(), limit.clone(), confirm.clone());
        let produced = registry.headers_for_call("execute_sql", Some(&arguments));
        let expected_count = [
            matches!(region, Slot::Set(_)),
            matches!(limit, Slot::Set(_)),
            matches!(confirm, Slot::Set(_)),
        ]
        .iter()
        .filter(|set| **set)
        .count();
        prop_assert_eq!(produced.len(), expected_count);
        let headers: HeaderMap = produced.clone().into_iter().collect();
        prop_assert_eq!(check_param_headers(&headers, tool, Some(&arguments)), Ok(()));

        // Any other value in the body, with the same headers, is refused.
        let (altered, header) = match alter {
            0 => {
                let new = match &region {
                    Slot::Set(text) => Slot::Set(format!("{text}{}", if suffix.is_empty() { "x" } else { &suffix })),
                    Slot::Absent | Slot::Null => Slot::Set(suffix),
                };
                (build(new, limit, confirm), "Mcp-Param-Region")
            }
            1 => {
                let new = match limit {
                    Slot::Set(n) if n == MAX_SAFE_INTEGER => Slot::Set(n - 1),
                    Slot::Set(n) => Slot::Set(n + 1),
                    Slot::Absent | Slot::Null => Slot::Set(0),
                };
                (build(region, new, confirm), "Mcp-Param-Limit")
            }
            _ => {
                let new = match confirm {
                    Slot::Set(flag) => Slot::Set(!flag),
                    Slot::Absent | Slot::Null => Slot::Set(true),
                };
                (build(region, limit, new), "Mcp-Param-Confirm")
            }
        };
        let reject = check_param_headers(&headers, tool, Some(&altered)).unwrap_err();
        let error = reject.error.unwrap();
        prop_assert_eq!(reject.status, StatusCode::BAD_REQUEST);
        prop_assert_eq!(error.error.code, ErrorCode::HEADER_MISMATCH);
        prop_assert!(error.error.message.contains(header), "{}", error.error.message);

        // Dropping any one produced header is refused too.
        for (name, _) in &produced {
            let mut fewer = headers.clone();
            fewer.remove(name);
            prop_assert!(check_param_headers(&fewer, tool, Some(&arguments)).is_err());
        }
    }
}
