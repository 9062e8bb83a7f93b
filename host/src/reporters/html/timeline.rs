//! The timeline: an inline SVG with a time axis in seconds (from the start of the run) and,
//! grouped by test, one lane per node (start to exit, booting drawn lighter) and one per
//! package run, coloured by outcome, and a `network` lane with a mark per network fault
//! or heal (`network_faults`). Tests that ran in parallel overlap horizontally.
//! Labels are cut to fit their column (full text in a tooltip) and clipped besides.

use maud::{Markup, html};

use super::assets::{GREEN, GREY, ORANGE, RED, colour};
use super::model::{NetworkMark, NodeLane, PackageRecord, Report, TestRecord};

/// The drawing's width in SVG units (it scales down with the page).
const WIDTH: f64 = 1100.0;
/// Width of the label column; the plot starts after it.
const LABEL_W: f64 = 250.0;
const PLOT_X: f64 = LABEL_W + 10.0;
const PLOT_RIGHT: f64 = WIDTH - 20.0;
/// Height of the legend and axis band above the lanes.
const TOP: f64 = 52.0;
const GROUP_H: f64 = 24.0;
const LANE_H: f64 = 19.0;
const BAR_H: f64 = 12.0;
/// Width of one character of the 12px monospace labels, with some margin.
const CHAR_W: f64 = 7.4;

/// Maps seconds since the reporter started to x positions in the plot.
struct Scale {
    origin: f64,
    span: f64,
}

impl Scale {
    fn x(&self, at: f64) -> f64 {
        PLOT_X + ((at - self.origin) / self.span).clamp(0.0, 1.0) * (PLOT_RIGHT - PLOT_X)
    }
}

/// The timeline of the whole run, or a note when nothing ran.
pub fn svg(report: &Report) -> Markup {
    if report.tests.is_empty() {
        return html! { p.muted { "Nothing ran: no node or package to show." } };
    }
    let origin = report.run_started.unwrap_or(0.0);
    let scale = Scale { origin, span: (report.last - origin).max(0.001) };
    let mut y = TOP;
    let groups: Vec<Markup> = report.tests.iter().map(|test| test_group(&scale, report, test, &mut y)).collect();
    let height = y + 8.0;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (WIDTH) " " (height) } width=(WIDTH) height=(height)
            font-family="ui-monospace, 'DejaVu Sans Mono', Menlo, monospace" font-size="12" role="img"
            aria-label="timeline of nodes and packages" {
            defs { clipPath #label-clip { rect x="0" y="0" width=(LABEL_W) height=(height) {} } }
            (legend())
            (axis(&scale, height))
            @for group in groups { (group) }
        }
    }
}

/// Colour swatches explaining the bars.
fn legend() -> Markup {
    let items = [(GREEN, 1.0, "passed"), (RED, 1.0, "failed"), (GREY, 1.0, "skipped"), (GREEN, 0.4, "node booting")];
    let mut x = PLOT_X;
    let swatches: Vec<(f64, &str, f64, &str)> = items
        .iter()
        .map(|&(fill, opacity, label)| {
            let at = x;
            x += 28.0 + label.len() as f64 * 7.0;
            (at, fill, opacity, label)
        })
        .collect();
    html! {
        g.legend font-size="11" fill="#5f6b7a" {
            @for (x, fill, opacity, label) in swatches {
                rect x=(x) y="4" width="14" height="10" rx="2" fill=(fill) fill-opacity=(opacity) {}
                text x=(x + 18.0) y="13" { (label) }
            }
            text x="6" y="13" { "seconds since the run started" }
        }
    }
}

/// A step of 1, 2 or 5 times a power of ten giving about eight ticks over `span`.
fn nice_step(span: f64) -> f64 {
    let raw = span / 8.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let norm = raw / magnitude;
    let factor = if norm <= 1.0 { 1.0 } else if norm <= 2.0 { 2.0 } else if norm <= 5.0 { 5.0 } else { 10.0 };
    factor * magnitude
}

/// Tick labels and vertical grid lines down to `height`.
fn axis(scale: &Scale, height: f64) -> Markup {
    let step = nice_step(scale.span);
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let ticks = (scale.span / step).floor() as usize;
    html! {
        g.axis font-size="11" fill="#5f6b7a" {
            line x1=(PLOT_X) y1=(TOP - 6.0) x2=(PLOT_RIGHT) y2=(TOP - 6.0) stroke="#9aa1a9" {}
            @for i in 0..=ticks {
                @let at = i as f64 * step;
                @let x = format!("{:.1}", scale.x(scale.origin + at));
                line x1=(x) y1=(TOP - 6.0) x2=(x) y2=(height) stroke="#e4e7eb" {}
                text x=(x) y=(TOP - 12.0) text-anchor="middle" { (format!("{at:.decimals$}s")) }
            }
        }
    }
}

