//! The skills extension (SEP-2640, `io.modelcontextprotocol/skills`): `skills/list` lists
//! skills without their content; a host loads a skill when it needs it by reading its
//! `SKILL.md` (and later its other files) with `resources/read`, and verifies every file it
//! reads against the listing before using it: the byte size, the `sha256:` digest, and for
//! `SKILL.md` its YAML frontmatter against the entry's, field by field.
//!
//! Verification is pure: the caller reads the file and hashes it (this crate does no
//! hashing: `mcp-async` computes the SHA-256), then asks [`SkillEntry::verify_file`] /
//! [`SkillEntry::verify_skill_md`] with the bytes and their `sha256:<hex>` digest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::{CacheScope, JsonObject, ResultType};
use super::meta::Meta;

/// The extension's identifier, as servers declare it in `capabilities.extensions`.
pub const SKILLS_EXTENSION: &str = "io.modelcontextprotocol/skills";

/// One file of a skill, as listed: where it is and what reading it must give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkillFile {
    /// The file's resource URI.
    pub uri: String,
    /// `sha256:<lowercase hex>` of its bytes.
    pub digest: String,
    /// Its length in bytes.
    pub size: u64,
    /// Any other members, verbatim.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// One skill of a `skills/list` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkillEntry {
    /// The URI of its `SKILL.md`.
    pub uri: String,
    /// The frontmatter its `SKILL.md` must carry (`name`, `description`, …).
    pub frontmatter: JsonObject,
    /// Its files, `SKILL.md` included.
    #[serde(default)]
    pub resources: Vec<SkillFile>,
    /// Any other members, verbatim.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// The result of `skills/list`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListSkillsResult {
    /// Result metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `"complete"` (modern).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// The skills.
    pub skills: Vec<SkillEntry>,
    /// The next page's cursor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Cache lifetime in ms (modern).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl_ms: Option<u64>,
    /// Cache scope (modern).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_scope: Option<CacheScope>,
}

/// Why content read for a skill must not be used.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkillVerifyError {
    /// The skill's listing has no entry for the file, so nothing vouches for it.
    #[error("{0} is not one of the skill's listed files")]
    NotListed(String),
    /// The byte length differs from the listed size.
    #[error("{uri} is {actual} bytes, the listing says {expected}")]
    SizeMismatch {
        /// The file.
        uri: String,
        /// The listed size.
        expected: u64,
        /// What was read.
        actual: u64,
    },
    /// The digest differs from the listed one.
    #[error("{uri} does not match its listed digest")]
    DigestMismatch {
        /// The file.
        uri: String,
    },
    /// The listed digest is not `sha256:<hex>`.
    #[error("{uri} lists digest {digest:?}, which is not sha256:<hex>")]
    UnsupportedDigest {
        /// The file.
        uri: String,
        /// The listed digest.
        digest: String,
    },
    /// `SKILL.md` has no frontmatter this crate can read (flat `key: value` lines between
    /// `---` fences).
    #[error("SKILL.md has no readable frontmatter: {0}")]
    Frontmatter(String),
    /// A frontmatter field differs from the listing's (or is present in only one).
    #[error("SKILL.md frontmatter field {field:?} differs from the listing")]
    FrontmatterMismatch {
        /// The field.
        field: String,
    },
}

/// Parses the flat YAML frontmatter opening `text`: `---`, `key: value` lines (values may be
/// single- or double-quoted), `---`. Nested values, lists and block scalars are refused
/// rather than guessed at.
///
/// # Errors
/// A description of what is missing or not understood.
pub fn parse_frontmatter(text: &str) -> Result<BTreeMap<String, String>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines();
    if lines.next().map(str::trim_end) != Some("---") {
        return Err("it does not start with ---".into());
    }
    let mut fields = BTreeMap::new();
    for line in lines {
        let line = line.trim_end();
        if line == "---" {
            return Ok(fields);
        }
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if line.starts_with([' ', '\t', '-']) {
            return Err(format!("nested or list value not supported: {line:?}"));
        }
        let (key, value) = line
            .split_once(':')
            .ok_or_else(|| format!("not a key: value line: {line:?}"))?;
        let value = value.trim();
        let value = if value.len() >= 2
            && ((value.starts_with('"') && value.ends_with('"'))
                || (value.starts_with('\'') && value.ends_with('\'')))
        {
            value[1..value.len() - 1].to_owned()
        } else if value.is_empty() || value.starts_with(['|', '>', '[', '{', '&', '*']) {
            return Err(format!("value of {key:?} not supported: {value:?}"));
        } else {
            value.to_owned()
        };
        fields.insert(key.trim().to_owned(), value);
    }
    Err("the closing --- is missing".into())
}

impl SkillEntry {
    /// The listed file at `uri`.
    #[must_use]
    pub fn file(&self, uri: &str) -> Option<&SkillFile> {
        self.resources.iter().find(|f| f.uri == uri)
    }

