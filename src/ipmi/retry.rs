//! Retries of transient completion codes, as a [`Bmc`] wrapper: any carrier gets the same policy.

use std::time::Duration;

use super::{Bmc, RawRequest, RawResponse};

/// Retries of IPMI requests answered with a transient completion code (C0h busy, C4h out of
/// space, D0h–D2h not ready: the command was not carried out): up to `attempts` tries in all,
/// waiting `initial_backoff`, doubling up to `max_backoff`. C3h (timed out while processing) is
/// never retried, since the command may have taken effect; C5h (reservation lost) is left to the
/// procedure that holds the reservation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all (1 = no retry). Default 4.
    pub attempts: u32,
    /// First wait. Default 100 ms.
    pub initial_backoff: Duration,
    /// Longest wait. Default 1 s.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
        }
    }
}

/// A [`Bmc`] that retries transient completion codes per its [`RetryPolicy`]. The request is
/// re-sent only after the BMC answered it (a transient code means it was not carried out);
/// carrier errors are returned at once, never retried.
#[derive(Clone, Debug)]
pub struct Retrying<B> {
    inner: B,
    policy: RetryPolicy,
}

impl<B> Retrying<B> {
    /// Wraps `inner`.
    pub fn new(inner: B, policy: RetryPolicy) -> Self {
        Retrying { inner, policy }
    }

    /// The wrapped carrier.
    pub fn inner(&self) -> &B {
        &self.inner
    }

    /// The policy.
    pub fn policy(&self) -> RetryPolicy {
        self.policy
    }
}

impl<B: Bmc> Bmc for Retrying<B> {
    type Error = B::Error;

    async fn request(&self, request: RawRequest) -> Result<RawResponse, B::Error> {
        let mut wait = self.policy.initial_backoff;
        let mut attempt = 1;
        loop {
            let response = self.inner.request(request.clone()).await?;
            if !response.completion.is_transient() || attempt >= self.policy.attempts {
                return Ok(response);
            }
            tracing::debug!(code = %response.completion, attempt, "transient completion code; retrying");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(self.policy.max_backoff);
            attempt += 1;
        }
    }

    fn error(&self, e: super::IpmiError) -> B::Error {
        self.inner.error(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipmi::{CompletionCode, IpmiError, NetFn};
    use std::sync::atomic::{AtomicU32, Ordering};

    /// Answers `code` to the first `busy` requests, then 00h.
    struct Busy {
        busy: u32,
        seen: AtomicU32,
        code: u8,
    }

    impl Busy {
        fn new(busy: u32, code: u8) -> Self {
            Busy {
                busy,
                seen: AtomicU32::new(0),
                code,
            }
        }
    }

    impl Bmc for Busy {
        type Error = IpmiError;
        async fn request(&self, _r: RawRequest) -> Result<RawResponse, IpmiError> {
            let n = self.seen.fetch_add(1, Ordering::SeqCst);
            let code = if n < self.busy { self.code } else { 0x00 };
            Ok(RawResponse::new(CompletionCode::from_byte(code), vec![]))
        }
    }

    fn fast(attempts: u32) -> RetryPolicy {
        RetryPolicy {
            attempts,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
        }
    }

    #[tokio::test]
    async fn transient_codes_are_retried_up_to_the_policy() {
        let req = RawRequest::new(NetFn::App, 1, vec![]).unwrap();
        let ok = Retrying::new(Busy::new(2, 0xC0), fast(4));
        assert!(
            ok.request(req.clone())
                .await
                .unwrap()
                .completion
                .is_success()
        );
        assert_eq!(ok.inner().seen.load(Ordering::SeqCst), 3);
        let busy = Retrying::new(Busy::new(9, 0xC0), fast(2));
        assert_eq!(busy.request(req).await.unwrap().completion.byte(), 0xC0);
        assert_eq!(busy.inner().seen.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_command_that_may_have_run_is_never_sent_again() {
        // C3h: the BMC timed out while processing; a power cycle may be under way.
        let cycle = RawRequest::new(NetFn::Chassis, 0x02, vec![0x02]).unwrap();
        let bmc = Retrying::new(Busy::new(9, 0xC3), fast(4));
        let r = bmc.request(cycle).await.unwrap();
        assert_eq!(r.completion, CompletionCode::Timeout);
        assert!(!r.completion.is_transient());
        assert_eq!(bmc.inner().seen.load(Ordering::SeqCst), 1);
        // Codes that mean "not carried out" are retried.
        for code in [0xC0, 0xC4, 0xD0, 0xD1, 0xD2] {
            let bmc = Retrying::new(Busy::new(1, code), fast(4));
            let r = bmc
                .request(RawRequest::new(NetFn::App, 1, vec![]).unwrap())
                .await
                .unwrap();
            assert!(r.completion.is_success(), "{code:#x}");
            assert_eq!(bmc.inner().seen.load(Ordering::SeqCst), 2, "{code:#x}");
        }
    }
}
