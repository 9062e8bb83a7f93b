//! `fail!`, the `ensure` family, logging shorthands and `test_package!`.

/// End the running case with a failure at this line: `fail!()`, `fail!("msg")` or
/// `fail!("expected {}, got {}", a, b)`. Expands to a `return`, like the seed's `fail!`
/// (in a 0.2 case, of a [`Stop::Fail`](crate::suite::Stop)).
#[macro_export]
macro_rules! fail {
    () => {
        return ::core::result::Result::Err(::core::convert::From::from($crate::Failure::at(
            file!(), line!(), column!(), "explicit fail!()",
        )))
    };
    ($($arg:tt)+) => {
        return ::core::result::Result::Err(::core::convert::From::from($crate::Failure::at(
            file!(), line!(), column!(), ::std::format!($($arg)+),
        )))
    };
}

/// Fail the case at this line unless `cond` holds; an optional message follows.
#[macro_export]
macro_rules! ensure {
    ($cond:expr $(,)?) => {
        if !$cond {
            $crate::fail!("condition failed: {}", stringify!($cond));
        }
    };
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            $crate::fail!("{} (condition failed: {})", ::std::format!($($arg)+), stringify!($cond));
        }
    };
}

/// Fail the case at this line unless `left == right`, showing both values.
#[macro_export]
macro_rules! ensure_eq {
    ($left:expr, $right:expr $(,)?) => {
        $crate::ensure_eq!($left, $right, "{} == {}", stringify!($left), stringify!($right))
    };
    ($left:expr, $right:expr, $($arg:tt)+) => {
        match (&$left, &$right) {
            (left, right) => {
                if !(*left == *right) {
                    $crate::fail!("{}: left {:?} != right {:?}", ::std::format!($($arg)+), left, right);
                }
            }
        }
    };
}

/// Fail the case at this line if `left == right`.
#[macro_export]
macro_rules! ensure_ne {
    ($left:expr, $right:expr $(,)?) => {
        $crate::ensure_ne!($left, $right, "{} != {}", stringify!($left), stringify!($right))
    };
    ($left:expr, $right:expr, $($arg:tt)+) => {
        match (&$left, &$right) {
            (left, right) => {
                if *left == *right {
                    $crate::fail!("{}: both sides are {:?}", ::std::format!($($arg)+), left);
                }
            }
        }
    };
}

/// Log at info level: `info!("wrote {key}")`.
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => { $crate::log($crate::Level::Info, &::std::format!($($arg)+)) };
}

/// Log at debug level.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => { $crate::log($crate::Level::Debug, &::std::format!($($arg)+)) };
}

/// Log at warn level.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => { $crate::log($crate::Level::Warn, &::std::format!($($arg)+)) };
}

/// Declare the package's named cases, in order, and export the `tester` world.
///
/// Each case is a `fn(&Context) -> TestResult`; its name in reports is the function name.
/// Use it once per package, at the crate root.
#[macro_export]
macro_rules! test_package {
    ($($case:ident),+ $(,)?) => {
        const __HOST_TEST_CASES: &[$crate::Case] = &[
            $($crate::Case { name: stringify!($case), run: $case }),+
        ];

        struct __HostTestPackage;

        impl $crate::bindings::exports::host::test::suite::Guest for __HostTestPackage {
            fn list_cases() -> ::std::vec::Vec<::std::string::String> {
                $crate::list_cases(__HOST_TEST_CASES)
            }

            fn handle(
                request: $crate::bindings::host::test::protocol::Request,
            ) -> $crate::bindings::host::test::protocol::Response {
                $crate::handle(__HOST_TEST_CASES, request)
            }
        }

        $crate::bindings::export!(__HostTestPackage with_types_in $crate::bindings);
    };
}

/// End the running 0.2 case (or `init`, `init-case`) with a user skip and its reason:
/// `skip!("needs three nodes, has {}", n)` (test_server's `{skip, Reason}`).
#[macro_export]
macro_rules! skip {
    ($($arg:tt)+) => {
        return ::core::result::Result::Err($crate::suite::Stop::Skip(::std::format!($($arg)+)))
    };
}

/// Declare a 0.2 package (`wit/v0.2/tester.wit`): its fixtures, its cases with their
/// one-line docs, in order, and export the world. The host calls `init` once, then
/// `init_case`, the case and `end_case` for each case, then `end`; each fixture is
/// optional.
///
/// ```ignore
/// guest_sdk::test_suite! {
///     init: init,
///     end: end,
///     init_case: init_case,
///     end_case: end_case,
///     cases: [reads_back: "a write is read back", needs_five_nodes],
/// }
/// fn init(ctx: &Context, config: Config) -> SuiteResult<Config> { Ok(config.with("key", "v")) }
/// fn reads_back(ctx: &Context, config: &Config) -> SuiteResult { Ok(()) }
/// ```
#[macro_export]
macro_rules! test_suite {
    (
        $(init: $init:path,)?
        $(end: $end:path,)?
        $(init_case: $init_case:path,)?
        $(end_case: $end_case:path,)?
        cases: [$($case:ident $(: $doc:literal)?),+ $(,)?] $(,)?
    ) => {
        const __HOST_TEST_SUITE: $crate::suite::Suite = $crate::suite::Suite {
            cases: &[$($crate::suite::SuiteCase {
                name: stringify!($case),
                doc: $crate::__doc_or_empty!($($doc)?),
                run: $case,
            }),+],
            init: $crate::__fixture_or!($($init)?; $crate::suite::keep_config),
            end: $crate::__fixture_or!($($end)?; $crate::suite::nothing_to_end),
            init_case: $crate::__fixture_or!($($init_case)?; $crate::suite::keep_case_config),
            end_case: $crate::__fixture_or!($($end_case)?; $crate::suite::nothing_to_end_case),
        };

        struct __HostTestSuite;

        impl $crate::suite::bindings::exports::host::test0_2_0::suite::Guest for __HostTestSuite {
            fn list_cases() -> ::std::vec::Vec<$crate::suite::bindings::host::test0_2_0::types::CaseInfo> {
                __HOST_TEST_SUITE.list_cases()
            }
            fn init(config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>)
                -> ::core::result::Result<::std::vec::Vec<(::std::string::String, ::std::string::String)>, $crate::suite::bindings::host::test0_2_0::types::Stop> {
                __HOST_TEST_SUITE.init(config)
            }
            fn init_case(name: ::std::string::String, config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>)
                -> ::core::result::Result<::std::vec::Vec<(::std::string::String, ::std::string::String)>, $crate::suite::bindings::host::test0_2_0::types::Stop> {
                __HOST_TEST_SUITE.init_case(&name, config)
            }
            fn run_case(name: ::std::string::String, config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>)
                -> ::core::result::Result<(), $crate::suite::bindings::host::test0_2_0::types::Stop> {
                __HOST_TEST_SUITE.run_case(&name, config)
            }
            fn end_case(name: ::std::string::String, config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>)
                -> ::core::result::Result<(), $crate::suite::bindings::host::test0_2_0::types::Stop> {
                __HOST_TEST_SUITE.end_case(&name, config)
            }
            fn end(config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>)
                -> ::core::result::Result<(), $crate::suite::bindings::host::test0_2_0::types::Stop> {
                __HOST_TEST_SUITE.end(config)
            }
        }

        $crate::suite::bindings::export!(__HostTestSuite with_types_in $crate::suite::bindings);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __doc_or_empty {
    () => { "" };
    ($doc:literal) => { $doc };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __fixture_or {
    (; $default:path) => { $default };
    ($given:path; $default:path) => { $given };
}
