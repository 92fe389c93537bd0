//! The public async client.
//!
//! ```no_run
//! # async fn demo() -> Result<(), winrm_ipmi::Error> {
//! use winrm_ipmi::{Client, auth::Password, ipmi::{self, app::GetDeviceId}};
//! let client = Client::builder("server01.example.com")
//!     .credentials("CONTOSO\\admin", Password::new(std::env::var("WINRM_PASSWORD").unwrap()))
//!     .build()?;
//! let bmc = client.ipmi().await?;             // finds root/wmi:Microsoft_IPMI once
//! let id = ipmi::execute(&bmc, GetDeviceId).await?;
//! println!("BMC firmware {}", id.firmware_revision());
//! # Ok(()) }
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::{OnceCell, Semaphore};

use crate::auth::{AuthError, AuthMethod, Credentials, Flow, Password};
use crate::error::Error;
use crate::ipmi::{self, Bmc, RawRequest, RawResponse, RetryPolicy, Retrying};
use crate::transport::proxy::{NoProxy, Proxy, ProxyChoice};
use crate::transport::tls::{ClientIdentity, TlsSettings};
use crate::transport::{
    Connection, ConnectionConfig, EncryptionMode, Endpoint, Scheme, TransportError,
};
use crate::wmi::microsoft_ipmi::{self, IpmiInstance};
use crate::wmi::operating_system::{self, OperatingSystem};
use crate::wsman::{
    CimObject, EnumerateOptions, FaultKind, IdentifyResponse, MessageId, Param, Request,
    RequestContext, WsmanError, parse_enumeration, parse_get, parse_identify, parse_invoke,
};

/// A pooled connection idle longer than this is not reused.
pub const DEFAULT_IDLE_LIMIT: Duration = Duration::from_secs(60);

/// Builds a [`Client`]; nothing touches the network until the first request.
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    host: String,
    https: bool,
    credentials: Option<Credentials>,
    auth: AuthMethod,
    encryption: EncryptionMode,
    connect_timeout: Duration,
    operation_timeout: Duration,
    max_connections: usize,
    retry: RetryPolicy,
    allow_basic_over_http: bool,
    flow: Flow,
    idle_limit: Duration,
    proxy: ProxyChoice,
    tls: TlsSettings,
    spn: Option<String>,
    #[cfg(feature = "kerberos")]
    tickets: crate::auth::kerberos::TicketCache,
}

