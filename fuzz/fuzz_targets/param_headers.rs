//! `x-mcp-header`: arbitrary JSON as a tool's `inputSchema`, and arbitrary argument objects.
//!
//! The input is split on `0xFF` (a byte JSON text never contains): the first piece is the
//! schema, each further piece a JSON value used as a call's `arguments` (pieces that are not
//! objects are skipped; a call without arguments is always tried too). Non-object schemas are
//! skipped.
//!
//! Invariants: no panic, and
//! - `ToolHeaders::from_schema` refusing a schema names a JSON pointer that exists in it;
//!   accepting it yields annotations whose paths lead, through `properties`, to a schema that
//!   carries that annotation and the declared type, with header names unique ignoring case;
//! - whenever `from_schema` succeeds, the headers the client produces for the arguments
//!   (`headers_for_call`) pass the server's `check_param_headers` — unless an annotated
//!   argument cannot be mirrored at all (a fraction, an unsafe integer, an array or object), in
//!   which case the check refuses; one header per mirrorable argument, none for absent/null;
//! - the check refuses the client's headers with one of them removed, repeated or altered;
//! - `ParamHeaderRegistry::observe_tools` agrees with `from_schema`.
#![no_main]

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use mcp_proto::http::header_value::{encode_param_value, validate_param_header_name};
use mcp_proto::streamable::{ParamHeaderRegistry, ToolHeaders, check_param_headers};
use mcp_proto::types::Tool;
use serde_json::{Map, Value};

fn check_call(tool: &ToolHeaders, arguments: Option<&Map<String, Value>>) {
    let headers = tool.headers_for_call(arguments);
    let present: Vec<_> = tool.params().iter().filter_map(|p| p.value_in(arguments)).collect();
    let unmirrorable = present.iter().any(|value| encode_param_value(value).is_err());
    let mirrorable = present.iter().filter(|value| encode_param_value(value).is_ok()).count();
    assert_eq!(headers.len(), mirrorable, "one header per mirrorable argument: {headers:?}");
    let map: HeaderMap = headers.iter().cloned().collect();
    assert_eq!(map.keys_len(), headers.len(), "two annotations produced the same header: {headers:?}");
    let verdict = check_param_headers(&map, tool, arguments);
    if unmirrorable {
        assert!(verdict.is_err(), "an unmirrorable argument was accepted: {arguments:?}");
        return;
    }
    if let Err(reject) = verdict {
        panic!("the server refuses the client's own headers {headers:?} for {arguments:?}: {reject:?}");
    }
    let Some((name, value)) = headers.first() else { return };
    let mut without = map.clone();
    without.remove(name);
    assert!(check_param_headers(&without, tool, arguments).is_err(), "a missing {name} was accepted");
    let mut twice = map.clone();
    twice.append(name.clone(), value.clone());
    assert!(check_param_headers(&twice, tool, arguments).is_err(), "a repeated {name} was accepted");
    let mut altered = map.clone();
    let mut bytes = value.as_bytes().to_vec();
    bytes.push(b'x');
    altered.insert(name.clone(), HeaderValue::from_bytes(&bytes).expect("still a header value"));
    assert!(check_param_headers(&altered, tool, arguments).is_err(), "an altered {name} was accepted");
}

fuzz_target!(|data: &[u8]| {
    let mut pieces = data.split(|&b| b == 0xFF);
    let Some(Ok(Value::Object(schema))) = pieces.next().map(serde_json::from_slice::<Value>) else { return };
    let root = Value::Object(schema.clone());
    let tool = match ToolHeaders::from_schema("t", &schema) {
        Ok(tool) => tool,
        Err(invalid) => {
            assert!(root.pointer(&invalid.pointer).is_some(), "{invalid} names a place that does not exist");
            check_registry(&schema, None);
            return;
        }
    };
    let mut seen = std::collections::HashSet::new();
    for param in tool.params() {
        assert!(!param.path().is_empty(), "the root was accepted as a property");
        assert!(validate_param_header_name(param.name()).is_ok());
        assert!(seen.insert(param.name().to_ascii_lowercase()), "{} used twice", param.name());
        assert_eq!(param.header_name().as_str(), format!("mcp-param-{}", param.name().to_ascii_lowercase()));
        let pointer: String = param.path().iter().map(|key| format!("/properties/{}", key.replace('~', "~0").replace('/', "~1"))).collect();
        let property = root.pointer(&pointer).unwrap_or_else(|| panic!("{pointer} does not exist"));
        assert_eq!(property.get("x-mcp-header").and_then(Value::as_str), Some(param.name()), "at {pointer}");
        assert_eq!(property.get("type").and_then(Value::as_str), Some(param.param_type().as_str()), "at {pointer}");
    }
    check_call(&tool, None);
    for piece in pieces.take(8) {
        if let Ok(Value::Object(arguments)) = serde_json::from_slice::<Value>(piece) {
            check_call(&tool, Some(&arguments));
        }
    }
    check_registry(&schema, Some(&tool));
});

/// The client's registry keeps exactly the valid annotated tools.
fn check_registry(schema: &Map<String, Value>, expected: Option<&ToolHeaders>) {
    let tool = serde_json::json!({"name": "t", "inputSchema": schema});
    let Ok(tool) = serde_json::from_value::<Tool>(tool) else { return };
    let mut registry = ParamHeaderRegistry::default();
    let (shown, rejected) = registry.observe_tools(vec![tool]);
    match expected {
        None => assert!(shown.is_empty() && rejected.len() == 1, "an invalid tool was shown"),
        Some(headers) => {
            assert!(shown.len() == 1 && rejected.is_empty(), "a valid tool was hidden: {rejected:?}");
            let kept = registry.get("t");
            if headers.is_empty() {
                assert!(kept.is_none(), "a tool without annotations takes room");
            } else {
                assert_eq!(kept, Some(headers), "the registry disagrees with from_schema");
            }
        }
    }
}
