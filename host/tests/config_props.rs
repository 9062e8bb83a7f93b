//! Property tests: the configuration parser and the placeholder resolver never panic,
//! and their errors point inside the text they were given.

// Rebuilt whenever the checkout it was last built for is another: see .cargo/config.toml.
const _: Option<&str> = option_env!("HOST_CHECKOUT");

use std::path::Path;

use host::config::{self, AddressBook, NodeAddress, ResolveError, Template};
use proptest::prelude::*;

const FILE: &str = "/nonexistent-host-props/tests.toml";

/// Lines that look like tests.toml: real keys and tables with arbitrary values.
fn tomlish() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "runtime", "name", "home", "args", "env", "port", "fake_node_name", "memory_mib", "output_kib",
        "timeout_secs", "test_package_paths", "ready", "command", "path", "case_timeout_secs", "persist_home",
    ]);
    let value = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|x| format!("{x:e}")),
        ".*".prop_map(|s: String| format!("{s:?}")),
        "[{}a-z:. ]{0,12}".prop_map(|s| format!("{s:?}")),
        "[{}a-z:. ]{0,12}".prop_map(|s| format!("[{s:?}, \"x\"]")),
        Just("{ Command = \"true\" }".to_string()),
        Just("{ command = [\"p\", \"{port\"] }".to_string()),
    ];
    let line = prop_oneof![
        (key, value).prop_map(|(k, v)| format!("{k} = {v}")),
        Just("[[tests]]".to_string()),
        Just("[[tests.nodes]]".to_string()),
        Just("[sandbox]".to_string()),
        Just("[tests.sandbox]".to_string()),
        ".{0,20}",
    ];
    prop::collection::vec(line, 0..12).prop_map(|lines| lines.join("\n"))
}

fn check_positions(text: &str) {
    match config::parse(Path::new(FILE), text) {
        Ok(_) => {}
        Err(errors) => {
            assert!(!errors.0.is_empty());
            let lines = text.split('\n').count().max(1);
            for error in errors.iter() {
                if let Some((line, column)) = error.position {
                    assert!(line >= 1 && line <= lines, "line {line} of {lines}: {error}");
                    let width = text.split('\n').nth(line - 1).map_or(0, |l| l.chars().count());
                    assert!(column >= 1 && column <= width + 1, "column {column} of {width}: {error}");
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics_and_errors_point_inside_it(text in ".{0,200}") {
        check_positions(&text);
    }

    #[test]
    fn tomlish_text_never_panics_and_errors_point_inside_it(text in tomlish()) {
        check_positions(&text);
    }

    #[test]
    fn a_parsed_template_renders_back_to_itself(text in "[{}a-z:_ ]{0,24}|.{0,24}") {
        if let Ok(template) = Template::parse(&text) {
            let again = Template::parse(&template.to_string()).expect("a rendered template parses");
            prop_assert_eq!(again, template);
        }
    }

    #[test]
    fn unknown_placeholders_are_errors_in_parsing_and_resolving(word in "[a-z_]{1,10}", node in proptest::option::of("[a-z]{1,5}")) {
        let known = ["name", "host", "port", "address", "home", "event_pipe", "peers", "verbosity", "password"];
        prop_assume!(!known.contains(&word.as_str()));
        let text = match &node { Some(node) => format!("x{{{word}:{node}}}y"), None => format!("x{{{word}}}y") };
        prop_assert!(Template::parse(&text).is_err());
        let book = AddressBook::new(vec![NodeAddress {
            name: "a".into(), host: "127.0.0.1".into(), port: 1, ports: vec![("client".into(), 1)], listen: Vec::new(), home: "/h".into(), event_pipe: "/e".into(),
            verbosity: Some(0), password: Some("p".into()),
        }]);
        prop_assert!(matches!(book.render_text(Some("a"), &text), Err(ResolveError::Syntax(_))));
    }
}
