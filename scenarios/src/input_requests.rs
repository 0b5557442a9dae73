//! (being moved from mcp-smol/tests/input_requests.rs)

use crate::{Harness, Scenario};

pub fn scenarios<H: Harness>() -> Vec<Scenario> {
    Vec::new()
}
