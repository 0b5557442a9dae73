//! The skills extension (SEP-2640) on the client: list skills, load one when it is needed,
//! read its other files — every file verified against the listing (size, SHA-256 digest,
//! and `SKILL.md`'s frontmatter) before it is handed out. Nothing is read ahead of need:
//! listing reads no file, and a skill whose `SKILL.md` fails verification is never used.
//!
//! ```no_run
//! # async fn demo(client: mcp_async::client::Client) -> Result<(), Box<dyn std::error::Error>> {
//! for skill in client.list_skills().await? {
//!     match client.load_skill(&skill).await {
//!         Ok(text) => println!("{}: {} bytes of instructions", skill.uri, text.len()),
//!         Err(refused) => eprintln!("not using {}: {refused}", skill.uri),
//!     }
//! }
//! # Ok(()) }
//! ```

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use mcp_proto::types::ResourceContents;
use mcp_proto::types::skills::{ListSkillsResult, SkillEntry, SkillVerifyError};

use crate::client::{CallError, Client};

/// `sha256:<lowercase hex>` of `bytes`, as skill listings write digests.
#[must_use]
pub fn sha256_digest(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let hash = mcp_proto::sha256::digest(bytes);
    let mut text = String::with_capacity(7 + 64);
    text.push_str("sha256:");
    for byte in hash {
        // Writing to a String cannot fail.
        let _ = write!(text, "{byte:02x}");
    }
    text
}

/// Why a skill (or one of its files) is not handed out.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SkillError {
    /// Reading failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// What was read does not match the listing: it must not be used.
    #[error("verification failed: {0}")]
    Unverified(#[from] SkillVerifyError),
    /// The read did not return exactly one content for the file.
    #[error("{0}")]
    Unreadable(String),
}

impl Client {
    /// Every skill of the server (all pages); reads none of their files.
    ///
    /// # Errors
    /// [`CallError`] (`Refused` when the server does not declare the skills extension).
    pub async fn list_skills(&self) -> Result<Vec<SkillEntry>, CallError> {
        self.all_pages("skills/list", |page: ListSkillsResult| {
            (page.skills, page.next_cursor)
        })
        .await
    }

    /// Loads `skill`: reads its `SKILL.md` and returns the text once it matches the listing
    /// (size, digest, frontmatter field by field).
    ///
    /// # Errors
    /// [`SkillError`]; [`SkillError::Unverified`] means the server sent something other than
    /// what it listed, and the skill must not be used.
    pub async fn load_skill(&self, skill: &SkillEntry) -> Result<String, SkillError> {
        let bytes = self.read_bytes(&skill.uri).await?;
        let text = String::from_utf8(bytes)
            .map_err(|_| SkillError::Unreadable(format!("{} is not UTF-8", skill.uri)))?;
        skill.verify_skill_md(&text, &sha256_digest(text.as_bytes()))?;
        Ok(text)
    }

    /// Reads file `uri` of `skill` (one of its listed resources) and returns its bytes once
    /// they match the listing. Call it only after [`Client::load_skill`] succeeded.
    ///
    /// # Errors
    /// As [`Client::load_skill`]; an unlisted `uri` is refused before anything is read.
    pub async fn read_skill_file(
        &self,
        skill: &SkillEntry,
        uri: &str,
    ) -> Result<Vec<u8>, SkillError> {
        if skill.file(uri).is_none() {
            return Err(SkillVerifyError::NotListed(uri.to_owned()).into());
        }
        let bytes = self.read_bytes(uri).await?;
        skill.verify_file(uri, &bytes, &sha256_digest(&bytes))?;
        Ok(bytes)
    }

    /// The bytes of resource `uri`: its one text (UTF-8) or blob (decoded) content.
    async fn read_bytes(&self, uri: &str) -> Result<Vec<u8>, SkillError> {
        let read = self.read_resource(uri).await?;
        let [content] = read.contents.as_slice() else {
            return Err(SkillError::Unreadable(format!(
                "reading {uri} gave {} contents instead of one",
                read.contents.len()
            )));
        };
        match content {
            ResourceContents::Text(text) => Ok(text.text.clone().into_bytes()),
            ResourceContents::Blob(blob) => BASE64
                .decode(&blob.blob)
                .map_err(|e| SkillError::Unreadable(format!("{uri}: bad base64: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_sha256_in_lowercase_hex() {
        // FIPS 180-2, appendix B.1 ("abc").
        assert_eq!(
            sha256_digest(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
