//! Elicitation (`elicitation/create`): form mode with a restricted, flat JSON Schema, and URL
//! mode. In 2026-07-28 it is an MRTR input request; in legacy sessions a real
//! server-to-client request (2025-11-25 adds `elicitationId`, `notifications/elicitation/complete`
//! and error -32042).

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Number, Value};

use super::common::from_value_as;
use super::meta::Meta;
use super::tasks::legacy::TaskMetadata;

literal_tag!(
    /// The `"mode": "form"` member of form-mode params.
    FormMode = "form"
);
literal_tag!(
    /// The `"mode": "url"` member of URL-mode params.
    UrlMode = "url"
);
literal_tag!(
    /// A JSON Schema `"type": "object"`.
    ObjectType = "object"
);
literal_tag!(
    /// A JSON Schema `"type": "string"`.
    StringType = "string"
);
literal_tag!(
    /// A JSON Schema `"type": "array"`.
    ArrayType = "array"
);
literal_tag!(
    /// A JSON Schema `"type": "boolean"`.
    BooleanType = "boolean"
);

/// Params of a form-mode elicitation.
///
/// `mode` may be absent (clients MUST treat that as form mode); its presence is kept so round
/// trips are exact. `_meta` and `task` are 2025-11-25 members.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitRequestFormParams {
    /// Legacy request metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// 2025-11-25: request task-augmented execution.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskMetadata>,
    /// `"form"` or absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<FormMode>,
    /// What is being asked for.
    pub message: String,
    /// The form.
    pub requested_schema: ElicitationSchema,
}

/// Params of a URL-mode elicitation (sensitive data goes through a URL, never a form).
///
/// `elicitationId` is required in 2025-11-25 and absent in 2026-07-28, hence optional.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitRequestUrlParams {
    /// Legacy request metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// 2025-11-25: request task-augmented execution.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskMetadata>,
    /// `"url"`.
    pub mode: UrlMode,
    /// Why the interaction is needed.
    pub message: String,
    /// Where to send the user.
    pub url: String,
    /// 2025-11-25: the elicitation id (matches `notifications/elicitation/complete`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elicitation_id: Option<String>,
}

/// Params of `elicitation/create`: form or URL mode, by `mode` (absent means form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElicitRequestParams {
    /// Form mode.
    Form(ElicitRequestFormParams),
    /// URL mode.
    Url(ElicitRequestUrlParams),
}

impl Serialize for ElicitRequestParams {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Form(p) => p.serialize(serializer),
            Self::Url(p) => p.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ElicitRequestParams {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        match value.get("mode") {
            None => from_value_as(value).map(Self::Form),
            Some(Value::String(mode)) if mode == FormMode::VALUE => {
                from_value_as(value).map(Self::Form)
            }
            Some(Value::String(mode)) if mode == UrlMode::VALUE => {
                from_value_as(value).map(Self::Url)
            }
            Some(other) => Err(D::Error::custom(format_args!(
                "unknown elicitation mode {other}"
            ))),
        }
    }
}

/// The restricted schema of a form: a flat object of primitive properties.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ElicitationSchema {
    /// `$schema` dialect URI.
    #[serde(rename = "$schema", skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// `"object"`.
    #[serde(rename = "type")]
    pub type_: ObjectType,
    /// The fields.
    pub properties: BTreeMap<String, PrimitiveSchemaDefinition>,
    /// Names of required fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<Vec<String>>,
}

impl ElicitationSchema {
    /// Fills every field `content` leaves out with that field's `default` (SEP-1034), so an
    /// accepted form carries what the user was offered and did not change. Fields the user
    /// filled in are kept as they are; fields without a default stay absent.
    pub fn apply_defaults(&self, content: &mut BTreeMap<String, ElicitValue>) {
        for (name, field) in &self.properties {
            if content.contains_key(name) {
                continue;
            }
            if let Some(value) = field.default_value() {
                content.insert(name.clone(), value);
            }
        }
    }
}

/// `format` of a string field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StringFormat {
    /// `email`.
    Email,
    /// `uri`.
    Uri,
    /// `date`.
    Date,
    /// `date-time`.
    DateTime,
}

/// A string field.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StringSchema {
    /// `"string"`.
    #[serde(rename = "type")]
    pub type_: StringType,
    /// Label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Minimum length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    /// Maximum length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    /// Format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<StringFormat>,
    /// Default value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// `"number"` or `"integer"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NumberType {
    /// Any number.
    #[default]
    Number,
    /// Integers only.
    Integer,
}

/// A number or integer field.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NumberSchema {
    /// `"number"` or `"integer"`.
    #[serde(rename = "type")]
    pub type_: NumberType,
    /// Label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Minimum.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<Number>,
    /// Maximum.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum: Option<Number>,
    /// Default value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Number>,
}

