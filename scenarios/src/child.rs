//! (being moved from mcp-smol/tests/child.rs)

use crate::{Harness, Scenario};

pub fn scenarios<H: Harness>() -> Vec<Scenario> {
    Vec::new()
}
