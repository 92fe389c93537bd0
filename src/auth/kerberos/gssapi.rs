//! The system's GSSAPI (MIT krb5's `libgssapi_krb5.so.2`, or Heimdal's `libgssapi.so.3`),
//! loaded at run time: the binary builds and runs where no Kerberos library is installed, and
//! says so when Kerberos is asked for. Only the RFC 2743/2744 C API and two widely shipped
//! extensions (`gss_acquire_cred_with_password`, `gss_acquire_cred_from`) and the IOV wrap
//! functions MS-WSMV sealing needs.
//!
//! The types here own their GSSAPI handles and release them on drop. Calls that may reach a
//! KDC (credential acquisition, the first `gss_init_sec_context`) block: callers run them off
//! the async executor's threads.

use std::ffi::{c_char, c_int, c_void};
use std::ptr;
use std::sync::OnceLock;

type OmUint32 = u32;

#[repr(C)]
struct BufferDesc {
    length: usize,
    value: *mut c_void,
}

impl BufferDesc {
    const EMPTY: BufferDesc = BufferDesc {
        length: 0,
        value: ptr::null_mut(),
    };
    fn from(bytes: &[u8]) -> BufferDesc {
        BufferDesc {
            length: bytes.len(),
            value: bytes.as_ptr() as *mut c_void,
        }
    }
}

#[repr(C)]
pub(super) struct OidDesc {
    length: OmUint32,
    elements: *const c_void,
}

// SAFETY: the OIDs below point at 'static byte strings and are never written.
unsafe impl Sync for OidDesc {}

#[repr(C)]
struct OidSetDesc {
    count: usize,
    elements: *const OidDesc,
}

#[repr(C)]
struct ChannelBindingsDesc {
    initiator_addrtype: OmUint32,
    initiator_address: BufferDesc,
    acceptor_addrtype: OmUint32,
    acceptor_address: BufferDesc,
    application_data: BufferDesc,
}

#[repr(C)]
struct IovBufferDesc {
    kind: OmUint32,
    buffer: BufferDesc,
}

#[repr(C)]
struct KeyValueElement {
    key: *const c_char,
    value: *const c_char,
}

#[repr(C)]
struct KeyValueSet {
    count: OmUint32,
    elements: *const KeyValueElement,
}

type Handle = *mut c_void;

const fn oid(bytes: &'static [u8]) -> OidDesc {
    OidDesc {
        length: bytes.len() as OmUint32,
        elements: bytes.as_ptr() as *const c_void,
    }
}

/// 1.2.840.113554.1.2.2: Kerberos V5.
pub(super) static MECH_KRB5: OidDesc = oid(b"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02");
/// 1.3.6.1.5.5.2: SPNEGO, what HTTP `Negotiate` carries (RFC 4559).
pub(super) static MECH_SPNEGO: OidDesc = oid(b"\x2b\x06\x01\x05\x05\x02");
/// 1.2.840.113554.1.2.2.1: a Kerberos principal name (`HTTP/host@REALM`), used as given.
pub(super) static NT_KRB5_PRINCIPAL: OidDesc = oid(b"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02\x01");

const GSS_C_INDEFINITE: OmUint32 = 0xffff_ffff;
const GSS_C_INITIATE: c_int = 1;
#[cfg_attr(not(feature = "sim"), allow(dead_code))]
const GSS_C_ACCEPT: c_int = 2;
const GSS_C_GSS_CODE: c_int = 1;
const GSS_C_MECH_CODE: c_int = 2;
pub(super) const GSS_S_CONTINUE_NEEDED: OmUint32 = 1;
const ROUTINE_ERROR_MASK: OmUint32 = 0xff << 16;
const CALLING_ERROR_MASK: OmUint32 = 0xff << 24;
const SUPPLEMENTARY_MASK: OmUint32 = 0xffff;
pub(super) const GSS_S_NO_CRED: OmUint32 = 7 << 16;
pub(super) const GSS_S_BAD_BINDINGS: OmUint32 = 4 << 16;
pub(super) const GSS_S_CREDENTIALS_EXPIRED: OmUint32 = 11 << 16;
pub(super) const GSS_S_CONTEXT_EXPIRED: OmUint32 = 12 << 16;
pub(super) const GSS_S_BAD_SIG: OmUint32 = 6 << 16;
pub(super) const GSS_S_DEFECTIVE_TOKEN: OmUint32 = 9 << 16;

