//! A [`Bmc`] wrapper for tests: records requests and can refuse chosen ones.

use std::sync::Mutex;

use super::{Bmc, CompletionCode, IpmiError, NetFn, RawRequest, RawResponse};

/// Wraps a BMC, records every request, and answers `fail_code` instead of forwarding the
/// `fail_at`-th (0-based) request that matches `fail_when`.
pub(crate) struct Recording<B> {
    pub inner: B,
    pub log: Mutex<Vec<RawRequest>>,
    pub fail_when: Option<(fn(&RawRequest) -> bool, usize, CompletionCode)>,
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
