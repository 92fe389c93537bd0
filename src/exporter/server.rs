//! The exporter's HTTP side: `GET /ipmi?target=...&module=...`, `GET /metrics`, and a short
//! index page. One task per connection (hyper's HTTP/1.1 server); nothing here blocks.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::web::{Access, WebConfig};
use super::{Exporter, ScrapeError};

/// OpenMetrics, which Prometheus reads (what `prometheus-client` writes).
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Connections served at once, at most (more wait in the listen backlog).
pub const MAX_CONNECTIONS: usize = 4096;

/// Serves forever. A failed accept (out of file descriptors, a connection reset before it was
/// taken) is logged and retried after a pause, as Go's `http.Server` does; it never ends the
/// exporter. Unused clients are swept every 30 s.
pub async fn serve(listener: TcpListener, exporter: Arc<Exporter>) -> std::io::Result<()> {
    serve_with(listener, exporter, WebConfig::default()).await
}

/// [`serve`], with TLS and basic authentication as `web` says.
pub async fn serve_with(
    listener: TcpListener,
    exporter: Arc<Exporter>,
    web: WebConfig,
) -> std::io::Result<()> {
    let tls = web.tls.clone().map(tokio_rustls::TlsAcceptor::from);
    let sweeper = {
        let exporter = Arc::downgrade(&exporter);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(30));
            loop {
                tick.tick().await;
                match exporter.upgrade() {
                    Some(e) => e.sweep(),
                    None => return,
                }
            }
        })
    };
    let _sweeper = AbortOnDrop(sweeper);
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut pause = Duration::from_millis(5);
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return Ok(());
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => {
                pause = Duration::from_millis(5);
                stream
            }
            Err(e) => {
                pause = (pause * 2).min(Duration::from_secs(1));
                tracing::warn!(error = %e, retry_in = ?pause, "exporter: accept failed");
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (exporter, web, tls) = (exporter.clone(), web.clone(), tls.clone());
        tokio::spawn(async move {
            let _slot = slot;
            match tls {
                None => connection(stream, exporter, web).await,
                Some(acceptor) => {
                    // A client that never finishes its handshake is dropped, as one that never
                    // finishes its headers is.
                    let handshake = acceptor.accept(stream);
                    match tokio::time::timeout(Duration::from_secs(30), handshake).await {
                        Ok(Ok(stream)) => connection(stream, exporter, web).await,
                        Ok(Err(e)) => tracing::debug!(error = %e, "exporter: TLS handshake failed"),
                        Err(_) => tracing::debug!("exporter: TLS handshake timed out"),
                    }
                }
            }
        });
    }
}

/// One HTTP/1.1 connection.
async fn connection<S>(stream: S, exporter: Arc<Exporter>, web: WebConfig)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| {
        let (exporter, web) = (exporter.clone(), web.clone());
        async move { Ok::<_, Infallible>(authorized(req, &exporter, &web).await) }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30));
    let _ = builder
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// Every path needs the credentials when users are configured (as exporter-toolkit does).
async fn authorized(
    req: Request<Incoming>,
    exporter: &Arc<Exporter>,
    web: &WebConfig,
) -> Response<Full<Bytes>> {
    let authorization = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if web.check(authorization).await == Access::Denied {
        let mut r = reply(StatusCode::UNAUTHORIZED, "text/plain", "Unauthorized\n");
        r.headers_mut().insert(
            http::header::WWW_AUTHENTICATE,
            http::HeaderValue::from_static("Basic realm=\"winrm-ipmi exporter\""),
        );
        return r;
    }
    handle(req, exporter).await
}

/// Prometheus' `X-Prometheus-Scrape-Timeout-Seconds`: positive seconds, at most an hour;
/// anything else is as if absent (the module's timeout applies).
fn scrape_timeout(headers: &http::HeaderMap) -> Option<Duration> {
    headers
        .get("X-Prometheus-Scrape-Timeout-Seconds")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .filter(|d| !d.is_zero())
        .map(|d| d.min(super::config::MAX_TIMEOUT))
}