/// Context flags (RFC 2744).
pub(super) mod flags {
    pub const MUTUAL: u32 = 2;
    pub const REPLAY: u32 = 4;
    pub const SEQUENCE: u32 = 8;
    pub const CONF: u32 = 16;
    pub const INTEG: u32 = 32;
}

const IOV_DATA: OmUint32 = 1;
const IOV_HEADER: OmUint32 = 2;
const IOV_PADDING: OmUint32 = 9;

macro_rules! api {
    ($($name:ident : fn($($arg:ty),*) $(-> $ret:ty)?;)*) => {
        // The acceptor's functions serve the simulator only.
        #[cfg_attr(not(feature = "sim"), allow(dead_code))]
        struct Api {
            $($name: unsafe extern "C" fn($($arg),*) $(-> $ret)?,)*
            acquire_cred_with_password: Option<unsafe extern "C" fn(*mut OmUint32, Handle, *const BufferDesc, OmUint32, *const OidSetDesc, c_int, *mut Handle, *mut c_void, *mut OmUint32) -> OmUint32>,
            acquire_cred_from: Option<unsafe extern "C" fn(*mut OmUint32, Handle, OmUint32, *const OidSetDesc, c_int, *const KeyValueSet, *mut Handle, *mut c_void, *mut OmUint32) -> OmUint32>,
            set_neg_mechs: Option<unsafe extern "C" fn(*mut OmUint32, Handle, *const OidSetDesc) -> OmUint32>,
            _library: libloading::Library,
        }

        impl Api {
            fn load(library: libloading::Library) -> Result<Api, String> {
                // SAFETY: the signatures are RFC 2744's and MIT's gssapi_ext.h's; the library
                // is kept alive in the struct for as long as the pointers are used.
                unsafe {
                    Ok(Api {
                        $($name: *library
                            .get(concat!("gss_", stringify!($name), "\0").as_bytes())
                            .map_err(|e| e.to_string())?,)*
                        acquire_cred_with_password: library
                            .get(b"gss_acquire_cred_with_password\0").ok().map(|s| *s),
                        acquire_cred_from: library.get(b"gss_acquire_cred_from\0").ok().map(|s| *s),
                        set_neg_mechs: library.get(b"gss_set_neg_mechs\0").ok().map(|s| *s),
                        _library: library,
                    })
                }
            }
        }
    };
}

api! {
    import_name: fn(*mut OmUint32, *const BufferDesc, *const OidDesc, *mut Handle) -> OmUint32;
    release_name: fn(*mut OmUint32, *mut Handle) -> OmUint32;
    display_name: fn(*mut OmUint32, Handle, *mut BufferDesc, *mut c_void) -> OmUint32;
    acquire_cred: fn(*mut OmUint32, Handle, OmUint32, *const OidSetDesc, c_int, *mut Handle, *mut c_void, *mut OmUint32) -> OmUint32;
    release_cred: fn(*mut OmUint32, *mut Handle) -> OmUint32;
    inquire_cred: fn(*mut OmUint32, Handle, *mut Handle, *mut OmUint32, *mut c_int, *mut c_void) -> OmUint32;
    init_sec_context: fn(*mut OmUint32, Handle, *mut Handle, Handle, *const OidDesc, OmUint32, OmUint32, *const ChannelBindingsDesc, *const BufferDesc, *mut c_void, *mut BufferDesc, *mut OmUint32, *mut OmUint32) -> OmUint32;
    accept_sec_context: fn(*mut OmUint32, *mut Handle, Handle, *const BufferDesc, *const ChannelBindingsDesc, *mut Handle, *mut c_void, *mut BufferDesc, *mut OmUint32, *mut OmUint32, *mut c_void) -> OmUint32;
    delete_sec_context: fn(*mut OmUint32, *mut Handle, *mut BufferDesc) -> OmUint32;
    release_buffer: fn(*mut OmUint32, *mut BufferDesc) -> OmUint32;
    display_status: fn(*mut OmUint32, OmUint32, c_int, *const OidDesc, *mut OmUint32, *mut BufferDesc) -> OmUint32;
    wrap_iov: fn(*mut OmUint32, Handle, c_int, OmUint32, *mut c_int, *mut IovBufferDesc, c_int) -> OmUint32;
    unwrap_iov: fn(*mut OmUint32, Handle, *mut c_int, *mut OmUint32, *mut IovBufferDesc, c_int) -> OmUint32;
    wrap_iov_length: fn(*mut OmUint32, Handle, c_int, OmUint32, *mut c_int, *mut IovBufferDesc, c_int) -> OmUint32;
}