impl ClientBuilder {
    /// Credentials: `DOMAIN\user`, `user@domain` or a local `user`.
    pub fn credentials(mut self, account: &str, password: Password) -> Self {
        self.credentials = Some(Credentials::new(account, password));
        self
    }
    /// HTTPS (5986) instead of HTTP (5985) when the host names no scheme.
    pub fn https(mut self, on: bool) -> Self {
        self.https = on;
        self
    }
    /// Negotiate (default: Kerberos when a ticket can be had for the target, else NTLM),
    /// Kerberos, NTLM, Basic (HTTPS), or a client certificate (HTTPS, with
    /// [`client_certificate`](Self::client_certificate)).
    pub fn auth(mut self, auth: AuthMethod) -> Self {
        self.auth = auth;
        self
    }
    /// Kerberos with the ticket already in the ccache (`kinit`) or the client keytab
    /// (`KRB5_CLIENT_KTNAME`), for `account` (`None`: the ccache's default principal): no
    /// password.
    pub fn kerberos_ticket(mut self, account: Option<&str>) -> Self {
        self.credentials = account.map(|a| Credentials::new(a, Password::new("")));
        self
    }
    /// The Kerberos service principal (`HTTP/host` or `HTTP/host@REALM`) when it is not
    /// `HTTP/<host as given>`: IP addresses, CNAMEs and load balancers.
    pub fn spn(mut self, spn: &str) -> Self {
        self.spn = Some(spn.to_string());
        self
    }
    /// Message encryption (default: on for HTTP, off for HTTPS).
    pub fn encryption(mut self, mode: EncryptionMode) -> Self {
        self.encryption = mode;
        self
    }
    /// TCP connect limit (default 10 s).
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }
    /// WS-Management OperationTimeout (default 20 s); each HTTP request may take this plus 5 s.
    pub fn operation_timeout(mut self, t: Duration) -> Self {
        self.operation_timeout = t;
        self
    }
    /// Connections to the host at most (default 1: WinRM and the IPMI driver dislike concurrency).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }
    /// Where NTLM's final token goes: [`Flow::EmptyPost`] (default, what every captured client
    /// does) or [`Flow::Piggyback`] (on the first sealed request, one round trip fewer per
    /// connection; a server that refuses it is retried once with the captured flow, as nothing
    /// was processed).
    pub fn auth_flow(mut self, flow: Flow) -> Self {
        self.flow = flow;
        self
    }
    /// How long a pooled connection may sit idle and still be reused (default 60 s; WinRM's
    /// HTTP.sys closes idle connections after 2 minutes). An older one is closed and a new one
    /// authenticated.
    pub fn idle_limit(mut self, limit: Duration) -> Self {
        self.idle_limit = limit;
        self
    }
    /// Reach the host through this HTTP proxy (a `CONNECT` tunnel, for http and https alike;
    /// hosts its `NO_PROXY` list names go direct). Default: no proxy.
    pub fn proxy(mut self, proxy: Proxy, no_proxy: NoProxy) -> Self {
        self.proxy = ProxyChoice::Explicit(proxy, no_proxy);
        self
    }
    /// The proxy setting: [`ProxyChoice::Direct`] (default), explicit, or the environment as
    /// curl reads it ([`ProxyChoice::from_process_env`]; the CLI's default).
    pub fn proxy_choice(mut self, choice: ProxyChoice) -> Self {
        self.proxy = choice;
        self
    }
    /// Retry policy for transient completion codes.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }
    /// Trusts the CA certificates in a PEM file, besides the OS store.
    pub fn ca_file(mut self, path: &std::path::Path) -> Result<Self, Error> {
        self.tls.add_ca_file(path)?;
        Ok(self)
    }
    /// Pins the server certificate by its SHA-256 thumbprint (64 hex digits, `:` allowed):
    /// exactly that certificate is accepted, whatever its issuer or name.
    pub fn thumbprint(mut self, sha256_hex: &str) -> Result<Self, Error> {
        self.tls.thumbprint = Some(TlsSettings::parse_thumbprint(sha256_hex)?);
        Ok(self)
    }
    /// Presents this client certificate (PEM; the key PKCS#8, RSA or EC, not encrypted) for
    /// certificate authentication ([`AuthMethod::Certificate`]). Read and checked here.
    pub fn client_certificate(
        mut self,
        cert: &std::path::Path,
        key: &std::path::Path,
    ) -> Result<Self, Error> {
        self.tls.client_identity = Some(ClientIdentity::from_pem_files(cert, key)?);
        Ok(self)
    }
    /// Presents this client certificate, already read (one [`ClientIdentity`] serves a fleet).
    pub fn client_identity(mut self, identity: ClientIdentity) -> Self {
        self.tls.client_identity = Some(identity);
        self
    }
    /// Accepts any server certificate: the traffic is encrypted, but not protected from anyone
    /// who can intercept it. For labs only.
    pub fn insecure_skip_certificate_verification(mut self, on: bool) -> Self {
        self.tls.insecure = on;
        self
    }
    /// Allows Basic over plain HTTP, which sends the password in clear. Off by default.
    pub fn insecure_allow_basic_over_http(mut self, on: bool) -> Self {
        self.allow_basic_over_http = on;
        self
    }

    /// Validates the settings and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        self.build_with(None)
    }

    /// These settings for many hosts: the TLS configuration (the OS trust store, CA files, the
    /// client certificate) is built once and shared, not once per host.
    pub fn into_factory(mut self) -> ClientFactory {
        // The TLS settings (CA certificates, the client key) stay here, once; each host's
        // builder copies only the rest.
        let tls_settings = std::mem::take(&mut self.tls);
        ClientFactory {
            template: self,
            tls_settings,
            tls: OnceLock::new(),
        }
    }

    fn build_with(
        self,
        shared_tls: Option<(&TlsSettings, &OnceLock<Arc<rustls::ClientConfig>>)>,
    ) -> Result<Client, Error> {
        let scheme = if self.https {
            Scheme::Https
        } else {
            Scheme::Http
        };
        let endpoint =
            Endpoint::parse(&self.host, scheme).map_err(|e| Error::Config(e.to_string()))?;
        if self
            .credentials
            .as_ref()
            .is_some_and(|c| c.user().is_empty())
        {
            return Err(Error::Config("the user name is empty".into()));
        }
        let tls_settings = shared_tls.map_or(&self.tls, |(s, _)| s);
        if self.auth == AuthMethod::Certificate && tls_settings.client_identity.is_none() {
            return Err(Error::Config(
                "certificate authentication needs a client certificate and key".into(),
            ));
        }
        let credentials = self.credentials;
        let ctx =
            RequestContext::new(endpoint.url()).with_operation_timeout(self.operation_timeout);
        let tls = match (endpoint.scheme, shared_tls) {
            (Scheme::Http, _) => None,
            (Scheme::Https, None) => Some(self.tls.client_config()?),
            (Scheme::Https, Some((settings, cell))) => Some(match cell.get() {
                Some(c) => c.clone(),
                None => {
                    let c = settings.client_config()?;
                    cell.get_or_init(|| c).clone()
                }
            }),
        };
        let proxy = self
            .proxy
            .for_target(endpoint.scheme, &endpoint.host)
            .cloned();
        let config = ConnectionConfig {
            endpoint,
            credentials,
            auth: self.auth,
            flow: self.flow,
            encryption: self.encryption,
            connect_timeout: self.connect_timeout,
            request_timeout: self
                .operation_timeout
                .saturating_add(Duration::from_secs(5)),
            allow_basic_over_http: self.allow_basic_over_http,
            proxy,
            tls,
            spn: self.spn,
            #[cfg(feature = "kerberos")]
            tickets: self.tickets,
        };
        config.validate()?;
        // Only a client that tries the piggybacked flow may need the captured one.
        let captured_flow = (config.flow != Flow::EmptyPost).then(|| ConnectionConfig {
            flow: Flow::EmptyPost,
            ..config.clone()
        });
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                captured_flow,
                ctx,
                idle: Mutex::new(Vec::new()),
                permits: Semaphore::new(self.max_connections),
                instance: OnceCell::new(),
                retry: self.retry,
                requests: AtomicU64::new(0),
                piggyback_refused: AtomicBool::new(false),
                idle_limit: self.idle_limit,
            }),
        })
    }
}