/// A boolean field.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BooleanSchema {
    /// `"boolean"`.
    #[serde(rename = "type")]
    pub type_: BooleanType,
    /// Label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Default value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
}

/// One titled option of an enum field (`{const, title}`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EnumOption {
    /// The value.
    #[serde(rename = "const")]
    pub const_: String,
    /// The label.
    pub title: String,
}

/// Single choice among plain values (`enum`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UntitledSingleSelectEnumSchema {
    /// `"string"`.
    #[serde(rename = "type")]
    pub type_: StringType,
    /// Label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The values.
    #[serde(rename = "enum")]
    pub enum_: Vec<String>,
    /// Default value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// Single choice among titled values (`oneOf`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TitledSingleSelectEnumSchema {
    /// `"string"`.
    #[serde(rename = "type")]
    pub type_: StringType,
    /// Label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The options.
    pub one_of: Vec<EnumOption>,
    /// Default value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// `items` of an untitled multi-select: `{type: "string", enum: [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UntitledEnumItems {
    /// `"string"`.
    #[serde(rename = "type")]
    pub type_: StringType,
    /// The values.
    #[serde(rename = "enum")]
    pub enum_: Vec<String>,
}

/// `items` of a titled multi-select: `{anyOf: [{const, title}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TitledEnumItems {
    /// The options.
    pub any_of: Vec<EnumOption>,
}

/// Multiple choice among plain values.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntitledMultiSelectEnumSchema {
    /// `"array"`.
    #[serde(rename = "type")]
    pub type_: ArrayType,
    /// Label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Minimum selections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    /// Maximum selections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    /// The values.
    pub items: UntitledEnumItems,
    /// Default selection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Vec<String>>,
}

/// Multiple choice among titled values.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TitledMultiSelectEnumSchema {
    /// `"array"`.
    #[serde(rename = "type")]
    pub type_: ArrayType,
    /// Label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Minimum selections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    /// Maximum selections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    /// The options.
    pub items: TitledEnumItems,
    /// Default selection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Vec<String>>,
}

/// Deprecated single choice with `enumNames` labels (use [`TitledSingleSelectEnumSchema`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyTitledEnumSchema {
    /// `"string"`.
    #[serde(rename = "type")]
    pub type_: StringType,
    /// Label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The values.
    #[serde(rename = "enum")]
    pub enum_: Vec<String>,
    /// Labels, parallel to `enum`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enum_names: Option<Vec<String>>,
    /// Default value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// One field of a form (`PrimitiveSchemaDefinition`).
///
/// Decoding looks at `type` and then at the distinguishing member: `boolean`; `number` /
/// `integer`; `array` with `items.anyOf` (titled) or `items.enum` (untitled); `string` with
/// `oneOf` (titled), `enum` plus `enumNames` (legacy titled), `enum` (untitled), or none of
/// these (plain string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrimitiveSchemaDefinition {
    /// A string field.
    String(StringSchema),
    /// A number or integer field.
    Number(NumberSchema),
    /// A boolean field.
    Boolean(BooleanSchema),
    /// Single choice, plain values.
    UntitledSingleSelect(UntitledSingleSelectEnumSchema),
    /// Single choice, titled values.
    TitledSingleSelect(TitledSingleSelectEnumSchema),
    /// Multiple choice, plain values.
    UntitledMultiSelect(UntitledMultiSelectEnumSchema),
    /// Multiple choice, titled values.
    TitledMultiSelect(TitledMultiSelectEnumSchema),
    /// Deprecated single choice with `enumNames`.
    LegacyTitled(LegacyTitledEnumSchema),
}

impl PrimitiveSchemaDefinition {
    /// The field's `default`, as the value a form submits.
    #[must_use]
    pub fn default_value(&self) -> Option<ElicitValue> {
        match self {
            Self::String(s) => s.default.clone().map(ElicitValue::String),
            Self::Number(s) => s.default.clone().map(ElicitValue::Number),
            Self::Boolean(s) => s.default.map(ElicitValue::Boolean),
            Self::UntitledSingleSelect(s) => s.default.clone().map(ElicitValue::String),
            Self::TitledSingleSelect(s) => s.default.clone().map(ElicitValue::String),
            Self::LegacyTitled(s) => s.default.clone().map(ElicitValue::String),
            Self::UntitledMultiSelect(s) => s.default.clone().map(ElicitValue::StringArray),
            Self::TitledMultiSelect(s) => s.default.clone().map(ElicitValue::StringArray),
        }
    }
}