/// A test's header row and its node and package lanes; advances `y`.
fn test_group(scale: &Scale, report: &Report, test: &TestRecord, y: &mut f64) -> Markup {
    let end = test.finished.unwrap_or(report.last);
    let label = test.label(report.repeated());
    let top = *y;
    let text_y = top + GROUP_H / 2.0 + 4.0;
    *y += GROUP_H;
    let mut lanes = Vec::new();
    for lane in &test.nodes {
        lanes.push(node_lane(scale, lane, end, test, *y));
        *y += LANE_H;
    }
    for package in test.packages.iter().filter(|p| p.started.is_some()) {
        lanes.push(package_lane(scale, package, *y));
        *y += LANE_H;
    }
    if !test.network.is_empty() {
        lanes.push(network_lane(scale, &test.network, *y));
        *y += LANE_H;
    }
    *y += 4.0;
    html! {
        g.test {
            rect x="0" y=(top) width=(WIDTH) height=(GROUP_H) fill="#f1f3f6" {}
            (label_text(6.0, text_y, "", &label, true))
            @match test.started {
                Some(start) => {
                    (bar(scale, (start, end), (top + GROUP_H / 2.0 - 2.0, 4.0), colour(test.outcome.as_ref()), 0.8, &format!("test {label}")))
                }
                None => { text x=(PLOT_X) y=(text_y) fill="#5f6b7a" { "not started" } }
            }
            @for lane in lanes { (lane) }
        }
    }
}

/// A node's lane: booting (lighter) until ready, then running until it exited.
fn node_lane(scale: &Scale, lane: &NodeLane, test_end: f64, test: &TestRecord, y: f64) -> Markup {
    let end = lane.exited.unwrap_or(test_end);
    let fill = colour(test.outcome.as_ref());
    let mut title = format!("node {} · {} · pid {}\nstarted {:.3}s", lane.name, lane.address, lane.pid, lane.started - scale.origin);
    if let Some(ready) = lane.ready {
        title.push_str(&format!(", ready {:.3}s", ready - scale.origin));
    }
    if let (Some(exited), Some(status)) = (lane.exited, &lane.status) {
        title.push_str(&format!(", exited {:.3}s ({status})", exited - scale.origin));
    }
    let bar_y = (y + (LANE_H - BAR_H) / 2.0, BAR_H);
    let ready = lane.ready.unwrap_or(end).min(end);
    html! {
        g.lane.node {
            (label_text(20.0, y + LANE_H / 2.0 + 4.0, "node", &lane.name, false))
            (bar(scale, (lane.started, ready), bar_y, fill, 0.4, &title))
            @if lane.ready.is_some() { (bar(scale, (ready, end), bar_y, fill, 1.0, &title)) }
        }
    }
}

/// A package run's lane, coloured by the package's outcome.
fn package_lane(scale: &Scale, package: &PackageRecord, y: f64) -> Markup {
    let start = package.started.unwrap_or(scale.origin);
    let end = package.finished.unwrap_or(start);
    let (_, status) = super::assets::status(package.outcome.as_ref(), false);
    let title = format!(
        "package {} · {status} · {} case(s)\n{:.3}s – {:.3}s",
        package.name,
        package.cases.len(),
        start - scale.origin,
        end - scale.origin
    );
    let bar_y = (y + (LANE_H - BAR_H) / 2.0, BAR_H);
    html! {
        g.lane.package {
            (label_text(20.0, y + LANE_H / 2.0 + 4.0, "pkg", &package.name, false))
            (bar(scale, (start, end), bar_y, colour(package.outcome.as_ref()), 1.0, &title))
        }
    }
}

/// The network lane: a narrow mark per fault or heal, its change in the tooltip.
fn network_lane(scale: &Scale, marks: &[NetworkMark], y: f64) -> Markup {
    let bar_y = (y + (LANE_H - BAR_H) / 2.0, BAR_H);
    html! {
        g.lane.network {
            (label_text(20.0, y + LANE_H / 2.0 + 4.0, "net", "network", false))
            @for mark in marks {
                @let fill = if mark.action == "heal" || mark.action == "heal-link" { GREEN } else { ORANGE };
                @let title = format!("{:.3}s · {} {} · {}", mark.at - scale.origin, mark.action, mark.nodes.join(", "), mark.detail);
                (bar(scale, (mark.at, mark.at), bar_y, fill, 1.0, &title))
            }
        }
    }
}

/// A bar over the times `span` (at least 2 units wide), at `(y, height)`, with a tooltip.
fn bar(scale: &Scale, (start, end): (f64, f64), (y, height): (f64, f64), fill: &str, opacity: f64, title: &str) -> Markup {
    let x = scale.x(start);
    let width = (scale.x(end) - x).max(2.0);
    html! {
        rect x=(format!("{x:.1}")) y=(format!("{y:.1}")) width=(format!("{width:.1}")) height=(height) rx="2" fill=(fill) fill-opacity=(opacity) {
            title { (title) }
        }
    }
}

/// A lane label: a muted `kind` word then `name`, cut to fit the label column (the whole
/// name in its tooltip); a test's label is bold.
fn label_text(x: f64, y: f64, kind: &str, name: &str, bold: bool) -> Markup {
    let prefix = if kind.is_empty() { 0 } else { kind.chars().count() + 1 };
    let room = ((LABEL_W - x - 8.0) / CHAR_W) as usize;
    let shown = truncate(name, room.saturating_sub(prefix));
    html! {
        text x=(x) y=(format!("{y:.1}")) clip-path="url(#label-clip)" font-weight=[bold.then_some("700")] fill="#1d2430" {
            title { (name) }
            @if !kind.is_empty() { tspan fill="#8a94a3" { (kind) " " } }
            (shown)
        }
    }
}

/// `text` cut to `max` characters, ending in `…` when cut.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round_numbers() {
        assert_eq!(nice_step(8.0), 1.0);
        assert_eq!(nice_step(1.5), 0.2);
        assert!((nice_step(0.3) - 0.05).abs() < 1e-12);
        assert_eq!(nice_step(300.0), 50.0);
    }

    #[test]
    fn long_names_are_cut_with_an_ellipsis() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("abcdefghijkl", 5), "abcd…");
    }
}
