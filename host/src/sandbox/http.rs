//! `wasi:http/outgoing-handler` for packages, with the same reach as their sockets: a
//! request goes out only when its authority is an IP address and port of one of the
//! test's nodes (any of its named ports; nodes added mid-test included). Anything else
//! fails with `HTTP-request-denied` and a `[SANDBOX]` line in the case's output that
//! says why. Names are not resolved (the sandbox has no name lookup either).

use std::future::Future;
use std::net::{IpAddr, SocketAddr};

use http::uri::Scheme;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use super::capture::Capture;
use crate::nodes::Roster;

/// The hooks of a case's wasi:http: requests only to the test's nodes.
pub(super) struct NodesOnly {
    roster: Roster,
    refusals: Capture,
}

impl NodesOnly {
    pub(super) fn new(roster: Roster, refusals: Capture) -> NodesOnly {
        NodesOnly { roster, refusals }
    }

    /// The node address `uri` names, or why it names none.
    fn destination(&self, uri: &http::Uri) -> Result<SocketAddr, String> {
        let authority = uri.authority().ok_or("the request names no host")?;
        let host = authority.host().trim_start_matches('[').trim_end_matches(']');
        let ip: IpAddr = host.parse().map_err(|_| format!("{host} is not an IP address (the sandbox does not look names up)"))?;
        let default_port = if uri.scheme() == Some(&Scheme::HTTPS) { 443 } else { 80 };
        let address = SocketAddr::new(ip, authority.port_u16().unwrap_or(default_port));
        if super::state::is_node_address(&self.roster, address) {
            Ok(address)
        } else {
            Err(format!("{address} is not an address of the test's nodes"))
        }
    }
}

type Sent = Box<dyn Future<Output = Result<(http::Response<WasiBody>, Box<dyn Future<Output = Result<(), Error>> + Send>), Error>> + Send>;

impl WasiHttpHooks for NodesOnly {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Sent {
        _ = fut;
        if let Err(why) = self.destination(request.uri()) {
            let uri = request.uri().to_string();
            self.refusals.line("[SANDBOX] ", &format!("refused HTTP {} {uri}: {why}; only the test's nodes may be reached", request.method()));
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((response.map(BodyExt::boxed_unsync), Box::new(io) as Box<dyn Future<Output = _> + Send>))
        })
    }
}