/// The library names tried, in order (`WINRM_IPMI_GSSAPI_LIBRARY` first when set).
const LIBRARIES: &[&str] = &[
    "libgssapi_krb5.so.2",
    "libgssapi.so.3",
    "libgssapi_krb5.dylib",
];

fn api() -> Result<&'static Api, GssError> {
    static API: OnceLock<Result<Api, String>> = OnceLock::new();
    API.get_or_init(|| {
        // Apple's x86_64 gssapi.h packs these structures to 2 bytes; our layouts are the
        // natural ones (Linux, BSD, Apple silicon).
        if cfg!(all(target_os = "macos", target_arch = "x86_64")) {
            return Err("Kerberos is not supported on Intel macOS".into());
        }
        let mut tried = Vec::new();
        let names: Vec<String> = std::env::var("WINRM_IPMI_GSSAPI_LIBRARY")
            .ok()
            .into_iter()
            .chain(LIBRARIES.iter().map(|s| s.to_string()))
            .collect();
        for name in names {
            // SAFETY: loading a GSSAPI library runs its initialisers, as linking it would.
            match unsafe { libloading::Library::new(&name) } {
                Ok(lib) => return Api::load(lib).map_err(|e| format!("{name}: {e}")),
                Err(e) => tried.push(format!("{name}: {e}")),
            }
        }
        Err(format!(
            "no GSSAPI library found (install MIT Kerberos: Debian/Ubuntu libgssapi-krb5-2, RHEL krb5-libs; tried {})",
            tried.join("; ")
        ))
    })
    .as_ref()
    .map_err(|e| GssError::Unavailable(e.clone()))
}

/// Whether the system's GSSAPI library can be loaded.
pub fn available() -> Result<(), GssError> {
    api().map(|_| ())
}

/// A failed GSSAPI call: its major and minor (mechanism) status and the library's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GssError {
    /// No GSSAPI library could be loaded.
    #[error("Kerberos is not available on this machine: {0}")]
    Unavailable(String),
    /// The library refused.
    #[error("{message}")]
    Call {
        /// The major status.
        major: u32,
        /// The mechanism's status (a krb5 error code for Kerberos).
        minor: u32,
        /// What the library says, major then minor.
        message: String,
    },
    /// A function this library lacks.
    #[error("this GSSAPI library lacks {0}")]
    Missing(&'static str),
}

impl GssError {
    /// The krb5 error code, if any.
    pub fn minor(&self) -> Option<i32> {
        match self {
            GssError::Call { minor, .. } if *minor != 0 => Some(*minor as i32),
            _ => None,
        }
    }
    /// The routine error part of the major status.
    pub fn routine(&self) -> u32 {
        match self {
            GssError::Call { major, .. } => major & ROUTINE_ERROR_MASK,
            _ => 0,
        }
    }
}

fn is_error(major: OmUint32) -> bool {
    major & (ROUTINE_ERROR_MASK | CALLING_ERROR_MASK) != 0
}

fn status_text(api: &Api, code: OmUint32, kind: c_int) -> String {
    let mut out = Vec::new();
    let mut context: OmUint32 = 0;
    for _ in 0..8 {
        let mut minor = 0;
        let mut buf = BufferDesc::EMPTY;
        // SAFETY: display_status fills `buf`, which we release.
        let major = unsafe {
            (api.display_status)(&mut minor, code, kind, ptr::null(), &mut context, &mut buf)
        };
        if is_error(major) {
            break;
        }
        let text = take_buffer(api, &mut buf);
        let text = String::from_utf8_lossy(&text);
        let text = text.trim_end_matches('\0').trim();
        if !text.is_empty() {
            out.push(text.to_string());
        }
        if context == 0 {
            break;
        }
    }
    out.join("; ")
}