    /// Checks `bytes`, read from `uri`, against the listing: size first (a different length
    /// fails whatever the digest), then `sha256`, the caller's `sha256:<hex>` of `bytes`.
    ///
    /// # Errors
    /// [`SkillVerifyError`]: unlisted file, size or digest mismatch, unsupported digest.
    pub fn verify_file(
        &self,
        uri: &str,
        bytes: &[u8],
        sha256: &str,
    ) -> Result<(), SkillVerifyError> {
        let file = self
            .file(uri)
            .ok_or_else(|| SkillVerifyError::NotListed(uri.to_owned()))?;
        let actual = bytes.len() as u64;
        if actual != file.size {
            return Err(SkillVerifyError::SizeMismatch {
                uri: uri.to_owned(),
                expected: file.size,
                actual,
            });
        }
        let listed = file.digest.to_ascii_lowercase();
        let hex = listed.strip_prefix("sha256:").unwrap_or_default();
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SkillVerifyError::UnsupportedDigest {
                uri: uri.to_owned(),
                digest: file.digest.clone(),
            });
        }
        if !sha256.eq_ignore_ascii_case(&listed) {
            return Err(SkillVerifyError::DigestMismatch {
                uri: uri.to_owned(),
            });
        }
        Ok(())
    }

    /// Checks the skill's `SKILL.md` (read from [`SkillEntry::uri`], `sha256` its digest):
    /// the file itself, then its frontmatter against the listing's, field by field (a field
    /// in only one of them is a discrepancy; listed values that are not strings never match).
    ///
    /// # Errors
    /// [`SkillVerifyError`].
    pub fn verify_skill_md(&self, text: &str, sha256: &str) -> Result<(), SkillVerifyError> {
        self.verify_file(&self.uri, text.as_bytes(), sha256)?;
        let parsed = parse_frontmatter(text).map_err(SkillVerifyError::Frontmatter)?;
        for (field, listed) in &self.frontmatter {
            let matches = match (listed, parsed.get(field)) {
                (Value::String(listed), Some(found)) => listed == found,
                _ => false,
            };
            if !matches {
                return Err(SkillVerifyError::FrontmatterMismatch {
                    field: field.clone(),
                });
            }
        }
        if let Some(extra) = parsed.keys().find(|k| !self.frontmatter.contains_key(*k)) {
            return Err(SkillVerifyError::FrontmatterMismatch {
                field: extra.clone(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const SKILL_MD: &str =
        "---\nname: pdf-processing\ndescription: \"Extract PDFs\"\n---\n\nThe body.\n";
    /// `sha256sum` of [`SKILL_MD`].
    const SKILL_MD_SHA256: &str =
        "sha256:a5973123b464178f4f684c1cb3865cd30995cfa9b4d0d9a442ad6035a4dd95a6";
    /// `sha256sum` of `forms\n`.
    const FORMS_SHA256: &str =
        "sha256:7eeb911d90c4bccdd4ff71d9754e32fee79fe6b23fa2a20d5afac640c128996e";
    /// `sha256sum` of `something else`.
    const OTHER_SHA256: &str =
        "sha256:f41f3fa625ff120ddca7ef456bf66371ecea23c129f4e4c32367101edb516cf8";

    fn entry() -> SkillEntry {
        serde_json::from_value(serde_json::json!({
            "uri": "skill://pdf/SKILL.md",
            "frontmatter": {"name": "pdf-processing", "description": "Extract PDFs"},
            "resources": [
                {"uri": "skill://pdf/SKILL.md", "digest": SKILL_MD_SHA256, "size": SKILL_MD.len()},
                {"uri": "skill://pdf/FORMS.md", "digest": FORMS_SHA256, "size": 6}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn a_faithful_skill_verifies() {
        let entry = entry();
        entry.verify_skill_md(SKILL_MD, SKILL_MD_SHA256).unwrap();
        entry
            .verify_file("skill://pdf/FORMS.md", b"forms\n", FORMS_SHA256)
            .unwrap();
    }

    #[test]
    fn tampered_bodies_sizes_and_frontmatter_are_refused() {
        let entry = entry();
        // Same length, other bytes: the digest differs.
        let evil = SKILL_MD.replace("The body.", "Evil body");
        assert!(matches!(
            entry.verify_skill_md(&evil, OTHER_SHA256),
            Err(SkillVerifyError::DigestMismatch { .. })
        ));
        let longer = format!("{SKILL_MD}more\n");
        assert!(matches!(
            entry.verify_skill_md(&longer, SKILL_MD_SHA256),
            Err(SkillVerifyError::SizeMismatch { .. })
        ));
        assert!(matches!(
            entry.verify_file("skill://pdf/OTHER.md", b"", OTHER_SHA256),
            Err(SkillVerifyError::NotListed(_))
        ));
        let mut md5 = entry.clone();
        md5.resources[1].digest = "md5:abc".into();
        assert!(matches!(
            md5.verify_file("skill://pdf/FORMS.md", b"forms\n", FORMS_SHA256),
            Err(SkillVerifyError::UnsupportedDigest { .. })
        ));
        // Bytes that match their listing, frontmatter that does not match the listed one.
        let mut lying = entry.clone();
        lying
            .frontmatter
            .insert("description".into(), "Exfiltrate".into());
        assert_eq!(
            lying.verify_skill_md(SKILL_MD, SKILL_MD_SHA256),
            Err(SkillVerifyError::FrontmatterMismatch {
                field: "description".into()
            })
        );
        let mut fewer = entry;
        fewer.frontmatter.remove("description");
        assert!(fewer.verify_skill_md(SKILL_MD, SKILL_MD_SHA256).is_err());
    }

    #[test]
    fn frontmatter_is_flat_and_fenced() {
        let fields = parse_frontmatter("---\na: 1\nb: 'two: 2'\n---\nbody").unwrap();
        assert_eq!(fields.get("b").map(String::as_str), Some("two: 2"));
        assert!(parse_frontmatter("no fence").is_err());
        assert!(parse_frontmatter("---\na: 1\n").is_err());
        assert!(parse_frontmatter("---\na:\n  - x\n---\n").is_err());
    }
}
