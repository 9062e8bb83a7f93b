//! test_server's repeat helpers (`guest_sdk::m_out_of_n`, `guest_sdk::do_times`), checked
//! by counting tries; `python-repeat-helpers` is the same package in Python. The last case
//! fails on purpose: host/tests/suite_structure.rs checks its message and line.

use guest_sdk::{Context, TestResult, do_times, ensure_eq, fail, m_out_of_n, test_package};

test_package!(
    three_of_five_pass_after_two_failures,
    stops_once_enough_succeeded,
    do_times_runs_every_try,
    do_times_stops_at_the_first_error,
    too_few_successes_fail_at_the_call,
);

fn three_of_five_pass_after_two_failures(_: &Context) -> TestResult {
    let mut tries = Vec::new();
    m_out_of_n(3, 5, |attempt| -> TestResult {
        tries.push(attempt);
        if attempt == 1 || attempt == 3 {
            fail!("try {attempt} refused");
        }
        Ok(())
    })?;
    ensure_eq!(tries, [1, 2, 3, 4, 5]);
    Ok(())
}

fn stops_once_enough_succeeded(_: &Context) -> TestResult {
    let mut tries = 0;
    m_out_of_n(2, 10, |_| -> TestResult {
        tries += 1;
        Ok(())
    })?;
    ensure_eq!(tries, 2);
    Ok(())
}

fn do_times_runs_every_try(_: &Context) -> TestResult {
    let mut tries = Vec::new();
    do_times(4, |attempt| -> TestResult {
        tries.push(attempt);
        Ok(())
    })?;
    ensure_eq!(tries, [1, 2, 3, 4]);
    Ok(())
}

fn do_times_stops_at_the_first_error(_: &Context) -> TestResult {
    let mut tries = 0;
    let result = do_times(5, |attempt| {
        tries += 1;
        if attempt == 3 { Err(format!("try {attempt} refused")) } else { Ok(()) }
    });
    ensure_eq!(result, Err("try 3 refused".to_string()));
    ensure_eq!(tries, 3);
    Ok(())
}

fn too_few_successes_fail_at_the_call(_: &Context) -> TestResult {
    // Tries 1 and 2 fail: 2 tries left cannot make 3 successes, so it stops there.
    m_out_of_n(3, 4, |attempt| if attempt <= 2 { Err(format!("try {attempt} refused")) } else { Ok(()) })?; // the failing call
    fail!("m_out_of_n did not fail")
}
