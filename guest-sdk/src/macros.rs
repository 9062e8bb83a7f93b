//! `fail!`, the `ensure` family, logging shorthands and `test_package!`.

/// End the running case with a failure at this line: `fail!()`, `fail!("msg")` or
/// `fail!("expected {}, got {}", a, b)`. Expands to a `return`, like the seed's `fail!`.
#[macro_export]
macro_rules! fail {
    () => {
        return ::core::result::Result::Err($crate::Failure::at(
            file!(), line!(), column!(), "explicit fail!()",
        ))
    };
    ($($arg:tt)+) => {
        return ::core::result::Result::Err($crate::Failure::at(
            file!(), line!(), column!(), ::std::format!($($arg)+),
        ))
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
