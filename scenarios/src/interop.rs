//! (being moved from mcp-smol/tests/interop.rs)

use crate::{Harness, Scenario};

pub fn scenarios<H: Harness>() -> Vec<Scenario> {
    Vec::new()
}
