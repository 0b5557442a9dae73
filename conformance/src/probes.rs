//! Wire-level probes: each checks one rule of the protocol against `mcp-proto` and says why it
//! failed. They are computed on every run, never recorded.

use mcp_proto::jsonrpc::{self, DecodeOptions, Decoded, ErrorCode, Message};

/// One named check.
pub(crate) struct Probe {
    pub(crate) area: &'static str,
    pub(crate) name: String,
    pub(crate) check: Box<dyn Fn() -> Result<(), String>>,
}

fn probe(
    area: &'static str,
    name: impl Into<String>,
    check: impl Fn() -> Result<(), String> + 'static,
) -> Probe {
    Probe {
        area,
        name: name.into(),
        check: Box::new(check),
    }
}

pub(crate) fn all() -> Vec<Probe> {
    let mut probes = jsonrpc_probes();
    probes.sort_by(|a, b| (a.area, &a.name).cmp(&(b.area, &b.name)));
    probes
}

/// A body that must be refused with `code`.
fn refused(
    body: &'static str,
    code: ErrorCode,
    options: DecodeOptions,
) -> impl Fn() -> Result<(), String> {
    move || match jsonrpc::decode(body.as_bytes(), &options) {
        Err(err) if err.code() == code => Ok(()),
        Err(err) => Err(format!("answered {} instead of {}", err.code().0, code.0)),
        Ok(decoded) => Err(format!("accepted as {decoded:?}")),
    }
}

fn jsonrpc_probes() -> Vec<Probe> {
    let default = DecodeOptions::default();
    let legacy_batches = DecodeOptions::for_protocol_version("2025-03-26");
    vec![
        probe(
            "json-rpc",
            "malformed JSON answers -32700",
            refused("{\"jsonrpc\":", ErrorCode::PARSE_ERROR, default),
        ),
        probe(
            "json-rpc",
            "a non-object answers -32600",
            refused("42", ErrorCode::INVALID_REQUEST, default),
        ),
        probe(
            "json-rpc",
            "id: null is an invalid request, not a notification",
            refused(
                r#"{"jsonrpc":"2.0","id":null,"method":"tools/list"}"#,
                ErrorCode::INVALID_REQUEST,
                default,
            ),
        ),
        probe(
            "json-rpc",
            "a missing jsonrpc member answers -32600",
            refused(
                r#"{"id":1,"method":"ping"}"#,
                ErrorCode::INVALID_REQUEST,
                default,
            ),
        ),
        probe(
            "json-rpc",
            "batches are refused outside 2025-03-26",
            refused(
                r#"[{"jsonrpc":"2.0","method":"a"}]"#,
                ErrorCode::INVALID_REQUEST,
                default,
            ),
        ),
        probe(
            "json-rpc",
            "batches decode under 2025-03-26",
            move || match jsonrpc::decode(
                br#"[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"b"}]"#,
                &legacy_batches,
            ) {
                Ok(Decoded::Batch(items))
                    if items.len() == 2 && items.iter().all(Result::is_ok) =>
                {
                    Ok(())
                }
                other => Err(format!("decoded as {other:?}")),
            },
        ),
        probe(
            "json-rpc",
            "the refusal keeps a readable id",
            || match jsonrpc::decode(
                br#"{"jsonrpc":"1.0","id":"abc","method":"x"}"#,
                &DecodeOptions::default(),
            ) {
                Err(err) if err.error_response().id == Some("abc".into()) => Ok(()),
                other => Err(format!("got {other:?}")),
            },
        ),
        probe(
            "json-rpc",
            "encoded messages never contain a line break",
            || {
                let pretty = "{\n\"jsonrpc\": \"2.0\",\n\"id\": 1,\n\"method\": \"x\",\n\"params\": {\n\"a\": 1\n}\n}";
                let message = jsonrpc::decode_message(pretty.as_bytes(), &DecodeOptions::default())
                    .map_err(|e| e.to_string())?;
                let bytes = jsonrpc::encode(&message);
                if bytes.iter().any(|b| matches!(b, b'\n' | b'\r')) {
                    return Err("a raw line break survived encoding".into());
                }
                matches!(
                    jsonrpc::decode_message(&bytes, &DecodeOptions::default()),
                    Ok(Message::Request(_))
                )
                .then_some(())
                .ok_or_else(|| "the encoding does not decode".into())
            },
        ),
    ]
}
