//! Accept and Content-Type parsing: no input panics, splitting the field into lines at any
//! newline does not change the answer, and q=0 on an exact JSON range always refuses JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_proto::http::{check_json_content_type, parse_accept};

fuzz_target!(|data: &[u8]| {
    let whole = parse_accept([data]);
    // Treat every newline as a field-line boundary: the lines are one comma list, so joining
    // with commas must give the same answer as the line split.
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    let joined: Vec<u8> = lines.join(&b","[..]);
    let split = parse_accept(lines.iter().copied());
    let rejoined = parse_accept([&joined[..]]);
    // An unterminated quote ends with its line (so a broken line cannot swallow the next
    // one); joining lines is therefore equivalent only for input without quotes.
    let has_quote = data.contains(&b'"');
    if let (false, Ok(a), Ok(b)) = (has_quote, &split, &rejoined) {
        assert_eq!(
            (a.json(), a.event_stream()),
            (b.json(), b.event_stream()),
            "line split changed the answer"
        );
    }
    // Without parameters or quotes in the input, no range can outrank an appended exact
    // `application/json;q=0` (and no open quote can swallow it): JSON must end up refused.
    if whole.is_ok() && !data.iter().any(|&b| b == b';' || b == b'"') {
        let mut refused = data.to_vec();
        refused.extend_from_slice(b", application/json;q=0");
        if let Ok(after) = parse_accept([&refused[..]]) {
            assert!(!after.accepts_json(), "q=0 ignored");
        }
    }
    let _ = check_json_content_type(data);
});