struct Inner {
    config: ConnectionConfig,
    ctx: RequestContext,
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
    /// The `Microsoft_IPMI` instance in use, and its `RequestResponse` method.
    instance: OnceCell<(IpmiInstance, Arc<microsoft_ipmi::RequestResponseMethod>)>,
    retry: RetryPolicy,
    requests: AtomicU64,
    /// `config` with the captured flow, for a server that refused the piggybacked one.
    captured_flow: Option<ConnectionConfig>,
    /// The server refused the piggybacked flow once: use `captured_flow` from then on.
    piggyback_refused: AtomicBool,
    idle_limit: Duration,
}

/// One set of client settings for many hosts (a fleet): see [`ClientBuilder::into_factory`].
#[derive(Debug)]
pub struct ClientFactory {
    /// Every setting but TLS's.
    template: ClientBuilder,
    tls_settings: TlsSettings,
    /// Built from `tls_settings` at the first HTTPS host, then shared.
    tls: OnceLock<Arc<rustls::ClientConfig>>,
}

impl ClientFactory {
    /// A client for `host`, sharing the factory's settings and TLS configuration.
    pub fn client(&self, host: &str) -> Result<Client, Error> {
        let mut b = self.template.clone();
        b.host = host.to_string();
        b.build_with(Some((&self.tls_settings, &self.tls)))
    }

    /// Checks the settings without a host (no traffic): what would fail for every host fails
    /// here, once.
    pub fn check(&self) -> Result<(), Error> {
        self.client("localhost").map(drop)
    }
}