fn check(api: &Api, major: OmUint32, minor: OmUint32) -> Result<OmUint32, GssError> {
    if !is_error(major) {
        return Ok(major);
    }
    let mut message = status_text(api, major, GSS_C_GSS_CODE);
    if minor != 0 {
        let m = status_text(api, minor, GSS_C_MECH_CODE);
        if !m.is_empty() {
            message = format!("{message}: {m}");
        }
    }
    Err(GssError::Call {
        major,
        minor,
        message,
    })
}

/// Copies a library-allocated buffer and releases it.
fn take_buffer(api: &Api, buf: &mut BufferDesc) -> Vec<u8> {
    let out = if buf.value.is_null() || buf.length == 0 {
        Vec::new()
    } else {
        // SAFETY: the library gave `length` readable bytes at `value`.
        unsafe { std::slice::from_raw_parts(buf.value as *const u8, buf.length) }.to_vec()
    };
    let mut minor = 0;
    // SAFETY: releasing a buffer the library allocated (or an empty one).
    unsafe { (api.release_buffer)(&mut minor, buf) };
    out
}

/// A GSSAPI name.
pub(super) struct Name(Handle);

impl Name {
    pub(super) fn import(text: &str, kind: &'static OidDesc) -> Result<Name, GssError> {
        let api = api()?;
        let mut minor = 0;
        let mut handle = ptr::null_mut();
        let buf = BufferDesc::from(text.as_bytes());
        // SAFETY: `buf` borrows `text` for the call; the name is ours to release.
        let major = unsafe { (api.import_name)(&mut minor, &buf, kind, &mut handle) };
        check(api, major, minor)?;
        Ok(Name(handle))
    }

    fn display(api: &Api, handle: Handle) -> String {
        let mut minor = 0;
        let mut buf = BufferDesc::EMPTY;
        // SAFETY: `handle` is a live name; the buffer is released by take_buffer.
        let major = unsafe { (api.display_name)(&mut minor, handle, &mut buf, ptr::null_mut()) };
        if is_error(major) {
            return String::new();
        }
        String::from_utf8_lossy(&take_buffer(api, &mut buf))
            .trim_end_matches('\0')
            .to_string()
    }
}

impl Drop for Name {
    fn drop(&mut self) {
        if let Ok(api) = api() {
            let mut minor = 0;
            // SAFETY: releasing our own handle once.
            unsafe { (api.release_name)(&mut minor, &mut self.0) };
        }
    }
}

/// Credentials: a ticket-granting ticket (from a ccache, a client keytab or a password), or
/// an acceptor's keys.
pub(super) struct Cred {
    handle: Handle,
    /// Seconds the credentials stay valid, as the library said at acquisition.
    pub(super) lifetime: u32,
}

// SAFETY: MIT and Heimdal credential handles are reference counted and locked internally;
// they may be used from several threads (each with its own security context).
unsafe impl Send for Cred {}
unsafe impl Sync for Cred {}

/// Credentials are acquired for SPNEGO (which holds the Kerberos credentials inside): a
/// credential for Kerberos alone would leave SPNEGO looking for the default ccache.
fn spnego_set() -> OidSetDesc {
    OidSetDesc {
        count: 1,
        elements: &MECH_SPNEGO,
    }
}

impl Cred {
    /// Initiator credentials from the ccache (`KRB5CCNAME`) or the client keytab
    /// (`KRB5_CLIENT_KTNAME`), for `name` or the default principal. Reads the ccache; with a
    /// client keytab and no ticket yet, asks the KDC (blocks).
    pub(super) fn initiator(name: Option<&Name>) -> Result<Cred, GssError> {
        let api = api()?;
        let (mut minor, mut handle, mut lifetime) = (0, ptr::null_mut(), 0);
        let mechs = spnego_set();
        // SAFETY: out-pointers are ours; the name outlives the call.
        let major = unsafe {
            (api.acquire_cred)(
                &mut minor,
                name.map_or(ptr::null_mut(), |n| n.0),
                GSS_C_INDEFINITE,
                &mechs,
                GSS_C_INITIATE,
                &mut handle,
                ptr::null_mut(),
                &mut lifetime,
            )
        };
        check(api, major, minor)?;
        Cred { handle, lifetime }.restricted_to_kerberos(api)
    }

