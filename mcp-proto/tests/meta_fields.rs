//! `Meta::modern_request_fields`: every reserved field read, and its faults reported in the
//! order of the fields (version, capabilities, client info, log level, progress token).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mcp_proto::types::meta::{
    CLIENT_CAPABILITIES_KEY, CLIENT_INFO_KEY, LOG_LEVEL_KEY, PROGRESS_TOKEN_KEY,
    PROTOCOL_VERSION_KEY,
};
use mcp_proto::types::{LoggingLevel, Meta, MetaValueError, ProtocolVersion};
use serde_json::{Value, json};

fn meta(value: Value) -> Meta {
    serde_json::from_value(value).unwrap()
}

fn invalid_key(error: MetaValueError) -> String {
    match error {
        MetaValueError::Invalid { key, .. } => key,
        other => panic!("expected an invalid member, got {other:?}"),
    }
}

#[test]
fn every_field_is_read() {
    let fields = meta(json!({
        "a.example/unknown": [1, 2],
        PROTOCOL_VERSION_KEY: "2026-07-28",
        CLIENT_CAPABILITIES_KEY: {"roots": {}},
        CLIENT_INFO_KEY: {"name": "c", "version": "1"},
        LOG_LEVEL_KEY: "debug",
        PROGRESS_TOKEN_KEY: 3,
        "z": null
    }))
    .modern_request_fields()
    .unwrap();
    assert_eq!(fields.protocol_version, ProtocolVersion::V2026_07_28);
    assert!(fields.client_capabilities.roots.is_some());
    assert_eq!(fields.client_info.unwrap().name, "c");
    assert_eq!(fields.log_level, Some(LoggingLevel::Debug));
    assert_eq!(fields.progress_token, Some(3.into()));
}

#[test]
fn faults_come_in_the_order_of_the_fields() {
    let bad = |skip: &[&str]| {
        let mut all = json!({
            PROTOCOL_VERSION_KEY: 1,
            CLIENT_CAPABILITIES_KEY: 2,
            CLIENT_INFO_KEY: 3,
            LOG_LEVEL_KEY: "loud",
            PROGRESS_TOKEN_KEY: {},
        });
        for key in skip {
            all.as_object_mut().unwrap().remove(*key);
        }
        meta(all).modern_request_fields().unwrap_err()
    };
    assert_eq!(invalid_key(bad(&[])), PROTOCOL_VERSION_KEY);
    assert_eq!(
        bad(&[PROTOCOL_VERSION_KEY]),
        MetaValueError::Missing {
            key: PROTOCOL_VERSION_KEY
        }
    );
    let good_version = |mut value: Value| {
        value[PROTOCOL_VERSION_KEY] = json!("2026-07-28");
        meta(value).modern_request_fields().unwrap_err()
    };
    assert_eq!(
        invalid_key(good_version(
            json!({CLIENT_CAPABILITIES_KEY: 2, CLIENT_INFO_KEY: 3})
        )),
        CLIENT_CAPABILITIES_KEY
    );
    assert_eq!(
        good_version(json!({CLIENT_INFO_KEY: 3, LOG_LEVEL_KEY: "loud"})),
        MetaValueError::Missing {
            key: CLIENT_CAPABILITIES_KEY
        }
    );
    let with_caps = |mut value: Value| {
        value[CLIENT_CAPABILITIES_KEY] = json!({});
        good_version(value)
    };
    assert_eq!(
        invalid_key(with_caps(
            json!({CLIENT_INFO_KEY: 3, LOG_LEVEL_KEY: "loud", PROGRESS_TOKEN_KEY: {}})
        )),
        CLIENT_INFO_KEY
    );
    assert_eq!(
        invalid_key(with_caps(
            json!({LOG_LEVEL_KEY: "loud", PROGRESS_TOKEN_KEY: {}})
        )),
        LOG_LEVEL_KEY
    );
    assert_eq!(
        invalid_key(with_caps(json!({PROGRESS_TOKEN_KEY: {}}))),
        PROGRESS_TOKEN_KEY
    );
}