/// A WinRM client for one host. Cheap to clone; `Send + Sync`; usable from many tasks (requests
/// beyond `max_connections` wait their turn).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.config.endpoint.url())
            .field(
                "account",
                &self
                    .inner
                    .config
                    .credentials
                    .as_ref()
                    .map(Credentials::account),
            )
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts building a client for `host` (`name`, `name:port`, `[v6]:port` or a URL).
    pub fn builder(host: &str) -> ClientBuilder {
        ClientBuilder {
            host: host.to_string(),
            https: false,
            credentials: None,
            auth: AuthMethod::Negotiate,
            encryption: EncryptionMode::Auto,
            connect_timeout: Duration::from_secs(10),
            operation_timeout: crate::wsman::DEFAULT_OPERATION_TIMEOUT,
            max_connections: 1,
            retry: RetryPolicy::default(),
            allow_basic_over_http: false,
            flow: Flow::default(),
            idle_limit: DEFAULT_IDLE_LIMIT,
            proxy: ProxyChoice::Direct,
            tls: TlsSettings::default(),
            spn: None,
            #[cfg(feature = "kerberos")]
            tickets: Default::default(),
        }
    }

    /// WS-Management requests sent so far (authentication round trips not counted).
    pub fn requests_sent(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    fn reply_error(&self, e: impl Into<crate::wmi::WmiError>) -> Error {
        Error::reply(&self.inner.config.endpoint.url(), e)
    }

    /// The endpoint URL.
    pub fn endpoint(&self) -> String {
        self.inner.config.endpoint.url()
    }

    /// Sends a request and returns the reply body (a response or a fault envelope).
    ///
    /// An idle connection is reused; otherwise one is opened and authenticated. If the server
    /// closed the connection before our request was written, it goes out once more on a fresh,
    /// freshly authenticated connection. A request that may have been delivered is never re-sent.
    pub async fn send(&self, request: &Request) -> Result<Vec<u8>, Error> {
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let mut retried = false;
        loop {
            let config = match &self.inner.captured_flow {
                Some(captured) if self.inner.piggyback_refused.load(Ordering::Relaxed) => captured,
                _ => &self.inner.config,
            };
            let idle = self.inner.idle.lock().expect("pool lock").pop();
            // Never reuse a connection the server may have closed for idleness (HTTP.sys: 2 min).
            let mut conn = match idle {
                Some(c) if c.is_usable() && c.idle_for() < self.inner.idle_limit => c,
                _ => Connection::open(config).await?,
            };
            self.inner.requests.fetch_add(1, Ordering::Relaxed);
            let e = match conn.send(config, request.xml.as_bytes()).await {
                Ok(reply) => {
                    if conn.is_usable() {
                        self.inner.idle.lock().expect("pool lock").push(conn);
                    }
                    return Ok(reply.body);
                }
                Err(e) => e,
            };
            // Only what was certainly not processed goes out again, once.
            match &e {
                TransportError::NotSent { .. } if !retried => {
                    tracing::debug!(error = %e, "connection closed before the request was written; retrying on a new one");
                }
                TransportError::Auth {
                    source: AuthError::PiggybackRefused { .. },
                    ..
                } if !retried => {
                    tracing::debug!(error = %e, "the server refused the piggybacked AUTHENTICATE; using the empty-POST flow");
                    self.inner.piggyback_refused.store(true, Ordering::Relaxed);
                }
                _ => return Err(e.into()),
            }
            retried = true;
        }
    }

    /// WS-Management Identify, unauthenticated.
    pub async fn identify(&self) -> Result<IdentifyResponse, Error> {
        let req = self.inner.ctx.identify();
        let mut conn = Connection::open(&self.inner.config).await?;
        let reply = conn
            .identify(&self.inner.config, req.xml.as_bytes())
            .await?;
        parse_identify(&reply.body).map_err(|e| self.reply_error(e))
    }

    /// Every instance of `resource_uri` (Enumerate, then Pull until the end). An enumeration
    /// given up with its context open (a limit of `options`, a fault or an unreadable page)
    /// is released, as WS-Enumeration provides, so the service does not keep it.
    pub async fn enumerate(
        &self,
        resource_uri: &str,
        options: &EnumerateOptions,
    ) -> Result<Vec<CimObject>, Error> {
        let ctx = &self.inner.ctx;
        let req = ctx.enumerate(resource_uri, options, MessageId::random());
        let mut page =
            parse_enumeration(&self.send(&req).await?, &req).map_err(|e| self.reply_error(e))?;
        let mut items = std::mem::take(&mut page.items);
        let mut properties: usize = items.iter().map(CimObject::property_count).sum();
        let (mut pages, mut empty_in_a_row) = (1, 0);
        let limit = |items: usize, pages, why| {
            self.reply_error(WsmanError::EnumerationLimit { items, pages, why })
        };
        // What the items brought so far exceeds, checked before each Pull and at the end.
        let too_much = |items: usize, properties: usize| {
            if items > options.max_items {
                Some("more items than the enumeration's limit")
            } else if properties > options.max_properties {
                Some("more properties than the enumeration's limit")
            } else {
                None
            }
        };
        while let Some(context) = page.context.take() {
            let why = too_much(items.len(), properties).or_else(|| {
                (empty_in_a_row >= crate::wsman::MAX_EMPTY_PULLS)
                    .then_some("Pull pages with no items that do not end the sequence")
            });
            if let Some(why) = why {
                self.release(resource_uri, &context).await;
                return Err(limit(items.len(), pages, why));
            }
            let pull = ctx.pull(
                resource_uri,
                &context,
                options.max_elements,
                MessageId::random(),
            );
            // A transport failure is returned as it is: the connection is gone, and a new
            // one (authentication included) only to release would cost more than the
            // service's own expiry of the context.
            page = match parse_enumeration(&self.send(&pull).await?, &pull) {
                Ok(page) => page,
                Err(e) => {
                    self.release(resource_uri, &context).await;
                    return Err(self.reply_error(e));
                }
            };
            pages += 1;
            empty_in_a_row = if page.items.is_empty() && page.context.is_some() {
                empty_in_a_row + 1
            } else {
                0
            };
            properties += page
                .items
                .iter()
                .map(CimObject::property_count)
                .sum::<usize>();
            items.append(&mut page.items);
        }
        if let Some(why) = too_much(items.len(), properties) {
            return Err(limit(items.len(), pages, why));
        }
        Ok(items)
    }

    /// Releases an enumeration context, best effort: its reply, fault or failure changes
    /// nothing for the caller (the service ends the context itself when it expires).
    async fn release(&self, resource_uri: &str, context: &str) {
        let req = self
            .inner
            .ctx
            .release(resource_uri, context, MessageId::random());
        if let Err(e) = self.send(&req).await {
            tracing::debug!(endpoint = %self.endpoint(), error = %e, "releasing an enumeration");
        }
    }

    /// Get one instance.
    pub async fn get(
        &self,
        resource_uri: &str,
        selectors: &[(&str, &str)],
    ) -> Result<CimObject, Error> {
        let req = self
            .inner
            .ctx
            .get(resource_uri, selectors, MessageId::random());
        parse_get(&self.send(&req).await?, &req).map_err(|e| self.reply_error(e))
    }

    /// Invoke a WMI method; returns its `_OUTPUT`.
    pub async fn invoke(
        &self,
        resource_uri: &str,
        method: &str,
        selectors: &[(&str, &str)],
        params: &[Param],
    ) -> Result<CimObject, Error> {
        let req = self
            .inner
            .ctx
            .invoke(resource_uri, method, selectors, params, MessageId::random())
            // A method or parameter name that is not an XML name: refused before any traffic.
            .map_err(|e| Error::Config(e.to_string()))?;
        parse_invoke(&self.send(&req).await?, &req).map_err(|e| self.reply_error(e))
    }

    /// The host's BMC, through `root/wmi:Microsoft_IPMI`. The class is enumerated once per
    /// client; its `InstanceName` and `BMCAddress` are kept, with the `RequestResponse`
    /// envelope's constant parts for it.
    pub async fn ipmi(&self) -> Result<IpmiBmc, Error> {
        let (instance, method) = self
            .inner
            .instance
            .get_or_try_init(|| async {
                let host = self.inner.config.endpoint.host.clone();
                let items = match self.enumerate(microsoft_ipmi::RESOURCE_URI, &EnumerateOptions::default()).await {
                    Ok(items) => items,
                    Err(Error::Wsman { source: WsmanError::Fault(f), .. }) if f.kind() == FaultKind::NotFound => {
                        return Err(Error::NoBmc {
                            host,
                            detail: format!(
                                "the Microsoft_IPMI class is not there ({}); the IPMI driver is not loaded (no BMC, or a virtual machine)",
                                f.message().trim()
                            ),
                        });
                    }
                    Err(e) => return Err(e),
                };
                let instance = IpmiInstance::choose(&items).map_err(|e| self.reply_error(e))?.ok_or(Error::NoBmc {
                    host,
                    detail: "root/wmi:Microsoft_IPMI has no instance; the IPMI driver found no BMC".into(),
                })?;
                let method = microsoft_ipmi::RequestResponseMethod::new(&self.inner.ctx, &instance);
                Ok((instance, Arc::new(method)))
            })
            .await?
            .clone();
        Ok(IpmiBmc {
            bmc: Retrying::new(
                MicrosoftIpmi {
                    method,
                    client: self.clone(),
                    instance,
                },
                self.inner.retry,
            ),
        })
    }

    /// The host's `Win32_ComputerSystemProduct`: its SMBIOS UUID and serial number.
    pub async fn computer_system_product(
        &self,
    ) -> Result<Option<crate::wmi::computer_system_product::ComputerSystemProduct>, Error> {
        use crate::wmi::computer_system_product::{ComputerSystemProduct, resource_uri};
        let items = self
            .enumerate(&resource_uri(), &EnumerateOptions::default())
            .await?;
        Ok(items.first().map(ComputerSystemProduct::from_object))
    }

    /// The host's running OS (`Win32_OperatingSystem`, the `Primary` instance); `None` when
    /// WMI lists none.
    pub async fn operating_system(&self) -> Result<Option<OperatingSystem>, Error> {
        let items = self
            .enumerate(
                &operating_system::resource_uri(),
                &EnumerateOptions::default(),
            )
            .await?;
        Ok(OperatingSystem::primary(&items))
    }
}