    /// Initiator credentials from a password: the library asks the KDC for a ticket-granting
    /// ticket and keeps it in memory (never in the user's ccache). Blocks on the KDC.
    pub(super) fn with_password(name: &Name, password: &str) -> Result<Cred, GssError> {
        let api = api()?;
        let f = api
            .acquire_cred_with_password
            .ok_or(GssError::Missing("gss_acquire_cred_with_password"))?;
        let (mut minor, mut handle, mut lifetime) = (0, ptr::null_mut(), 0);
        let buf = BufferDesc::from(password.as_bytes());
        let mechs = spnego_set();
        // SAFETY: as above; the password buffer is borrowed for the call only.
        let major = unsafe {
            f(
                &mut minor,
                name.0,
                &buf,
                GSS_C_INDEFINITE,
                &mechs,
                GSS_C_INITIATE,
                &mut handle,
                ptr::null_mut(),
                &mut lifetime,
            )
        };
        check(api, major, minor)?;
        Cred { handle, lifetime }.restricted_to_kerberos(api)
    }

    /// Acceptor credentials from a keytab file (any service principal in it).
    #[cfg(feature = "sim")]
    pub(super) fn acceptor(keytab: &str) -> Result<Cred, GssError> {
        let api = api()?;
        let f = api
            .acquire_cred_from
            .ok_or(GssError::Missing("gss_acquire_cred_from"))?;
        let key = std::ffi::CString::new("keytab").expect("no NUL");
        let value = std::ffi::CString::new(keytab).map_err(|_| GssError::Call {
            major: 0,
            minor: 0,
            message: "keytab path contains a NUL byte".into(),
        })?;
        let element = KeyValueElement {
            key: key.as_ptr(),
            value: value.as_ptr(),
        };
        let store = KeyValueSet {
            count: 1,
            elements: &element,
        };
        let (mut minor, mut handle, mut lifetime) = (0, ptr::null_mut(), 0);
        // SAFETY: the store and its strings outlive the call.
        let major = unsafe {
            f(
                &mut minor,
                ptr::null_mut(),
                GSS_C_INDEFINITE,
                ptr::null(),
                GSS_C_ACCEPT,
                &store,
                &mut handle,
                ptr::null_mut(),
                &mut lifetime,
            )
        };
        check(api, major, minor)?;
        Ok(Cred { handle, lifetime })
    }

    /// SPNEGO offers Kerberos only: NTLM is ours, not the library's (gss-ntlmssp may be
    /// installed). Without `gss_set_neg_mechs` (old Heimdal) the negotiated mechanism is
    /// still checked when the context completes.
    fn restricted_to_kerberos(self, api: &Api) -> Result<Cred, GssError> {
        if let Some(f) = api.set_neg_mechs {
            let set = OidSetDesc {
                count: 1,
                elements: &MECH_KRB5,
            };
            let mut minor = 0;
            // SAFETY: the set outlives the call; the library copies it.
            let major = unsafe { f(&mut minor, self.handle, &set) };
            check(api, major, minor)?;
        }
        Ok(self)
    }

