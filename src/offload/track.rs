//! Counts an operation on `blocking::Unblock` as an offloaded call while it is pending, so
//! that a paused clock waits for files and standard streams as it does for
//! `run_in_executor`.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;

use crate::runtime::context;
use crate::runtime::core::Shared;

/// Counted on a loop between a `Pending` and the next `Ready`.
#[derive(Default)]
pub(crate) struct InFlight {
    counted_on: Option<Arc<Shared>>,
}

impl InFlight {
    /// Passes `poll` through, counting while it is pending. Called on the polling thread:
    /// if that is a loop thread, the loop counts the operation.
    pub(crate) fn track<R>(&mut self, poll: Poll<R>) -> Poll<R> {
        match &poll {
            Poll::Pending => {
                if self.counted_on.is_none() {
                    self.counted_on = context::with_current(|core| {
                        core.map(|core| {
                            core.shared.in_flight.fetch_add(1, Ordering::SeqCst);
                            core.shared.clone()
                        })
                    });
                }
            }
            Poll::Ready(_) => {
                // Ready is seen on the loop thread, which is running: no need to unpark it.
                if let Some(shared) = self.counted_on.take() {
                    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
                }
            }
        }
        poll
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(shared) = self.counted_on.take() {
            shared.offload_finished();
        }
    }
}

/// Awaits `future`, counting it as in flight while it is pending.
pub(crate) async fn tracked<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut in_flight = InFlight::default();
    std::future::poll_fn(|cx| in_flight.track(future.as_mut().poll(cx))).await
}
