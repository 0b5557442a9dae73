//! Property tests for the pure parts of `mcp_proto::auth`: `WWW-Authenticate` round trips
//! under any legal spelling, and the codecs the flow relies on.

// The scripted servers and strategies are test scaffolding: a broken expectation there must
// stop the test, exactly as inside a #[test] function.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mcp_proto::auth::challenge::{Challenge, ChallengeData, encode_challenges, parse_challenges};
use mcp_proto::auth::pkce::{PkceVerifier, s256_challenge};
use mcp_proto::auth::scope::ScopeSet;
use mcp_proto::auth::url::{HttpUrl, form_encode, parse_form};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(512)
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,10}"
}

/// Any value a quoted-string can carry: visible ASCII (quotes, backslashes, commas, `=`
/// included), spaces, tabs and non-ASCII text.
fn value() -> impl Strategy<Value = String> {
    "[ -~\t\u{e9}\u{4e2d}\u{1f600}]{0,16}"
}

fn token68() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._~+/-]{1,16}={0,2}"
}

fn challenge() -> impl Strategy<Value = Challenge> {
    let params = prop::collection::vec((token(), value()), 0..5).prop_map(|pairs| {
        let mut unique: Vec<(String, String)> = Vec::new();
        for (name, value) in pairs {
            if !unique
                .iter()
                .any(|(seen, _)| seen.eq_ignore_ascii_case(&name))
            {
                unique.push((name, value));
            }
        }
        unique
    });
    prop_oneof![
        (token(), params)
            .prop_map(|(scheme, params)| Challenge::with_params(&scheme, params).unwrap()),
        (token(), token68())
            .prop_map(|(scheme, blob)| Challenge::with_token68(&scheme, &blob).unwrap()),
    ]
}

/// Optional whitespace as the grammar allows it.
fn ows() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just(""), Just(" "), Just("\t"), Just("  \t ")]
}

