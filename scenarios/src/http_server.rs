//! (being moved from mcp-smol/tests/http_server.rs)

use crate::{Harness, Scenario};

pub fn scenarios<H: Harness>() -> Vec<Scenario> {
    Vec::new()
}
