//! Property tests for the Sans-IO HTTP header logic.

use mcp_proto::http::header_value::{decode_header_value, encode_header_value};
use mcp_proto::http::media_type::{MediaType, list_members};
use mcp_proto::http::{AcceptError, Acceptance, SessionId, check_json_content_type, parse_accept};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

/// Media ranges a real client might send, including lookalikes, parameters
/// with quoted commas and semicolons, and malformed members.
fn range() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*/*"),
        Just("application/*"),
        Just("Application/*"),
        Just("text/*"),
        Just("application/json"),
        Just("APPLICATION/JSON"),
        Just("text/event-stream"),
        Just("Text/Event-Stream"),
        Just("text/html"),
        Just("application/jsonx"),
        Just("text/event-stream-bogus"),
        Just("application/json;charset=latin1"),
        Just("application/json; charset=\"UTF-8\""),
        Just("application/json;v=\"a,b;c\""),
        Just("text/event-stream;x=\"q=0, */*\""),
        Just("*/json"),
        Just(";;;"),
        Just("text/plain;q=2"),
    ]
    .prop_map(str::to_owned)
}

fn weight() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        (0_u16..=1000).prop_map(|thousandths| format!(
            ";q={}.{:03}",
            thousandths / 1000,
            thousandths % 1000
        )),
        Just(";Q=0.5".to_owned()),
        Just(" ; q = 0 ".to_owned()),
        Just(";q=1.".to_owned()),
    ]
}

fn member() -> impl Strategy<Value = String> {
    (range(), weight()).prop_map(|(range, weight)| format!("{range}{weight}"))
}

fn ows() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just(""), Just(" "), Just("\t"), Just("  \t")]
}

/// Errors whose detail depends on member order are compared by kind and count only.
fn normalize(result: Result<Acceptance, AcceptError>) -> Result<Acceptance, String> {
    result.map_err(|err| match err {
        AcceptError::Malformed { count, .. } => format!("malformed {count}"),
        other => other.to_string(),
    })
}

fn accept_lines(lines: &[String]) -> Result<Acceptance, AcceptError> {
    parse_accept(lines.iter().map(String::as_bytes))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn header_value_round_trips(value in any::<String>()) {
        let encoded = encode_header_value(&value);
        let bytes = encoded.as_bytes();
        prop_assert!(bytes.iter().all(|&b| (0x21..=0x7e).contains(&b) || b == b' ' || b == b'\t'));
        prop_assert!(!bytes.first().is_some_and(|&b| b == b' ' || b == b'\t'));
        prop_assert!(!bytes.last().is_some_and(|&b| b == b' ' || b == b'\t'));
        let decoded = decode_header_value(bytes);
        prop_assert_eq!(decoded.as_deref(), Ok(value.as_str()));
    }

    #[test]
    fn header_value_round_trips_near_plain(value in "[ \t!-~]{0,12}(=\\?base64\\?[A-Za-z0-9+/=]{0,8}\\?=)?") {
        let encoded = encode_header_value(&value);
        let decoded = decode_header_value(encoded.as_bytes());
        prop_assert_eq!(decoded.as_deref(), Ok(value.as_str()));
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode_header_value(&bytes);
    }

    #[test]
    fn accept_never_panics(lines in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..48), 0..4)) {
        let _ = parse_accept(lines.iter().map(Vec::as_slice));
    }

    #[test]
    fn accept_never_panics_on_near_valid_text(line in "[a-zA-Z*/;,=\" \t.0-9\\\\q]{0,60}") {
        let _ = parse_accept([line.as_bytes()]);
        let _ = list_members(line.as_bytes()).count();
    }

    #[test]
    fn exact_json_with_zero_weight_is_never_acceptable(
        others in proptest::collection::vec(member(), 0..8),
        zero in prop_oneof![Just("q=0"), Just("Q=0"), Just("q=0.000"), Just("q = 0."), Just("q=0.0")],
        spelling in prop_oneof![Just("application/json"), Just("Application/JSON")],
        position in any::<prop::sample::Index>(),
    ) {
        // Only ranges no more specific than bare application/json may surround it.
        let mut members: Vec<String> = others
            .into_iter()
            .filter(|m| !m.contains("v=\"a,b;c\"") && !m.contains("charset=\"UTF-8\""))
            .collect();
        let at = position.index(members.len() + 1);
        members.insert(at, format!("{spelling};{zero}"));
        let acceptance = accept_lines(&[members.join(",")]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(!acceptance.accepts_json(), "{:?}", members);
    }

    #[test]
    fn accept_ignores_member_order(
        (members, shuffled) in proptest::collection::vec(member(), 0..10)
            .prop_flat_map(|members| (Just(members.clone()), Just(members).prop_shuffle())),
    ) {
        prop_assert_eq!(
            normalize(accept_lines(&[members.join(", ")])),
            normalize(accept_lines(&[shuffled.join(", ")]))
        );
    }

    #[test]
    fn accept_ignores_how_members_are_split_into_lines(
        members in proptest::collection::vec((member(), ows(), ows(), 0_usize..3), 0..10),
        cuts in proptest::collection::vec(any::<bool>(), 10),
    ) {
        // The same members, once on one line and once cut into several lines at commas.
        let mut one_line = String::new();
        let mut lines = vec![String::new()];
        for (index, (member, before, after, extra_commas)) in members.iter().enumerate() {
            let piece = format!("{before}{member}{after}{}", ",".repeat(*extra_commas));
            if index > 0 {
                one_line.push(',');
                if cuts.get(index).copied().unwrap_or(false) {
                    lines.push(String::new());
                } else if let Some(last) = lines.last_mut() {
                    last.push(',');
                }
            }
            one_line.push_str(&piece);
            if let Some(last) = lines.last_mut() {
                last.push_str(&piece);
            }
        }
        prop_assert_eq!(accept_lines(&[one_line]), accept_lines(&lines));
    }

    #[test]
    fn minted_session_ids_parse_back(entropy in proptest::collection::vec(any::<u8>(), 16..=192)) {
        let minted = SessionId::from_entropy(&entropy).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(SessionId::parse(minted.as_str().as_bytes()), Ok(minted));
    }

    #[test]
    fn session_id_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(id) = SessionId::parse(&bytes) {
            prop_assert!(id.as_str().bytes().all(|b| (0x21..=0x7e).contains(&b)));
            prop_assert_eq!(SessionId::parse(id.as_str().as_bytes()), Ok(id));
        }
    }

    #[test]
    fn content_type_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = check_json_content_type(&bytes);
        let _ = MediaType::parse(&bytes);
    }

    #[test]
    fn content_type_never_panics_on_near_valid_text(value in "[a-zA-Z/;=\" \t\\\\-]{0,40}") {
        let _ = check_json_content_type(value.as_bytes());
    }
}