    /// The principal these credentials are for (`alice@CORP.EXAMPLE`).
    pub(super) fn principal(&self) -> String {
        let Ok(api) = api() else {
            return String::new();
        };
        let (mut minor, mut name) = (0, ptr::null_mut());
        // SAFETY: the name returned is ours to release.
        let major = unsafe {
            (api.inquire_cred)(
                &mut minor,
                self.handle,
                &mut name,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        if is_error(major) || name.is_null() {
            return String::new();
        }
        let text = Name::display(api, name);
        drop(Name(name));
        text
    }
}

impl Drop for Cred {
    fn drop(&mut self) {
        if let Ok(api) = api() {
            let mut minor = 0;
            // SAFETY: releasing our own handle once.
            unsafe { (api.release_cred)(&mut minor, &mut self.handle) };
        }
    }
}

/// One security context (one connection's).
pub(super) struct Context {
    handle: Handle,
    /// The flags the context has, once established.
    pub(super) flags: u32,
    /// The mechanism the context runs (SPNEGO's choice), as its OID bytes.
    mech: Vec<u8>,
}

// SAFETY: a context is used by one thread at a time (it is owned, never shared).
unsafe impl Send for Context {}

impl Default for Context {
    fn default() -> Self {
        Context {
            handle: ptr::null_mut(),
            flags: 0,
            mech: Vec::new(),
        }
    }
}

/// A step's outcome: the token to send, and whether the context is established.
pub(super) struct Step {
    pub(super) token: Vec<u8>,
    pub(super) complete: bool,
}

fn bindings(application_data: Option<&[u8]>) -> Option<ChannelBindingsDesc> {
    application_data.map(|d| ChannelBindingsDesc {
        initiator_addrtype: 0,
        initiator_address: BufferDesc::EMPTY,
        acceptor_addrtype: 0,
        acceptor_address: BufferDesc::EMPTY,
        application_data: BufferDesc::from(d),
    })
}

impl Context {
    /// One initiator step (`input` is `None` first). The first step may block on the KDC.
    pub(super) fn initiate(
        &mut self,
        cred: &Cred,
        target: &Name,
        mech: &'static OidDesc,
        req_flags: u32,
        channel_binding: Option<&[u8]>,
        input: Option<&[u8]>,
    ) -> Result<Step, GssError> {
        let api = api()?;
        let cb = bindings(channel_binding);
        let input = input.map(BufferDesc::from);
        let (mut minor, mut out, mut ret_flags) = (0, BufferDesc::EMPTY, 0);
        let mut actual: *const OidDesc = ptr::null();
        // SAFETY: every pointer is to a live local or to our own handles; the actual mechanism
        // OID is the library's (static), read at once.
        let major = unsafe {
            (api.init_sec_context)(
                &mut minor,
                cred.handle,
                &mut self.handle,
                target.0,
                mech,
                req_flags,
                0,
                cb.as_ref().map_or(ptr::null(), |c| c as *const _),
                input.as_ref().map_or(ptr::null(), |b| b as *const _),
                &mut actual as *mut *const OidDesc as *mut c_void,
                &mut out,
                &mut ret_flags,
                ptr::null_mut(),
            )
        };
        let token = take_buffer(api, &mut out);
        let major = check(api, major, minor)?;
        self.flags = ret_flags;
        // SAFETY: a non-null OID from the library points at `length` readable bytes.
        if let Some(oid) = unsafe { actual.as_ref() }
            && !oid.elements.is_null()
        {
            self.mech = unsafe {
                std::slice::from_raw_parts(oid.elements as *const u8, oid.length as usize)
            }
            .to_vec();
        }
        Ok(Step {
            token,
            complete: major & GSS_S_CONTINUE_NEEDED == 0,
        })
    }

    /// One acceptor step; returns the token and, once complete, the client's principal.
    #[cfg(feature = "sim")]
    pub(super) fn accept(
        &mut self,
        cred: &Cred,
        channel_binding: Option<&[u8]>,
        input: &[u8],
    ) -> Result<(Step, Option<String>), GssError> {
        let api = api()?;
        let cb = bindings(channel_binding);
        let input = BufferDesc::from(input);
        let (mut minor, mut out, mut ret_flags, mut src) =
            (0, BufferDesc::EMPTY, 0, ptr::null_mut());
        // SAFETY: as in initiate.
        let major = unsafe {
            (api.accept_sec_context)(
                &mut minor,
                &mut self.handle,
                cred.handle,
                &input,
                cb.as_ref().map_or(ptr::null(), |c| c as *const _),
                &mut src,
                ptr::null_mut(),
                &mut out,
                &mut ret_flags,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        let token = take_buffer(api, &mut out);
        let principal = (!src.is_null()).then(|| {
            let text = Name::display(api, src);
            drop(Name(src));
            text
        });
        let major = check(api, major, minor)?;
        self.flags = ret_flags;
        let complete = major & GSS_S_CONTINUE_NEEDED == 0;
        Ok((Step { token, complete }, principal.filter(|_| complete)))
    }

    /// Whether the established context runs Kerberos V5 (and not another mechanism SPNEGO
    /// might have chosen).
    pub(super) fn is_krb5(&self) -> bool {
        let krb5 = MECH_KRB5.length as usize;
        // SAFETY: MECH_KRB5 points at a 'static byte string of that length.
        self.mech == unsafe { std::slice::from_raw_parts(MECH_KRB5.elements as *const u8, krb5) }
    }

    /// The header and padding lengths a sealed message of `len` bytes needs.
    pub(super) fn wrap_lengths(&self, len: usize) -> Result<(usize, usize), GssError> {
        let api = api()?;
        let mut iov = [
            iov(IOV_HEADER, BufferDesc::EMPTY),
            iov(
                IOV_DATA,
                BufferDesc {
                    length: len,
                    value: ptr::null_mut(),
                },
            ),
            iov(IOV_PADDING, BufferDesc::EMPTY),
        ];
        let (mut minor, mut conf) = (0, 0);
        // SAFETY: length query only; no buffer is read or written.
        let major = unsafe {
            (api.wrap_iov_length)(
                &mut minor,
                self.handle,
                1,
                0,
                &mut conf,
                iov.as_mut_ptr(),
                3,
            )
        };
        check(api, major, minor)?;
        Ok((iov[0].buffer.length, iov[2].buffer.length))
    }

    /// Encrypts `data` in place and writes the header (exactly `header.len()` bytes, as
    /// [`Context::wrap_lengths`] said, with no padding).
    pub(super) fn wrap(&mut self, header: &mut [u8], data: &mut [u8]) -> Result<(), GssError> {
        let api = api()?;
        let mut iov = [
            iov(IOV_HEADER, buffer_mut(header)),
            iov(IOV_DATA, buffer_mut(data)),
            iov(IOV_PADDING, BufferDesc::EMPTY),
        ];
        let (mut minor, mut conf) = (0, 0);
        // SAFETY: the buffers are ours, sized by wrap_iov_length; encryption is in place.
        let major = unsafe {
            (api.wrap_iov)(
                &mut minor,
                self.handle,
                1,
                0,
                &mut conf,
                iov.as_mut_ptr(),
                3,
            )
        };
        check(api, major, minor)?;
        if conf == 0 || iov[0].buffer.length != header.len() || iov[2].buffer.length != 0 {
            return Err(GssError::Call {
                major: 0,
                minor: 0,
                message: "the security context did not encrypt in the WinRM layout".into(),
            });
        }
        Ok(())
    }

    /// Verifies and decrypts `data` in place. Returns the supplementary status bits
    /// (duplicate, old, unsequenced, gap), which the caller refuses, and whether the
    /// message was encrypted.
    pub(super) fn unwrap(
        &mut self,
        header: &mut [u8],
        data: &mut [u8],
    ) -> Result<(u32, bool), GssError> {
        let api = api()?;
        // RFC 4121 §4.2.6.2: a wrap token's header alone is 16 bytes; older libraries read it
        // before checking its length.
        if header.len() < 16 {
            return Err(GssError::Call {
                major: GSS_S_DEFECTIVE_TOKEN,
                minor: 0,
                message: format!("a {}-byte wrap header is too short", header.len()),
            });
        }
        let mut iov = [
            iov(IOV_HEADER, buffer_mut(header)),
            iov(IOV_DATA, buffer_mut(data)),
        ];
        let (mut minor, mut conf, mut qop) = (0, 0, 0);
        // SAFETY: as in wrap.
        let major = unsafe {
            (api.unwrap_iov)(
                &mut minor,
                self.handle,
                &mut conf,
                &mut qop,
                iov.as_mut_ptr(),
                2,
            )
        };
        let major = check(api, major, minor)?;
        Ok((major & SUPPLEMENTARY_MASK, conf != 0))
    }
}

fn iov(kind: OmUint32, buffer: BufferDesc) -> IovBufferDesc {
    IovBufferDesc { kind, buffer }
}

fn buffer_mut(bytes: &mut [u8]) -> BufferDesc {
    BufferDesc {
        length: bytes.len(),
        value: bytes.as_mut_ptr() as *mut c_void,
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        if self.handle.is_null() {
            return;
        }
        if let Ok(api) = api() {
            let mut minor = 0;
            // SAFETY: deleting our own context once; no output token is wanted.
            unsafe { (api.delete_sec_context)(&mut minor, &mut self.handle, ptr::null_mut()) };
        }
    }
}
