//! Two tests that bind the same fixed port never run at the same time, even under `-j`:
//! the host serialises them and says so.

mod common;

use common::{package, repo, run_in, suite};

#[test]
fn tests_sharing_a_fixed_port_are_serialised_under_jobs() {
    let port = common::port_below_the_ephemeral_range();
    let mut text = format!("runtime = {{ RepoPath = \"{}/kvnode\" }}\n", repo().display());
    for name in ["first", "second"] {
        text.push_str(&format!(
            "\n[[tests]]\nname = \"{name}\"\ntest_package_paths = [\"{}\"]\n\n[[tests.nodes]]\nfake_node_name = \"{name}.dev\"\nport = {port}\n",
            package("sleepy")
        ));
    }
    let dir = suite(&text);
    let run = run_in(dir.path(), &["run", "-j", "2", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    let events: Vec<serde_json::Value> = run.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(
        events.iter().any(|e| e["type"] == "warning" && e["message"].as_str().unwrap().contains(&format!("fixed port {port}"))),
        "the serialisation is announced\n{}",
        run.stdout
    );
    // From the event order: the second test starts only after the first finished.
    let order: Vec<String> = events
        .iter()
        .filter(|e| e["type"] == "test_started" || e["type"] == "test_finished")
        .map(|e| format!("{} {}", e["type"].as_str().unwrap(), e["test"].as_str().unwrap()))
        .collect();
    assert_eq!(order.len(), 4, "{order:?}");
    assert!(order[0].starts_with("test_started") && order[1].starts_with("test_finished"), "no overlap: {order:?}");
    assert_eq!(order[0].split(' ').nth(1), order[1].split(' ').nth(1), "no overlap: {order:?}");
}