/// Aborts the task when dropped (the sweeper ends with the server).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("Content-Type", content_type)
        .body(Full::new(body.into()))
        .expect("a valid response")
}

/// Percent-decoding of a query value (`%3A` → `:`, `+` → space).
fn decode(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
                {
                    Ok(x) => {
                        out.push(x);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| decode(v))
}

async fn handle(req: Request<Incoming>, exporter: &Arc<Exporter>) -> Response<Full<Bytes>> {
    if req.method() != Method::GET {
        return reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "GET only\n");
    }
    let query = req.uri().query().unwrap_or("");
    match req.uri().path() {
        "/ipmi" => {
            let deadline = scrape_timeout(req.headers());
            let target = param(query, "target").unwrap_or_default();
            let module = param(query, "module");
            match exporter.scrape(&target, module.as_deref(), deadline).await {
                Ok(text) => reply(StatusCode::OK, CONTENT_TYPE, text.as_bytes().to_vec()),
                Err(e @ ScrapeError::BadTarget(_)) => {
                    reply(StatusCode::BAD_REQUEST, "text/plain", format!("{e}\n"))
                }
                Err(e @ ScrapeError::UnknownModule(_)) => {
                    reply(StatusCode::BAD_REQUEST, "text/plain", format!("{e}\n"))
                }
                Err(e @ ScrapeError::NotAllowed(_)) => {
                    reply(StatusCode::FORBIDDEN, "text/plain", format!("{e}\n"))
                }
                Err(e @ ScrapeError::Internal) => reply(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain",
                    format!("{e}\n"),
                ),
            }
        }
        "/metrics" => reply(StatusCode::OK, CONTENT_TYPE, exporter.own_metrics()),
        "/" => reply(
            StatusCode::OK,
            "text/html",
            "<html><head><title>winrm-ipmi exporter</title></head><body><h1>winrm-ipmi exporter</h1>\
             <p>In-band IPMI of Windows hosts over WinRM.</p>\
             <p><a href=\"/metrics\">Exporter metrics</a> &middot; \
             <code>/ipmi?target=HOST[:PORT][&amp;module=NAME]</code></p></body></html>\n",
        ),
        _ => reply(StatusCode::NOT_FOUND, "text/plain", "not found\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scrape_timeout_header_is_read_safely() {
        let t = |v: &str| {
            let mut h = http::HeaderMap::new();
            h.insert(
                "X-Prometheus-Scrape-Timeout-Seconds",
                http::HeaderValue::from_str(v).unwrap(),
            );
            scrape_timeout(&h)
        };
        assert_eq!(t("10"), Some(Duration::from_secs(10)));
        assert_eq!(t(" 9.5 "), Some(Duration::from_millis(9500)));
        // Huge, negative, zero, not a number, infinite: no panic; capped or ignored.
        assert_eq!(t("1e300"), None);
        assert_eq!(t("86400"), Some(super::super::config::MAX_TIMEOUT));
        for v in ["-1", "0", "NaN", "inf", "ten"] {
            assert_eq!(t(v), None, "{v}");
        }
        assert_eq!(scrape_timeout(&http::HeaderMap::new()), None);
    }

    #[test]
    fn query_values_decode() {
        assert_eq!(
            param("target=srv01%3A5986&module=a", "target").as_deref(),
            Some("srv01:5986")
        );
        assert_eq!(param("target=a+b", "target").as_deref(), Some("a b"));
        assert_eq!(param("target=%zz", "target").as_deref(), Some("%zz"));
        assert_eq!(param("target=50%", "target").as_deref(), Some("50%"));
        assert_eq!(param("module=x", "target"), None);
    }

    proptest::proptest! {
        // No proptest-regressions folder at the top of the tree (see transport::endpoint).
        #![proptest_config(proptest::prelude::ProptestConfig {
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// Any query string: values decode without a panic (bad escapes kept as they came).
        #[test]
        fn any_query_decodes(query in "\\PC{0,60}") {
            let _ = param(&query, "target");
            let _ = decode(&query);
        }
    }
}
