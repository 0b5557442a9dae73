//! DPoP, Demonstrating Proof of Possession (RFC 9449): the proof JWTs a client sends with
//! token requests and with every request that presents a DPoP-bound access token, the public
//! key they carry (with its RFC 7638 thumbprint), and the server-supplied nonces.
//!
//! A proof is a JWS (RFC 9449 §4.2) whose header has `typ: dpop+jwt`, the signing `alg` and
//! the public `jwk`, and whose claims are `jti` (unique, from caller entropy), `htm` (the
//! request method), `htu` (the request URI without query and fragment), `iat` (Unix seconds,
//! from the caller's clock), the server's `nonce` when it supplied one, and `ath` (base64url
//! SHA-256 of the access token) when the request presents one. The signature comes from the
//! caller's [`DpopSigner`], so this crate carries no cryptography; an adapter implements it
//! over a key pair it keeps for as long as its tokens live (a token is bound to the key's
//! thumbprint).
//!
//! A server that wants a fresh nonce answers `use_dpop_nonce` with a `DPoP-Nonce` field: the
//! authorization server as a 400 OAuth error (§8), a resource server as a 401 with a `DPoP`
//! challenge (§9). The client keeps one nonce per server and sends the request again once.
//! [`OAuthClient`](super::OAuthClient) does all of this; the functions here are its parts.
//!
//! ```
//! use mcp_proto::auth::dpop::{DpopProof, DpopSigner, PublicJwk, access_token_hash, htu};
//! use mcp_proto::auth::{AssertionSigner, Secret, SignerError};
//!
//! struct Key(PublicJwk);
//! impl AssertionSigner for Key {
//!     fn algorithm(&self) -> &str { "ES256" }
//!     fn sign(&self, _input: &[u8]) -> Result<Vec<u8>, SignerError> { Ok(vec![7; 64]) }
//! }
//! impl DpopSigner for Key {
//!     fn public_jwk(&self) -> &PublicJwk { &self.0 }
//! }
//!
//! let mut point = vec![4_u8];
//! point.extend([1_u8; 64]);
//! let key = Key(PublicJwk::p256_uncompressed(&point).unwrap());
//! let token = Secret::new("an-access-token");
//! let proof = DpopProof {
//!     method: "POST",
//!     target: "https://mcp.example.com/mcp?session=1",
//!     issued_at: 1_700_000_000,
//!     jti: "unique-id",
//!     nonce: None,
//!     access_token: Some(&token),
//! }
//! .sign(&key)
//! .unwrap();
//! assert_eq!(proof.expose().split('.').count(), 3);
//! assert_eq!(htu("https://mcp.example.com/mcp?session=1"), "https://mcp.example.com/mcp");
//! assert_eq!(access_token_hash("an-access-token").len(), 43);
//! ```

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::challenge::Challenge;
use super::jwt::{AssertionSigner, SignerError};
use super::secret::Secret;
use super::url::HttpUrl;

/// The request header carrying a proof, and the authentication scheme of a DPoP-bound token
/// (`Authorization: DPoP <token>`, RFC 9449 §7.1).
pub const DPOP: &str = "DPoP";
/// The response header carrying a server-supplied nonce (RFC 9449 §8.1).
pub const DPOP_NONCE: &str = "DPoP-Nonce";
/// The error code of a server that requires a (new) nonce (RFC 9449 §8, §9).
pub const USE_DPOP_NONCE: &str = "use_dpop_nonce";
/// The `token_type` of a DPoP-bound access token (RFC 9449 §5).
pub const TOKEN_TYPE_DPOP: &str = "DPoP";
/// The `typ` header of a proof.
pub const PROOF_TYPE: &str = "dpop+jwt";
/// The longest nonce accepted from a server, in bytes (longer ones are ignored).
pub const MAX_NONCE_BYTES: usize = 512;
/// Entropy bytes for one proof's `jti`.
pub const JTI_ENTROPY_BYTES: usize = 16;

