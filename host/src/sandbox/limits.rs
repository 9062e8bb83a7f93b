//! Resource limits of a case's store, remembering which limit a package ran into so the
//! report can say "out of memory" instead of a bare trap.

use wasmtime::ResourceLimiter;

use crate::config::SandboxPolicy;

/// The store's limiter.
pub struct Limits {
    memory: usize,
    table_elements: usize,
    instances: usize,
    tables: usize,
    /// The first limit that was hit, in words.
    pub hit: Option<String>,
}

impl Limits {
    pub fn new(policy: &SandboxPolicy) -> Limits {
        Limits {
            memory: policy.memory,
            table_elements: policy.table_elements,
            instances: policy.instances,
            tables: policy.tables,
            hit: None,
        }
    }
}

fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

impl ResourceLimiter for Limits {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.memory {
            self.hit.get_or_insert_with(|| {
                format!(
                    "out of memory: the package asked to grow its linear memory from {} to {}, over the limit of {} (sandbox.memory_mib)",
                    mib(current),
                    mib(desired),
                    mib(self.memory)
                )
            });
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.table_elements {
            self.hit.get_or_insert_with(|| {
                format!(
                    "table limit: growing a table from {current} to {desired} elements, over the limit of {} (sandbox.table_elements)",
                    self.table_elements
                )
            });
            return Ok(false);
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn memories(&self) -> usize {
        self.instances
    }
}
