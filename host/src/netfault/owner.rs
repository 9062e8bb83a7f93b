//! Which node opened a connection the proxy accepted: the client socket's inode, from
//! `/proc/net/tcp`, found among the open files of a node's processes. Needs no privilege:
//! the nodes are the host's own children, running as the same user.

use std::net::SocketAddr;

/// The inode of the TCP socket whose local end is `client` and remote end `server`, as
/// the kernel lists it in `/proc/net/tcp` (IPv4) or `/proc/net/tcp6`.
fn socket_inode(client: SocketAddr, server: SocketAddr) -> Option<u64> {
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else { continue };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 10 {
                continue;
            }
            if port_of(fields[1]) == Some(client.port())
                && port_of(fields[2]) == Some(server.port())
                && let Ok(inode) = fields[9].parse::<u64>()
                && inode != 0
            {
                return Some(inode);
            }
        }
    }
    None
}

/// The port of a `/proc/net/tcp` address (`0100007F:1F90`).
fn port_of(field: &str) -> Option<u16> {
    u16::from_str_radix(field.rsplit_once(':')?.1, 16).ok()
}

/// Whether process `pid` holds the socket `inode` open.
fn holds(pid: u32, inode: u64) -> bool {
    let wanted = format!("socket:[{inode}]");
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return false };
    entries.flatten().any(|entry| std::fs::read_link(entry.path()).is_ok_and(|target| target.as_os_str() == wanted.as_str()))
}

/// The process group of `pid`, from `/proc/PID/stat`.
fn process_group(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split_whitespace().nth(2)?.parse().ok()
}

/// The name of the node whose process (or a process of its group: nodes lead their own
/// group) opened the connection from `client` to `server`; `None`: not a node's (a
/// package, a script, or a socket already gone).
pub fn owner(client: SocketAddr, server: SocketAddr, nodes: &[(String, u32)]) -> Option<String> {
    let inode = socket_inode(client, server)?;
    if let Some((name, _)) = nodes.iter().find(|(_, pid)| holds(*pid, inode)) {
        return Some(name.clone());
    }
    // The host's own socket (a package's connection, made by wasmtime here): no node's.
    if holds(std::process::id(), inode) {
        return None;
    }
    // A node's children (a wrapper script's daemon): any process of a node's group.
    let entries = std::fs::read_dir("/proc").ok()?;
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Some(group) = process_group(pid) else { continue };
        if let Some((name, _)) = nodes.iter().find(|(_, leader)| *leader == group)
            && holds(pid, inode)
        {
            return Some(name.clone());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_this_process_as_the_owner_of_its_own_connection() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let server = listener.local_addr().unwrap();
        let _client = std::net::TcpStream::connect(server).unwrap();
        let (_accepted, client) = listener.accept().unwrap();
        let me = std::process::id();
        assert_eq!(owner(client, server, &[("other".into(), 1), ("me".into(), me)]).as_deref(), Some("me"));
        assert_eq!(owner(client, server, &[("other".into(), 1)]), None);
    }
}