/// Why a public key cannot be expressed as a JWK.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwkError {
    /// Not a SEC1 uncompressed P-256 point (65 bytes starting with `0x04`).
    #[error("not an uncompressed P-256 point ({len} bytes)")]
    NotUncompressedP256 {
        /// The length given.
        len: usize,
    },
}

/// A public key as a JWK (RFC 7517), with exactly the members its RFC 7638 thumbprint
/// covers; it serializes with them in lexicographic order, which is the thumbprint's
/// canonical form. Never holds private key material.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PublicJwk {
    /// An elliptic curve key (`kty: EC`, RFC 7518 §6.2).
    Ec {
        /// The curve: `P-256`, `P-384`, `P-521`.
        crv: String,
        /// The x coordinate, base64url.
        x: String,
        /// The y coordinate, base64url.
        y: String,
    },
    /// An RSA key (`kty: RSA`, RFC 7518 §6.3).
    Rsa {
        /// The modulus, base64url.
        n: String,
        /// The exponent, base64url.
        e: String,
    },
    /// An octet key pair (`kty: OKP`, RFC 8037), e.g. Ed25519.
    Okp {
        /// The curve: `Ed25519`, `Ed448`.
        crv: String,
        /// The public key, base64url.
        x: String,
    },
}

impl PublicJwk {
    /// The JWK of a P-256 public key given as a SEC1 uncompressed point (`0x04 || X || Y`,
    /// what most crypto libraries export).
    ///
    /// # Errors
    /// [`JwkError::NotUncompressedP256`] for anything else.
    pub fn p256_uncompressed(point: &[u8]) -> Result<Self, JwkError> {
        match point {
            [4, coordinates @ ..] if coordinates.len() == 64 => {
                let (x, y) = coordinates.split_at(32);
                Ok(Self::Ec {
                    crv: "P-256".to_owned(),
                    x: URL_SAFE_NO_PAD.encode(x),
                    y: URL_SAFE_NO_PAD.encode(y),
                })
            }
            _ => Err(JwkError::NotUncompressedP256 { len: point.len() }),
        }
    }

    /// The `kty`.
    pub const fn key_type(&self) -> &'static str {
        match self {
            Self::Ec { .. } => "EC",
            Self::Rsa { .. } => "RSA",
            Self::Okp { .. } => "OKP",
        }
    }

    /// The JSON object, members in lexicographic order without whitespace (RFC 7638 §3).
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The RFC 7638 thumbprint: base64url of the SHA-256 of [`canonical_json`](Self::canonical_json)
    /// (what a DPoP-bound token's `cnf.jkt` holds).
    pub fn thumbprint(&self) -> String {
        URL_SAFE_NO_PAD.encode(crate::sha256::digest(self.canonical_json().as_bytes()))
    }
}

impl Serialize for PublicJwk {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // The members of each key type, in lexicographic order (RFC 7638 §3.2).
        let members: [(&str, &str); 4];
        let count = match self {
            Self::Ec { crv, x, y } => {
                members = [("crv", crv), ("kty", "EC"), ("x", x), ("y", y)];
                4
            }
            Self::Rsa { n, e } => {
                members = [("e", e), ("kty", "RSA"), ("n", n), ("", "")];
                3
            }
            Self::Okp { crv, x } => {
                members = [("crv", crv), ("kty", "OKP"), ("x", x), ("", "")];
                3
            }
        };
        let mut map = serializer.serialize_map(Some(count))?;
        for (name, value) in members.iter().take(count) {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// A key that signs DPoP proofs: an [`AssertionSigner`] (its `alg` and signatures; `kid` is
/// not used in proofs) that also gives its public key.
pub trait DpopSigner: AssertionSigner {
    /// The public key, sent in each proof's `jwk` header.
    fn public_jwk(&self) -> &PublicJwk;
}

impl fmt::Debug for dyn DpopSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopSigner")
            .field("alg", &self.algorithm())
            .field("jkt", &self.public_jwk().thumbprint())
            .finish()
    }
}

