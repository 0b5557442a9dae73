//! (being moved from mcp-smol/tests/group.rs)

use crate::{Harness, Scenario};

pub fn scenarios<H: Harness>() -> Vec<Scenario> {
    Vec::new()
}