/// A spelling of the challenges with random whitespace, empty list elements, token or
/// quoted-string values (with gratuitous escapes), and random field-line splits.
fn spelled(challenges: Vec<Challenge>) -> impl Strategy<Value = (Vec<Challenge>, Vec<String>)> {
    let pieces = challenges.len().max(1) * 16;
    (
        prop::collection::vec(ows(), pieces),
        prop::collection::vec(any::<bool>(), pieces),
        prop::collection::vec(0_usize..3, pieces),
    )
        .prop_map(move |(spaces, flags, extra_commas)| {
            let mut spaces = spaces.into_iter().cycle();
            let mut flags = flags.into_iter().cycle();
            let mut commas = extra_commas.into_iter().cycle();
            let mut lines = vec![String::new()];
            for (index, challenge) in challenges.iter().enumerate() {
                if index > 0 {
                    if flags.next().unwrap_or(false) {
                        lines.push(String::new());
                    } else {
                        let line = lines.last_mut().unwrap();
                        line.push_str(spaces.next().unwrap_or(""));
                        for _ in 0..=commas.next().unwrap_or(0) {
                            line.push(',');
                            line.push_str(spaces.next().unwrap_or(""));
                        }
                    }
                }
                let line = lines.last_mut().unwrap();
                line.push_str(challenge.scheme());
                match challenge.data() {
                    ChallengeData::Token68(blob) => {
                        line.push(' ');
                        line.push_str(spaces.next().unwrap_or(""));
                        line.push_str(blob);
                    }
                    ChallengeData::Params(params) => {
                        for (position, (name, value)) in params.iter().enumerate() {
                            if position == 0 {
                                line.push(' ');
                                line.push_str(spaces.next().unwrap_or(""));
                            } else {
                                line.push_str(spaces.next().unwrap_or(""));
                                for _ in 0..=commas.next().unwrap_or(0) {
                                    line.push(',');
                                    line.push_str(spaces.next().unwrap_or(""));
                                }
                            }
                            // Randomly flip the name's case: names compare without case.
                            line.push_str(name);
                            line.push_str(spaces.next().unwrap_or(""));
                            line.push('=');
                            line.push_str(spaces.next().unwrap_or(""));
                            let is_token = !value.is_empty()
                                && value.bytes().all(|byte| {
                                    byte.is_ascii_alphanumeric()
                                        || b"!#$%&'*+.^_`|~-".contains(&byte)
                                });
                            if is_token && flags.next().unwrap_or(false) {
                                line.push_str(value);
                            } else {
                                let escape_all = flags.next().unwrap_or(false);
                                line.push('"');
                                for c in value.chars() {
                                    if c == '"' || c == '\\' || (escape_all && c.is_ascii_graphic())
                                    {
                                        line.push('\\');
                                    }
                                    line.push(c);
                                }
                                line.push('"');
                            }
                        }
                    }
                }
            }
            if flags.next().unwrap_or(false) {
                if let Some(line) = lines.last_mut() {
                    line.push_str(" , ");
                }
            }
            (challenges.clone(), lines)
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn encoded_challenges_round_trip(challenges in prop::collection::vec(challenge(), 0..5)) {
        let encoded = encode_challenges(&challenges);
        prop_assert_eq!(&parse_challenges([encoded.as_str()]).unwrap(), &challenges);
        // One field line per challenge gives the same list.
        let lines: Vec<String> = challenges.iter().map(ToString::to_string).collect();
        prop_assert_eq!(parse_challenges(&lines).unwrap(), challenges);
    }

    #[test]
    fn any_legal_spelling_parses_the_same(
        (challenges, lines) in prop::collection::vec(challenge(), 1..4).prop_flat_map(spelled)
    ) {
        let parsed = parse_challenges(&lines);
        prop_assert_eq!(parsed.as_ref().ok(), Some(&challenges), "lines: {:?}", lines);
    }

    #[test]
    fn parsing_never_panics(lines in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..4)) {
        let _ = parse_challenges(&lines);
    }

    #[test]
    fn parsing_grammar_soup_never_panics(line in "[A-Za-z= ,\"\\\\\t/+.~]{0,48}") {
        if let Ok(challenges) = parse_challenges([line.as_str()]) {
            // Whatever parses re-encodes to something that parses to the same.
            let encoded = encode_challenges(&challenges);
            prop_assert_eq!(parse_challenges([encoded.as_str()]).unwrap(), challenges);
        }
    }

    #[test]
    fn scope_sets_round_trip(scopes in prop::collection::vec("[!#-\\[\\]-~]{1,12}", 0..10)) {
        let set = ScopeSet::from_scopes(&scopes).unwrap();
        prop_assert_eq!(&ScopeSet::parse(&set.to_string()).unwrap(), &set);
        prop_assert!(set.len() <= scopes.len());
        for scope in &scopes {
            prop_assert!(set.contains(scope));
        }
    }

    #[test]
    fn form_encoding_round_trips(pairs in prop::collection::vec((".{0,12}", ".{0,12}"), 0..8)) {
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let encoded = form_encode(borrowed);
        prop_assert!(encoded.bytes().all(|byte| byte.is_ascii_graphic()));
        let decoded = parse_form(&encoded).unwrap();
        // Every pair survives, even one with an empty name and value (encoded as "=").
        prop_assert_eq!(decoded, pairs);
    }

    #[test]
    fn pkce_verifiers_are_valid_for_any_entropy(entropy in prop::collection::vec(any::<u8>(), 32..=96)) {
        let verifier = PkceVerifier::from_entropy(&entropy).unwrap();
        prop_assert!((43..=128).contains(&verifier.as_str().len()));
        prop_assert_eq!(&PkceVerifier::parse(verifier.as_str()).unwrap(), &verifier);
        let challenge = verifier.s256_challenge();
        prop_assert_eq!(challenge.len(), 43);
        prop_assert_eq!(challenge, s256_challenge(verifier.as_str()));
    }

    #[test]
    fn url_parsing_never_panics_and_renders_stably(input in "(https?://)?[a-zA-Z0-9.:\\[\\]@%/?#=&_~-]{0,40}") {
        if let Ok(url) = HttpUrl::parse(&input) {
            let again = HttpUrl::parse(&url.to_string()).unwrap();
            prop_assert_eq!(&again, &url);
            prop_assert!(HttpUrl::parse(&url.canonical_resource()).is_ok());
        }
    }
}