impl Serialize for PrimitiveSchemaDefinition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::String(s) => s.serialize(serializer),
            Self::Number(s) => s.serialize(serializer),
            Self::Boolean(s) => s.serialize(serializer),
            Self::UntitledSingleSelect(s) => s.serialize(serializer),
            Self::TitledSingleSelect(s) => s.serialize(serializer),
            Self::UntitledMultiSelect(s) => s.serialize(serializer),
            Self::TitledMultiSelect(s) => s.serialize(serializer),
            Self::LegacyTitled(s) => s.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for PrimitiveSchemaDefinition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let Some(object) = value.as_object() else {
            return Err(D::Error::custom("a form field schema must be an object"));
        };
        let ty = object
            .get("type")
            .ok_or_else(|| D::Error::missing_field("type"))?
            .as_str()
            .ok_or_else(|| D::Error::custom("`type` must be a string"))?;
        match ty {
            "boolean" => from_value_as(value).map(Self::Boolean),
            "number" | "integer" => from_value_as(value).map(Self::Number),
            "array" => {
                let titled = object
                    .get("items")
                    .and_then(Value::as_object)
                    .is_some_and(|items| items.contains_key("anyOf"));
                if titled {
                    from_value_as(value).map(Self::TitledMultiSelect)
                } else {
                    from_value_as(value).map(Self::UntitledMultiSelect)
                }
            }
            "string" => {
                if object.contains_key("oneOf") {
                    from_value_as(value).map(Self::TitledSingleSelect)
                } else if object.contains_key("enumNames") {
                    from_value_as(value).map(Self::LegacyTitled)
                } else if object.contains_key("enum") {
                    from_value_as(value).map(Self::UntitledSingleSelect)
                } else {
                    from_value_as(value).map(Self::String)
                }
            }
            other => Err(D::Error::custom(format_args!(
                "unsupported form field type {other:?}"
            ))),
        }
    }
}

/// The user's action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElicitAction {
    /// Submitted the form / consented to the URL.
    Accept,
    /// Explicitly declined.
    Decline,
    /// Dismissed without choosing.
    Cancel,
}

/// One submitted form value: a string, a number (the 2026-07-28 schema says integer; earlier
/// revisions allowed any number), a boolean, or a list of strings (multi-select).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ElicitValue {
    /// A string.
    String(String),
    /// A number.
    Number(Number),
    /// A boolean.
    Boolean(bool),
    /// Multi-select values.
    StringArray(Vec<String>),
}

/// The client's answer to an elicitation (an MRTR input response, or a legacy result).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElicitResult {
    /// Legacy result metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// What the user did.
    pub action: ElicitAction,
    /// Form data, only for a form-mode accept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<BTreeMap<String, ElicitValue>>,
}

impl ElicitResult {
    /// A result with `action` and no content.
    #[must_use]
    pub fn new(action: ElicitAction) -> Self {
        Self {
            meta: None,
            action,
            content: None,
        }
    }
}

impl ElicitResult {
    /// For an accepted form, fills the fields the user left out with the schema's defaults
    /// ([`ElicitationSchema::apply_defaults`]); declines and cancels are returned unchanged.
    #[must_use]
    pub fn with_defaults_from(mut self, schema: &ElicitationSchema) -> Self {
        if self.action == ElicitAction::Accept {
            schema.apply_defaults(self.content.get_or_insert_with(BTreeMap::new));
        }
        self
    }
}

/// Params of the 2025-11-25 `notifications/elicitation/complete` (removed in 2026-07-28).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitationCompleteNotificationParams {
    /// Notification metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The completed URL-mode elicitation.
    pub elicitation_id: String,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn schema() -> ElicitationSchema {
        serde_json::from_value(serde_json::json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "default": "John Doe"},
                "age": {"type": "integer", "default": 30},
                "score": {"type": "number", "default": 95.5},
                "status": {"type": "string", "enum": ["active", "inactive"], "default": "active"},
                "verified": {"type": "boolean", "default": true},
                "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "default": ["b"]},
                "nickname": {"type": "string"}
            },
            "required": []
        }))
        .unwrap()
    }

    #[test]
    fn accepted_forms_get_the_defaults_of_omitted_fields_only() {
        let mut typed = BTreeMap::new();
        typed.insert("name".to_owned(), ElicitValue::String("Ada".into()));
        let result = ElicitResult {
            meta: None,
            action: ElicitAction::Accept,
            content: Some(typed),
        }
        .with_defaults_from(&schema());
        let content = serde_json::to_value(result.content.unwrap()).unwrap();
        assert_eq!(
            content,
            serde_json::json!({
                "name": "Ada", "age": 30, "score": 95.5, "status": "active",
                "verified": true, "tags": ["b"]
            })
        );
        // No content at all: every default, and the field without one stays absent.
        let empty = ElicitResult::new(ElicitAction::Accept).with_defaults_from(&schema());
        let content = empty.content.unwrap();
        assert_eq!(content.len(), 6);
        assert!(!content.contains_key("nickname"));
    }

    #[test]
    fn declines_and_cancels_carry_no_content() {
        for action in [ElicitAction::Decline, ElicitAction::Cancel] {
            let result = ElicitResult::new(action).with_defaults_from(&schema());
            assert_eq!(result.content, None);
        }
    }
}