/// The claims of one proof. `Debug` hides the access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DpopProof<'a> {
    /// `htm`: the request method (`POST`, `GET`, ...).
    pub method: &'a str,
    /// The request URI; `htu` is it without query and fragment (see [`htu`]).
    pub target: &'a str,
    /// `iat`, Unix seconds.
    pub issued_at: u64,
    /// `jti`: unique per proof (see [`jti`]).
    pub jti: &'a str,
    /// `nonce`: the last one the server supplied, if any.
    pub nonce: Option<&'a str>,
    /// The access token the request presents; `ath` is its hash (see [`access_token_hash`]).
    pub access_token: Option<&'a Secret>,
}

struct Header<'a> {
    alg: &'a str,
    jwk: &'a PublicJwk,
}

impl Serialize for Header<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("typ", PROOF_TYPE)?;
        map.serialize_entry("alg", self.alg)?;
        map.serialize_entry("jwk", self.jwk)?;
        map.end()
    }
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    jti: &'a str,
    htm: &'a str,
    htu: String,
    iat: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ath: Option<String>,
}

impl DpopProof<'_> {
    /// The header and claims, each base64url-encoded, joined by `.` (the JWS signing input).
    pub fn signing_input(&self, key: &dyn DpopSigner) -> String {
        let header = Header {
            alg: key.algorithm(),
            jwk: key.public_jwk(),
        };
        let claims = Claims {
            jti: self.jti,
            htm: self.method,
            htu: htu(self.target),
            iat: self.issued_at,
            nonce: self.nonce,
            ath: self
                .access_token
                .map(|token| access_token_hash(token.expose())),
        };
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap_or_default()),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default())
        )
    }

    /// The compact JWS: signing input, `.`, base64url signature; for the `DPoP` header.
    ///
    /// # Errors
    /// The signer's failure, or an empty signature.
    pub fn sign(&self, key: &dyn DpopSigner) -> Result<Secret, SignerError> {
        let input = self.signing_input(key);
        let signature = key.sign(input.as_bytes())?;
        if signature.is_empty() {
            return Err(SignerError::new("the signer returned an empty signature"));
        }
        Ok(Secret::new(format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        )))
    }
}

/// The `htu` of a request to `target` (RFC 9449 §4.2): the URI without query and fragment,
/// with scheme and host lowercased, the default port dropped and an empty path as `/`
/// (RFC 3986 §6.2.2–6.2.3). A target that is not an absolute http(s) URL is only cut.
pub fn htu(target: &str) -> String {
    let end = target.find(['?', '#']).unwrap_or(target.len());
    let cut = target.get(..end).unwrap_or(target);
    match HttpUrl::parse(cut) {
        Ok(url) if url.path().is_empty() => format!("{}/", url.origin()),
        Ok(url) => format!("{}{}", url.origin(), url.path()),
        Err(_) => cut.to_owned(),
    }
}

/// The `ath` of an access token: base64url of the SHA-256 of its ASCII value (RFC 9449 §4.2).
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(crate::sha256::digest(token.as_bytes()))
}

/// A `jti` from [`JTI_ENTROPY_BYTES`] (or more) of caller entropy: its base64url.
pub fn jti(entropy: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(entropy)
}

/// A `DPoP-Nonce` field value, if it is a valid nonce (`1*NQCHAR`, RFC 9449 §8.1) of at most
/// [`MAX_NONCE_BYTES`].
pub fn parse_nonce(value: &[u8]) -> Option<String> {
    let valid = !value.is_empty()
        && value.len() <= MAX_NONCE_BYTES
        && value
            .iter()
            .all(|&byte| matches!(byte, 0x21 | 0x23..=0x5b | 0x5d..=0x7e));
    valid
        .then(|| std::str::from_utf8(value).ok().map(str::to_owned))
        .flatten()
}

/// The nonce a response supplies: its `DPoP-Nonce` field when there is exactly one, valid.
pub fn nonce_from_headers(headers: &http::HeaderMap) -> Option<String> {
    let mut values = headers.get_all(DPOP_NONCE).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => parse_nonce(value.as_bytes()),
        _ => None,
    }
}

