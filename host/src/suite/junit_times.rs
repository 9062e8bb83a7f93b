//! A JUnit report read as a record: `--from-record junit.xml`. Each `<testcase>`'s
//! `time` is added to its test — the part of its `classname` (else of its `<testsuite>`'s
//! name) before the first `/`, as `--junit` writes them (`test/package`, or `test` for
//! scripts). Case times leave out node boot and teardown, so tests come out shorter than
//! in a host record; the balance between them is what counts.

use std::collections::BTreeMap;

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

use super::record::checked_seconds;

/// Seconds per test from the JUnit XML `text`, or what is wrong with it.
pub fn test_times(text: &str) -> Result<BTreeMap<String, f64>, String> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut tests: BTreeMap<String, f64> = BTreeMap::new();
    let mut suites: Vec<Option<String>> = Vec::new();
    let mut saw_suite = false;
    loop {
        let event = reader.read_event().map_err(|e| format!("not a JUnit report: XML error at byte {}: {e}", reader.error_position()))?;
        let (element, open) = match &event {
            Event::Start(element) => (element, true),
            Event::Empty(element) => (element, false),
            Event::End(element) if element.name().as_ref() == b"testsuite" => {
                suites.pop();
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        match element.name().as_ref() {
            b"testsuite" => {
                saw_suite = true;
                let name = attribute(element, "name")?;
                if open {
                    suites.push(name);
                }
            }
            b"testcase" => {
                let class = attribute(element, "classname")?.or_else(|| suites.last().cloned().flatten());
                let Some(class) = class else {
                    return Err("a <testcase> has neither a classname nor a named <testsuite>".into());
                };
                let time = match attribute(element, "time")? {
                    Some(time) => time.trim().parse::<f64>().map_err(|_| format!("<testcase classname={class:?}>: time {time:?} is not a number"))?,
                    None => 0.0,
                };
                let time = checked_seconds(time).map_err(|problem| format!("<testcase classname={class:?}>: time {problem}"))?;
                let test = class.split('/').next().unwrap_or_default().to_string();
                *tests.entry(test).or_default() += time;
            }
            _ => {}
        }
    }
    if !saw_suite {
        return Err("not a JUnit report: no <testsuite> element".into());
    }
    Ok(tests)
}

/// The value of attribute `name` of `element`, unescaped.
fn attribute(element: &BytesStart<'_>, name: &str) -> Result<Option<String>, String> {
    let found = element.try_get_attribute(name).map_err(|e| format!("not a JUnit report: bad attribute: {e}"))?;
    found
        .map(|attribute| {
            attribute.normalized_value(XmlVersion::Implicit1_0).map(|v| v.into_owned()).map_err(|e| format!("not a JUnit report: attribute {name}: {e}"))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_times_are_summed_per_test() {
        let xml = r#"<?xml version="1.0"?>
<testsuites name="host">
  <testsuite name="alpha/pkg" tests="2"><testcase name="a" classname="alpha/pkg" time="1.5"/><testcase name="b" classname="alpha/pkg" time="0.5"></testcase></testsuite>
  <testsuite name="alpha"><testcase name="script:s.sh" classname="alpha" time="2"/></testsuite>
  <testsuite name="beta/pkg"><testcase name="c" time="0.25"/></testsuite>
  <testsuite name="gamma"/>
</testsuites>"#;
        let times = test_times(xml).unwrap();
        assert_eq!(times, BTreeMap::from([("alpha".into(), 4.0), ("beta".into(), 0.25)]));
    }

    #[test]
    fn bad_reports_are_explained() {
        assert!(test_times("<testsuites><testsuite><testcase classname=\"a\" time=\"x\"/></testsuite></testsuites>").unwrap_err().contains("not a number"));
        assert!(test_times("<testsuites><testsuite><testcase time=\"1\"/></testsuite></testsuites>").unwrap_err().contains("classname"));
        assert!(test_times("<html></html>").unwrap_err().contains("no <testsuite>"));
        assert!(test_times("<testsuite><testcase classname=\"a\" time=\"-3\"/></testsuite>").unwrap_err().contains("seconds"));
    }
}
