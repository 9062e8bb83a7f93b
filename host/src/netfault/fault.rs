//! The byte-level faults a link can carry (Toxiproxy's vocabulary) and where each applies.

use std::time::Duration;

/// Which bytes of a connection a fault acts on. A connection goes from a client (a node,
/// or a package/script: "outside") to one port of a server node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Client → server: what the client sends.
    Upstream,
    /// Server → client: what the server answers.
    Downstream,
    /// Both ways.
    Both,
}

impl Direction {
    /// Whether the fault applies to bytes flowing `upstream` (true) or downstream.
    pub fn covers(self, upstream: bool) -> bool {
        match self {
            Direction::Both => true,
            Direction::Upstream => upstream,
            Direction::Downstream => !upstream,
        }
    }
}

/// One fault on a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Every chunk is delivered `latency` (± up to `jitter`) after it was read.
    Latency { latency: Duration, jitter: Duration },
    /// At most this many bytes per second.
    Bandwidth { bytes_per_sec: u64 },
    /// Every connection of the link is reset (RST) now, and every new one at once.
    Reset,
    /// A connection is closed once this many bytes went through (in the fault's direction).
    CloseAfterBytes { bytes: u64 },
    /// Data is delivered in small writes of `average` (± `variation`) bytes, `delay` apart.
    Slicer { average: usize, variation: usize, delay: Duration },
    /// New connections are closed as soon as they are accepted; open ones go on.
    DropNewConnections,
}

impl Fault {
    /// The fault's kind, as events and errors name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Latency { .. } => "latency",
            Fault::Bandwidth { .. } => "bandwidth",
            Fault::Reset => "reset",
            Fault::CloseAfterBytes { .. } => "close-after-bytes",
            Fault::Slicer { .. } => "slicer",
            Fault::DropNewConnections => "drop-new-connections",
        }
    }

    /// The fault in words, for the timeline.
    pub fn describe(&self) -> String {
        match self {
            Fault::Latency { latency, jitter } => format!("latency {} ms ± {} ms", latency.as_millis(), jitter.as_millis()),
            Fault::Bandwidth { bytes_per_sec } => format!("bandwidth {bytes_per_sec} bytes/s"),
            Fault::Reset => "reset connections".to_string(),
            Fault::CloseAfterBytes { bytes } => format!("close after {bytes} bytes"),
            Fault::Slicer { average, variation, delay } => {
                format!("slicer {average} ± {variation} bytes every {} µs", delay.as_micros())
            }
            Fault::DropNewConnections => "drop new connections".to_string(),
        }
    }

    /// Why the fault cannot be applied, if it cannot.
    pub fn problem(&self) -> Option<String> {
        match *self {
            Fault::Bandwidth { bytes_per_sec: 0 } => Some("bandwidth must be at least 1 byte per second".into()),
            Fault::Slicer { average: 0, .. } => Some("slicer average size must be at least 1 byte".into()),
            Fault::Slicer { average, variation, .. } if variation >= average => {
                Some(format!("slicer size variation ({variation}) must be smaller than the average size ({average})"))
            }
            Fault::Latency { latency, jitter } if jitter > latency => {
                Some(format!("jitter ({} ms) must not exceed the latency ({} ms)", jitter.as_millis(), latency.as_millis()))
            }
            _ => None,
        }
    }
}

/// Where a fault applies: connections to `to`'s ports from `from` (`None`: from anyone,
/// packages included), in `direction`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub to: String,
    pub from: Option<String>,
    pub direction: Direction,
}

/// A fault armed on a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Armed {
    pub target: Target,
    pub fault: Fault,
}

/// The faults that act on one direction of one connection, at most one of each kind (a
/// link's own fault wins over one set for every client of the node).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Effective {
    pub latency: Option<(Duration, Duration)>,
    pub bandwidth: Option<u64>,
    pub close_after: Option<u64>,
    pub slicer: Option<(usize, usize, Duration)>,
}

impl Effective {
    /// What `armed` makes of the bytes from `from` to `to` (`upstream`), or back.
    pub fn of(armed: &[Armed], from: Option<&str>, to: &str, upstream: bool) -> Effective {
        let mut effective = Effective::default();
        // Node-wide faults first, so that a link's own override them.
        let applies = |a: &&Armed, specific: bool| {
            a.target.to == to && a.target.direction.covers(upstream) && (a.target.from.is_some() == specific)
                && (a.target.from.is_none() || a.target.from.as_deref() == from)
        };
        for a in armed.iter().filter(|a| applies(a, false)).chain(armed.iter().filter(|a| applies(a, true))) {
            match a.fault {
                Fault::Latency { latency, jitter } => effective.latency = Some((latency, jitter)),
                Fault::Bandwidth { bytes_per_sec } => effective.bandwidth = Some(bytes_per_sec),
                Fault::CloseAfterBytes { bytes } => effective.close_after = Some(bytes),
                Fault::Slicer { average, variation, delay } => effective.slicer = Some((average, variation, delay)),
                Fault::Reset | Fault::DropNewConnections => {}
            }
        }
        effective
    }
}

/// Whether a connection from `from` to `to` is hit by a fault of `kind` (reset, drop).
pub fn hits(armed: &[Armed], from: Option<&str>, to: &str, kind: &str) -> bool {
    armed.iter().any(|a| a.fault.kind() == kind && a.target.to == to && (a.target.from.is_none() || a.target.from.as_deref() == from))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn armed(to: &str, from: Option<&str>, direction: Direction, fault: Fault) -> Armed {
        Armed { target: Target { to: to.into(), from: from.map(Into::into), direction }, fault }
    }

    #[test]
    fn a_links_own_fault_wins_over_the_nodes_and_directions_are_kept_apart() {
        let ms = Duration::from_millis;
        let faults = [
            armed("b", Some("a"), Direction::Upstream, Fault::Latency { latency: ms(50), jitter: ms(0) }),
            armed("b", None, Direction::Both, Fault::Latency { latency: ms(10), jitter: ms(0) }),
            armed("b", None, Direction::Downstream, Fault::Bandwidth { bytes_per_sec: 100 }),
        ];
        assert_eq!(Effective::of(&faults, Some("a"), "b", true).latency, Some((ms(50), ms(0))));
        assert_eq!(Effective::of(&faults, Some("a"), "b", false).latency, Some((ms(10), ms(0))));
        assert_eq!(Effective::of(&faults, None, "b", true).latency, Some((ms(10), ms(0))));
        assert_eq!(Effective::of(&faults, None, "b", true).bandwidth, None);
        assert_eq!(Effective::of(&faults, None, "b", false).bandwidth, Some(100));
        assert_eq!(Effective::of(&faults, Some("b"), "a", true), Effective::default());
    }

    #[test]
    fn impossible_faults_are_named() {
        assert!(Fault::Bandwidth { bytes_per_sec: 0 }.problem().is_some());
        assert!(Fault::Slicer { average: 4, variation: 4, delay: Duration::ZERO }.problem().is_some());
        assert!(Fault::Latency { latency: Duration::from_millis(1), jitter: Duration::from_millis(2) }.problem().is_some());
        assert!(Fault::Reset.problem().is_none());
    }
}
