//! MCP header values and session ids: decoding never panics, anything that decodes re-encodes
//! to a value that decodes to the same text, and session ids parse back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_proto::http::{decode_header_value, encode_header_value, SessionId};

fuzz_target!(|data: &[u8]| {
    if let Ok(decoded) = decode_header_value(data) {
        let encoded = encode_header_value(&decoded);
        let again = decode_header_value(encoded.as_bytes()).expect("our encoding decodes");
        assert_eq!(again, decoded);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let encoded = encode_header_value(text);
        assert!(encoded.bytes().all(|b| b == b' ' || b == b'\t' || (0x21..=0x7e).contains(&b)));
        assert_eq!(decode_header_value(encoded.as_bytes()).expect("decodes"), text);
    }
    if let Ok(id) = SessionId::parse(data) {
        assert_eq!(SessionId::parse(id.as_str().as_bytes()).as_ref(), Ok(&id));
    }
    if let Ok(id) = SessionId::from_entropy(data) {
        assert!(SessionId::parse(id.as_str().as_bytes()).is_ok());
    }
});