/// A host's BMC behind `Microsoft_IPMI`, one `RequestResponse` per request, no retries.
#[derive(Clone, Debug)]
pub struct MicrosoftIpmi {
    client: Client,
    instance: IpmiInstance,
    /// `RequestResponse` on `instance`, its envelope's constant parts written once.
    method: Arc<microsoft_ipmi::RequestResponseMethod>,
}

impl MicrosoftIpmi {
    /// The `Microsoft_IPMI` instance in use.
    pub fn instance(&self) -> &IpmiInstance {
        &self.instance
    }
}

impl Bmc for MicrosoftIpmi {
    type Error = Error;

    async fn request(&self, request: RawRequest) -> Result<RawResponse, Error> {
        let req = self.method.request(&request, MessageId::random());
        let body = self.client.send(&req).await?;
        microsoft_ipmi::parse_request_response(&body, &req).map_err(|e| self.client.reply_error(e))
    }

    fn error(&self, source: ipmi::IpmiError) -> Error {
        Error::Ipmi {
            endpoint: Some(self.client.endpoint()),
            source,
        }
    }
}

/// A host's BMC behind `Microsoft_IPMI`, with the client's [`RetryPolicy`] for transient
/// completion codes: an [`ipmi::Bmc`], so every typed command and procedure runs on it.
#[derive(Clone, Debug)]
pub struct IpmiBmc {
    bmc: Retrying<MicrosoftIpmi>,
}

impl IpmiBmc {
    /// The `Microsoft_IPMI` instance in use.
    pub fn instance(&self) -> &IpmiInstance {
        self.bmc.inner().instance()
    }

    /// The same BMC without retries.
    pub fn without_retries(&self) -> &MicrosoftIpmi {
        self.bmc.inner()
    }

    /// Sends one raw request, retrying transient completion codes per the client's policy.
    pub async fn raw(&self, request: RawRequest) -> Result<RawResponse, Error> {
        self.bmc.request(request).await
    }

    /// Runs a typed command.
    pub async fn execute<C>(&self, command: C) -> Result<C::Output, Error>
    where
        C: ipmi::core::connection::IpmiCommand,
        C::Error: std::fmt::Debug,
    {
        ipmi::execute(self, command).await
    }
}

impl Bmc for IpmiBmc {
    type Error = Error;

    async fn request(&self, request: RawRequest) -> Result<RawResponse, Error> {
        self.bmc.request(request).await
    }

    fn error(&self, e: ipmi::IpmiError) -> Error {
        self.bmc.error(e)
    }
}
