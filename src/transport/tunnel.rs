//! The I/O half of an HTTP proxy: a TCP connection to the proxy and its `CONNECT` tunnel to
//! the target (the request and reply themselves are [`proxy`]'s, sans-IO).

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::proxy::{self, Proxy};
use super::{ProxyFailure, TransportError};

/// A TCP connection to `target` (`host:port`) through `proxy`'s `CONNECT` tunnel: one
/// connection for the whole authentication and every request, as NTLM needs.
pub(super) async fn open(
    proxy: &Proxy,
    target: &str,
    label: &str,
) -> Result<TcpStream, TransportError> {
    let fail = |failure| TransportError::Proxy {
        proxy: proxy.to_string(),
        endpoint: label.to_string(),
        failure,
    };
    let mut s = TcpStream::connect((proxy.host(), proxy.port()))
        .await
        .map_err(|e| fail(ProxyFailure::Unreachable(e)))?;
    let _ = s.set_nodelay(true);
    let request = proxy::connect_request(proxy, target);
    s.write_all(&request)
        .await
        .map_err(|e| fail(ProxyFailure::Malformed(format!("writing CONNECT: {e}"))))?;
    // Byte by byte up to the empty line: nothing of the tunnel may be read into a buffer here.
    let mut head = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !proxy::connect_reply_complete(&head) {
        if head.len() >= proxy::MAX_CONNECT_REPLY {
            return Err(fail(ProxyFailure::Malformed(format!(
                "a reply head over {} bytes",
                proxy::MAX_CONNECT_REPLY
            ))));
        }
        match s.read(&mut byte).await {
            Ok(0) => {
                return Err(fail(ProxyFailure::Malformed(
                    "it closed the connection".into(),
                )));
            }
            Ok(_) => head.push(byte[0]),
            Err(e) => return Err(fail(ProxyFailure::Malformed(e.to_string()))),
        }
    }
    let reply = proxy::parse_connect_reply(&head)
        .map_err(|e| fail(ProxyFailure::Malformed(e.to_string())))?;
    match reply.status {
        200..=299 => Ok(s),
        // 407 as specified; tinyproxy answers wrong credentials with 401.
        status @ (401 | 407) => Err(fail(ProxyFailure::AuthRequired {
            credentials_given: proxy.has_credentials(),
            status,
        })),
        502..=504 => Err(fail(ProxyFailure::TargetUnreachable {
            status: reply.status,
            reason: reply.reason,
        })),
        status => Err(fail(ProxyFailure::Refused {
            status,
            reason: reply.reason,
        })),
    }
}
