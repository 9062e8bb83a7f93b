//! How the engine allocates instances: wasmtime's pooling allocator, sized from the run's
//! sandbox limits, or on-demand allocation when a limit is too large to pool.
//!
//! A case is a fresh store and a fresh instance. With on-demand allocation every case
//! maps and unmaps its linear memories, tables and fiber stack, and on two cores the
//! kernel's page-table work (and the TLB shootdowns between threads) was most of a trivial
//! case's cost. The pool reserves slots once and reuses them; a slot's first pages stay
//! resident between cases (reset, not unmapped).
//!
//! Slots are sized so that the pool never decides a verdict: every per-slot limit is at
//! least the largest sandbox limit of the run, so the [`Limits`](super::limits::Limits)
//! of the case's own policy is what refuses a growth, with its own message. Stores that
//! are alive at once are bounded by [`Pool::MAX_LIVE_STORES`] (a semaphore in the
//! sandbox), so the pool's totals cannot run out either.

use wasmtime::{Config, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::config::SandboxPolicy;

/// The largest limits a pooled slot is made for; a run whose sandbox asks for more uses
/// on-demand allocation.
const MAX_POOLED_MEMORY: usize = 4 << 30;
const MAX_POOLED_TABLE_ELEMENTS: usize = 10_000_000;
/// Per core module: tables and memories. Modules with more (rare) do not fit a pooled slot,
/// so such a run would fail to instantiate them: `HOST_POOLING=0` switches the pool off.
const TABLES_PER_MODULE: u32 = 32;
const MEMORIES_PER_MODULE: u32 = 4;
/// Bytes of a memory slot kept resident (reset in place, not unmapped) between cases. A
/// Rust guest starts with about 1.1 MiB (its 1 MiB stack and its data): below this, a slot
/// is never unmapped, so no page faults and no TLB shootdowns between the threads —
/// measured on 2 cores, 1 MiB was slower than 2 MiB for that reason.
const KEEP_RESIDENT: usize = 2 << 20;

/// What the engine is configured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    /// Pooled slots, each big enough for the largest limits of the run.
    Pooled { memory: usize, table_elements: usize },
    /// Every instance mapped and unmapped on its own.
    OnDemand,
}

impl Pool {
    /// Stores alive at once, whatever `-j` and `parallel` say: the pool's totals are made
    /// for this many, and a case waits for a store rather than fail for want of a slot.
    pub const MAX_LIVE_STORES: u32 = 64;

    /// The allocation for a run whose tests have `policies`; `HOST_POOLING=0` forces
    /// on-demand allocation.
    pub fn for_run<'p>(policies: impl IntoIterator<Item = &'p SandboxPolicy>) -> Pool {
        if std::env::var_os("HOST_POOLING").is_some_and(|value| value == "0") {
            return Pool::OnDemand;
        }
        let defaults = SandboxPolicy::default();
        let (mut memory, mut table_elements) = (defaults.memory, defaults.table_elements);
        for policy in policies {
            memory = memory.max(policy.memory);
            table_elements = table_elements.max(policy.table_elements);
        }
        if memory > MAX_POOLED_MEMORY || table_elements > MAX_POOLED_TABLE_ELEMENTS {
            return Pool::OnDemand;
        }
        Pool::Pooled { memory, table_elements }
    }

    /// Apply to an engine's `config`.
    pub fn configure(self, config: &mut Config) {
        let Pool::Pooled { memory, table_elements } = self else { return };
        let stores = Pool::MAX_LIVE_STORES;
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(stores)
            // Instances are counted, not reserved: generous, so that components made of
            // many core modules (CPython's) fit.
            .total_core_instances(stores * 64)
            .max_core_instances_per_component(1024)
            // Memories and tables are address space reserved up front (a memory slot is
            // 4 GiB of it, untouched): enough for a few per store.
            .total_memories(stores * 4)
            .total_tables(stores * 16)
            .total_stacks(stores)
            .max_memories_per_module(MEMORIES_PER_MODULE)
            .max_tables_per_module(TABLES_PER_MODULE)
            .max_memory_size(memory.next_power_of_two().max(64 << 20))
            .table_elements(table_elements)
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(64 << 10)
            .async_stack_keep_resident(64 << 10)
            // Linux 6.7+: reset only the pages a case dirtied, not all that stay resident.
            .pagemap_scan(wasmtime::Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_made_for_the_largest_limit_of_the_run() {
        let big = SandboxPolicy { memory: 2 << 30, ..SandboxPolicy::default() };
        let small = SandboxPolicy::default();
        assert_eq!(
            Pool::for_run([&small, &big]),
            Pool::Pooled { memory: 2 << 30, table_elements: small.table_elements }
        );
    }

    #[test]
    fn limits_too_large_to_pool_fall_back_to_on_demand() {
        let huge = SandboxPolicy { memory: 8 << 30, ..SandboxPolicy::default() };
        assert_eq!(Pool::for_run([&huge]), Pool::OnDemand);
        let long_tables = SandboxPolicy { table_elements: 50_000_000, ..SandboxPolicy::default() };
        assert_eq!(Pool::for_run([&long_tables]), Pool::OnDemand);
    }
}
