//! Signal delivery: raised signals reach every listener, coalesce, and free their sockets.

use std::time::Duration;

use bucle::signal::{Signal, SIGUSR1, SIGUSR2};
use futures::StreamExt;

#[test]
fn delivery_reaches_every_listener_and_coalesces() {
    bucle::run(async {
        let mut a = Signal::new(SIGUSR1).unwrap();
        let mut b = Signal::new(SIGUSR1).unwrap();
        signal_hook::low_level::raise(SIGUSR1).unwrap();
        signal_hook::low_level::raise(SIGUSR1).unwrap();
        a.recv().await.unwrap();
        b.next().await.unwrap();
        // Both raises were consumed by one item: nothing more is pending.
        let more = bucle::timeout(Duration::from_millis(20), a.recv()).await;
        assert!(more.is_err(), "deliveries coalesce into one item");
        // A later delivery is seen.
        signal_hook::low_level::raise(SIGUSR1).unwrap();
        a.recv().await.unwrap();
    });
}

#[test]
fn a_signal_from_another_thread_wakes_a_waiting_task() {
    bucle::run(async {
        let mut s = Signal::new(SIGUSR2).unwrap();
        let waiter = bucle::spawn(async move {
            s.recv().await.unwrap();
            "woken"
        });
        bucle::yield_now().await;
        std::thread::spawn(|| {
            std::thread::sleep(Duration::from_millis(10));
            signal_hook::low_level::raise(SIGUSR2).unwrap();
        });
        assert_eq!(waiter.await.unwrap(), "woken");
    });
}

#[test]
fn ctrl_c_resolves_on_sigint() {
    bucle::run(async {
        let ctrl_c = bucle::spawn(bucle::signal::ctrl_c());
        bucle::yield_now().await;
        // The handler is installed now; SIGINT does not terminate the test process.
        signal_hook::low_level::raise(bucle::signal::SIGINT).unwrap();
        ctrl_c.await.unwrap().unwrap();
    });
}

#[test]
fn forbidden_signals_are_errors() {
    bucle::run(async {
        assert!(Signal::new(9).is_err());
        assert!(Signal::new(19).is_err());
        assert!(Signal::new(11).is_err());
    });
}
