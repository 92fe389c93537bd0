//! A [`Bmc`] wrapper for tests: records requests and can refuse chosen ones.

use std::sync::Mutex;

use super::{Bmc, CompletionCode, IpmiError, NetFn, RawRequest, RawResponse};

/// Which requests to refuse: the predicate, the 0-based match to refuse, and the code.
pub(crate) type FailRule = (fn(&RawRequest) -> bool, usize, CompletionCode);

/// Wraps a BMC, records every request, and answers `fail_code` instead of forwarding the
/// `fail_at`-th (0-based) request that matches `fail_when`.
pub(crate) struct Recording<B> {
    pub inner: B,
    log: Mutex<Vec<RawRequest>>,
    pub fail_when: Option<FailRule>,
    matched: Mutex<usize>,
}

impl<B> Recording<B> {
    pub fn new(inner: B) -> Self {
        Recording {
            inner,
            log: Mutex::new(Vec::new()),
            fail_when: None,
            matched: Mutex::new(0),
        }
    }

    pub fn failing(
        mut self,
        when: fn(&RawRequest) -> bool,
        nth: usize,
        code: CompletionCode,
    ) -> Self {
        self.fail_when = Some((when, nth, code));
        self
    }

    pub fn count(&self, netfn: NetFn, cmd: u8) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.netfn() == netfn && r.cmd() == cmd)
            .count()
    }

    /// A copy of the requests so far.
    pub fn requests(&self) -> Vec<RawRequest> {
        self.log.lock().unwrap().clone()
    }

    pub fn total(&self) -> usize {
        self.log.lock().unwrap().len()
    }
}

impl<B: Bmc<Error = IpmiError> + Sync> Bmc for Recording<B> {
    type Error = IpmiError;

    async fn request(&self, request: RawRequest) -> Result<RawResponse, IpmiError> {
        self.log.lock().unwrap().push(request.clone());
        if let Some((when, nth, code)) = self.fail_when
            && when(&request)
        {
            let hit = {
                let mut m = self.matched.lock().unwrap();
                *m += 1;
                *m - 1 == nth
            };
            if hit {
                return Ok(RawResponse::new(code, vec![]));
            }
        }
        self.inner.request(request).await
    }
}

/// Wraps a BMC, and the carrier fails (an error, no answer) on every request that matches
/// `when`: a connection that goes down mid-procedure.
pub(crate) struct CarrierFails<B> {
    pub inner: B,
    pub when: fn(&RawRequest) -> bool,
}

impl<B: Bmc<Error = IpmiError> + Sync> Bmc for CarrierFails<B> {
    type Error = IpmiError;

    async fn request(&self, request: RawRequest) -> Result<RawResponse, IpmiError> {
        if (self.when)(&request) {
            return Err(IpmiError::InvalidArgument(
                "the connection went down".into(),
            ));
        }
        self.inner.request(request).await
    }
}
