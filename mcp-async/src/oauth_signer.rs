//! [`Es256Signer`]: `private_key_jwt` client assertions and DPoP proofs (RFC 9449) signed with a
//! P-256 key (JWS `ES256`), with ring (the `tls` feature's crypto provider).

use std::fmt;

use futures_rustls::rustls::pki_types::PrivatePkcs8KeyDer;
use futures_rustls::rustls::pki_types::pem::PemObject;
use mcp_proto::auth::dpop::{DpopSigner, PublicJwk};
use mcp_proto::auth::{AssertionSigner, SignerError};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};

/// Signs with an ECDSA P-256 key, as JWS `ES256` (the 64-byte `r || s` signature): client
/// assertions ([`AssertionSigner`]) and DPoP proofs ([`DpopSigner`], whose `jwk` header is
/// the public key). The private key never appears in `Debug` output.
pub struct Es256Signer {
    key: EcdsaKeyPair,
    key_id: Option<String>,
    jwk: PublicJwk,
    random: SystemRandom,
}

impl fmt::Debug for Es256Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Es256Signer")
            .field("key_id", &self.key_id)
            .field("jkt", &self.jwk.thumbprint())
            .finish_non_exhaustive()
    }
}

impl Es256Signer {
    /// A signer for a new P-256 key from the OS generator, kept in memory only: for DPoP,
    /// where the key need only outlive the tokens bound to it (share one signer between the
    /// connections that share a token store).
    ///
    /// # Errors
    /// [`SignerError`] when the OS generator fails.
    pub fn generate() -> Result<Self, SignerError> {
        let random = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &random)
            .map_err(|_| SignerError::new("generating a P-256 key failed"))?;
        Self::from_pkcs8_der(pkcs8.as_ref())
    }

    /// A signer for the P-256 key of a PKCS#8 PEM document (`-----BEGIN PRIVATE KEY-----`).
    ///
    /// # Errors
    /// [`SignerError`] when the text holds no PKCS#8 key or the key is not a P-256 one.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, SignerError> {
        let der = PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes())
            .map_err(|error| SignerError::new(format!("no PKCS#8 private key: {error}")))?;
        Self::from_pkcs8_der(der.secret_pkcs8_der())
    }

    /// A signer for a PKCS#8 DER P-256 key.
    ///
    /// # Errors
    /// [`SignerError`] when the key is not a P-256 PKCS#8 key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, SignerError> {
        let random = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &random)
            .map_err(|error| SignerError::new(format!("not a P-256 PKCS#8 key: {error}")))?;
        // ring's public key is the SEC1 uncompressed point.
        let jwk = PublicJwk::p256_uncompressed(key.public_key().as_ref())
            .map_err(|error| SignerError::from_error(&error))?;
        Ok(Self {
            key,
            key_id: None,
            jwk,
            random,
        })
    }

    /// Names the key with a JWS `kid`.
    #[must_use]
    pub fn with_key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = Some(key_id.into());
        self
    }
}

impl AssertionSigner for Es256Signer {
    fn algorithm(&self) -> &str {
        "ES256"
    }

    fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, SignerError> {
        self.key
            .sign(&self.random, signing_input)
            .map(|signature| signature.as_ref().to_vec())
            .map_err(|_| SignerError::new("ECDSA signing failed"))
    }
}

impl DpopSigner for Es256Signer {
    fn public_jwk(&self) -> &PublicJwk {
        &self.jwk
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use mcp_proto::auth::Secret;
    use mcp_proto::auth::dpop::{DpopProof, access_token_hash};
    use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

    #[test]
    fn signs_verifiably_from_pem() {
        let random = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &random).unwrap();
        let encoded = STANDARD.encode(pkcs8.as_ref());
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{encoded}\n-----END PRIVATE KEY-----\n");
        let signer = Es256Signer::from_pkcs8_pem(&pem).unwrap().with_key_id("k1");
        assert_eq!(signer.algorithm(), "ES256");
        assert_eq!(signer.key_id(), Some("k1"));
        let signature = signer.sign(b"header.claims").unwrap();
        assert_eq!(signature.len(), 64);
        let public = signer.key.public_key().as_ref().to_vec();
        let verifier = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public);
        assert!(verifier.verify(b"header.claims", &signature).is_ok());
        assert!(verifier.verify(b"header.other", &signature).is_err());
        assert!(!format!("{signer:?}").contains(&encoded));
        assert!(Es256Signer::from_pkcs8_pem("not a key").is_err());
    }

    /// The public key a verifier rebuilds from a JWK: `0x04 || x || y`.
    fn point_of(jwk: &serde_json::Value) -> Vec<u8> {
        let coordinate = |name: &str| URL_SAFE_NO_PAD.decode(jwk[name].as_str().unwrap()).unwrap();
        let mut point = vec![4_u8];
        point.extend(coordinate("x"));
        point.extend(coordinate("y"));
        point
    }

    #[test]
    fn dpop_proofs_verify_with_the_public_jwk_they_carry() {
        let signer = Es256Signer::generate().unwrap();
        let token = Secret::new("an-access-token");
        let proof = DpopProof {
            method: "POST",
            target: "http://localhost:3000/mcp?x=1",
            issued_at: 1_750_000_000,
            jti: "jti-1",
            nonce: Some("n"),
            access_token: Some(&token),
        }
        .sign(&signer)
        .unwrap();
        let parts: Vec<&str> = proof.expose().split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |part: &str| -> serde_json::Value {
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
        };
        let header = decode(parts[0]);
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["jwk"]["kty"], "EC");
        assert_eq!(header["jwk"]["crv"], "P-256");
        assert!(header["jwk"].get("d").is_none());
        let claims = decode(parts[1]);
        assert_eq!(claims["htu"], "http://localhost:3000/mcp");
        assert_eq!(claims["ath"], access_token_hash("an-access-token").as_str());
        // ring's verifier over the key rebuilt from the jwk header alone.
        let verifier = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point_of(&header["jwk"]));
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let input = format!("{}.{}", parts[0], parts[1]);
        assert!(verifier.verify(input.as_bytes(), &signature).is_ok());
        assert!(verifier.verify(b"tampered.claims", &signature).is_err());
        // The jwk is the signer's key, and its thumbprint is stable.
        assert_eq!(point_of(&header["jwk"]), signer.key.public_key().as_ref());
        assert_eq!(signer.public_jwk().thumbprint().len(), 43);
        assert!(format!("{signer:?}").contains(&signer.public_jwk().thumbprint()));
        let other = Es256Signer::generate().unwrap();
        assert_ne!(other.public_jwk(), signer.public_jwk());
    }
}
