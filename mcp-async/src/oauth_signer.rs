//! [`Es256Signer`]: `private_key_jwt` client assertions signed with a P-256 key (JWS `ES256`),
//! with ring (the `tls` feature's crypto provider).

use std::fmt;

use futures_rustls::rustls::pki_types::PrivatePkcs8KeyDer;
use futures_rustls::rustls::pki_types::pem::PemObject;
use mcp_proto::auth::{AssertionSigner, SignerError};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};

/// Signs client assertions with an ECDSA P-256 key, as JWS `ES256` (the 64-byte `r || s`
/// signature). The key never appears in `Debug` output.
pub struct Es256Signer {
    key: EcdsaKeyPair,
    key_id: Option<String>,
    random: SystemRandom,
}

impl fmt::Debug for Es256Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Es256Signer")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl Es256Signer {
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
        Ok(Self {
            key,
            key_id: None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use ring::signature::{ECDSA_P256_SHA256_FIXED, KeyPair, UnparsedPublicKey};

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
}