/// Whether `challenges` hold a `DPoP` challenge with `error="use_dpop_nonce"` (a resource
/// server asking for a nonce, RFC 9449 §9).
pub fn is_nonce_challenge(challenges: &[Challenge]) -> bool {
    challenges.iter().any(|challenge| {
        challenge.is_scheme(DPOP) && challenge.param("error") == Some(USE_DPOP_NONCE)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::challenge::parse_challenges;

    /// A key whose "signature" is the reversed input, so tests can see what was signed.
    struct Recorder(PublicJwk);

    impl AssertionSigner for Recorder {
        fn algorithm(&self) -> &str {
            "ES256"
        }
        fn key_id(&self) -> Option<&str> {
            Some("not-in-proofs")
        }
        fn sign(&self, input: &[u8]) -> Result<Vec<u8>, SignerError> {
            Ok(input.iter().rev().copied().collect())
        }
    }

    impl DpopSigner for Recorder {
        fn public_jwk(&self) -> &PublicJwk {
            &self.0
        }
    }

    fn p256() -> PublicJwk {
        let mut point = vec![4_u8];
        point.extend(1..=64_u8);
        PublicJwk::p256_uncompressed(&point).unwrap()
    }

    fn decode(part: &str) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn proof_header_and_claims_have_the_rfc_9449_shape() {
        let key = Recorder(p256());
        let token = Secret::new("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU");
        let proof = DpopProof {
            method: "POST",
            target: "https://Resource.Example.org:443/mcp?x=1#frag",
            issued_at: 1_562_262_616,
            jti: "e1j3V_bKic8-LAEB",
            nonce: Some("eyJ7S_zG.eyJH0-Z.HX4w-7v"),
            access_token: Some(&token),
        }
        .sign(&key)
        .unwrap();
        let parts: Vec<&str> = proof.expose().split('.').collect();
        assert_eq!(parts.len(), 3);
        let header = decode(parts[0]);
        assert_eq!(
            header,
            serde_json::json!({
                "typ": "dpop+jwt",
                "alg": "ES256",
                "jwk": {
                    "kty": "EC",
                    "crv": "P-256",
                    "x": URL_SAFE_NO_PAD.encode((1..=32_u8).collect::<Vec<_>>()),
                    "y": URL_SAFE_NO_PAD.encode((33..=64_u8).collect::<Vec<_>>()),
                },
            })
        );
        assert!(header.get("kid").is_none());
        assert!(header["jwk"].get("d").is_none());
        assert_eq!(
            decode(parts[1]),
            serde_json::json!({
                "jti": "e1j3V_bKic8-LAEB",
                "htm": "POST",
                "htu": "https://resource.example.org/mcp",
                "iat": 1_562_262_616_u64,
                "nonce": "eyJ7S_zG.eyJH0-Z.HX4w-7v",
                // RFC 9449 §7.1's example token and its ath.
                "ath": "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo",
            })
        );
        let input = format!("{}.{}", parts[0], parts[1]);
        let signature: Vec<u8> = input.bytes().rev().collect();
        assert_eq!(URL_SAFE_NO_PAD.decode(parts[2]).unwrap(), signature);
        assert!(!format!("{proof:?}").contains(parts[2]));
    }

    #[test]
    fn token_request_proofs_carry_no_ath_or_nonce() {
        let key = Recorder(p256());
        let proof = DpopProof {
            method: "POST",
            target: "http://localhost:4000/token",
            issued_at: 5,
            jti: "j",
            nonce: None,
            access_token: None,
        };
        let input = proof.signing_input(&key);
        let claims = decode(input.split('.').nth(1).unwrap());
        assert_eq!(
            claims,
            serde_json::json!({"jti": "j", "htm": "POST", "htu": "http://localhost:4000/token", "iat": 5})
        );
        assert!(!format!("{proof:?}").is_empty());
    }

    #[test]
    fn ath_is_the_sha256_of_the_token() {
        // SHA-256("abc") is ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.
        assert_eq!(
            access_token_hash("abc"),
            URL_SAFE_NO_PAD.encode([
                0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
                0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
                0xf2, 0x00, 0x15, 0xad,
            ])
        );
        assert_eq!(
            access_token_hash("abc"),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
    }

    #[test]
    fn htu_strips_query_and_fragment() {
        assert_eq!(htu("https://a.example/mcp?x=1"), "https://a.example/mcp");
        assert_eq!(htu("https://a.example/mcp#frag"), "https://a.example/mcp");
        assert_eq!(htu("https://a.example/mcp?x=1#f"), "https://a.example/mcp");
        assert_eq!(htu("https://a.example/mcp#f?x"), "https://a.example/mcp");
        assert_eq!(htu("HTTP://LOCALHOST:80/Mcp"), "http://localhost/Mcp");
        assert_eq!(htu("http://localhost:3000"), "http://localhost:3000/");
        assert_eq!(htu("http://localhost:3000?q"), "http://localhost:3000/");
        assert_eq!(htu("/relative?x"), "/relative");
        assert_eq!(htu(""), "");
    }

    #[test]
    fn jwk_thumbprint_follows_rfc_7638() {
        // RFC 7638 §3.1's example RSA key and its thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let rsa = PublicJwk::Rsa {
            n: n.to_owned(),
            e: "AQAB".to_owned(),
        };
        assert_eq!(
            rsa.canonical_json(),
            format!(r#"{{"e":"AQAB","kty":"RSA","n":"{n}"}}"#)
        );
        assert_eq!(
            rsa.thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        let ec = p256();
        assert!(
            ec.canonical_json()
                .starts_with(r#"{"crv":"P-256","kty":"EC","x":""#)
        );
        assert_eq!(ec.key_type(), "EC");
        assert_eq!(ec.thumbprint().len(), 43);
        let okp = PublicJwk::Okp {
            crv: "Ed25519".to_owned(),
            x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo".to_owned(),
        };
        assert_eq!(
            okp.canonical_json(),
            r#"{"crv":"Ed25519","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#
        );
        // RFC 8037 Appendix A.3's thumbprint of that key.
        assert_eq!(
            okp.thumbprint(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
        assert_eq!(
            PublicJwk::p256_uncompressed(&[4; 33]),
            Err(JwkError::NotUncompressedP256 { len: 33 })
        );
        assert!(PublicJwk::p256_uncompressed(&[2; 65]).is_err());
    }

    #[test]
    fn nonces_are_validated_and_bounded() {
        assert_eq!(
            parse_nonce(b"eyJ7S_zG.eyJH0-Z.HX4w-7v").as_deref(),
            Some("eyJ7S_zG.eyJH0-Z.HX4w-7v")
        );
        assert_eq!(parse_nonce(b""), None);
        assert_eq!(parse_nonce(b"has space"), None);
        assert_eq!(parse_nonce(b"quote\""), None);
        assert_eq!(parse_nonce(b"back\\slash"), None);
        assert_eq!(
            parse_nonce(&[b'a'; MAX_NONCE_BYTES]).map(|n| n.len()),
            Some(MAX_NONCE_BYTES)
        );
        assert_eq!(parse_nonce(&[b'a'; MAX_NONCE_BYTES + 1]), None);
        let mut headers = http::HeaderMap::new();
        assert_eq!(nonce_from_headers(&headers), None);
        headers.insert("dpop-nonce", http::HeaderValue::from_static("n-1"));
        assert_eq!(nonce_from_headers(&headers).as_deref(), Some("n-1"));
        headers.append("dpop-nonce", http::HeaderValue::from_static("n-2"));
        assert_eq!(nonce_from_headers(&headers), None, "two nonces: neither");
        assert_eq!(jti(&[0xff; JTI_ENTROPY_BYTES]).len(), 22);
    }

    #[test]
    fn nonce_challenges_are_recognised() {
        let challenges = parse_challenges([
            r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#,
        ])
        .unwrap();
        assert!(is_nonce_challenge(&challenges));
        let other = parse_challenges([r#"DPoP error="invalid_token", algs="ES256""#]).unwrap();
        assert!(!is_nonce_challenge(&other));
        let bearer = parse_challenges([r#"Bearer error="use_dpop_nonce""#]).unwrap();
        assert!(!is_nonce_challenge(&bearer));
    }
}
