//! test_server's repeat helpers, for steps that may need several tries (a leader not yet
//! elected, a connection refused while a node restarts): [`do_times`] and [`m_out_of_n`].
//! A try ends with an error value; a panic still ends the whole case.

use std::fmt::Display;
use std::panic::Location;

use crate::Failure;

/// test_server's `do_times/2`: run `f` `n` times, passing the try's number (from 1). The
/// first error ends it and is returned as it is.
pub fn do_times<E>(n: u32, mut f: impl FnMut(u32) -> Result<(), E>) -> Result<(), E> {
    (1..=n).try_for_each(&mut f)
}

/// test_server's `m_out_of_n/3`: run `f` (passing the try's number, from 1) until it has
/// succeeded `m` times, at most `n` times. Fewer than `m` successes — known as soon as the
/// tries left cannot make up for them — fail at the caller's line, with the counts and the
/// last error.
#[track_caller]
pub fn m_out_of_n<E: Display>(m: u32, n: u32, mut f: impl FnMut(u32) -> Result<(), E>) -> Result<(), Failure> {
    let location = Location::caller();
    let fail = |message: String| Err(Failure::at(location.file(), location.line(), location.column(), message));
    if m > n {
        return fail(format!("m_out_of_n({m}, {n}): more successes asked for than tries"));
    }
    let (mut succeeded, mut tried, mut last_error) = (0, 0, None);
    // Go on while the tries left can still make up the successes missing.
    while succeeded < m && n - tried >= m - succeeded {
        tried += 1;
        match f(tried) {
            Ok(()) => succeeded += 1,
            Err(error) => last_error = Some((tried, error.to_string())),
        }
    }
    if succeeded == m {
        return Ok(());
    }
    let last = last_error.map(|(attempt, error)| format!("; last error (try {attempt}): {error}")).unwrap_or_default();
    fail(format!("m_out_of_n({m}, {n}): {succeeded} of {tried} tries succeeded, {m} needed{last}"))
}
