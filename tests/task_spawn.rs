//! Spawning: ordering, many tasks, names, ids, spawn sites, `!Send` futures, misuse.

use std::cell::RefCell;
use std::rc::Rc;

#[test]
fn a_hundred_thousand_tasks_run_and_join() {
    let sum = bucle::run(async {
        let handles: Vec<_> = (0..100_000u64)
            .map(|i| bucle::spawn(async move { i }))
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..100_000u64).sum::<u64>());
}

#[test]
fn tasks_start_in_spawn_order() {
    let log = Rc::new(RefCell::new(Vec::new()));
    bucle::run({
        let log = log.clone();
        async move {
            let handles: Vec<_> = (0..10)
                .map(|i| {
                    let log = log.clone();
                    bucle::spawn(async move { log.borrow_mut().push(i) })
                })
                .collect();
            assert!(
                log.borrow().is_empty(),
                "spawn does not run the task inline"
            );
            for h in handles {
                h.await.unwrap();
            }
        }
    });
    assert_eq!(*log.borrow(), (0..10).collect::<Vec<_>>());
}

#[test]
fn yielding_tasks_interleave_round_robin() {
    let log = Rc::new(RefCell::new(Vec::new()));
    bucle::run({
        let log = log.clone();
        async move {
            let handles: Vec<_> = ["a", "b"]
                .into_iter()
                .map(|name| {
                    let log = log.clone();
                    bucle::spawn(async move {
                        for i in 0..3 {
                            log.borrow_mut().push(format!("{name}{i}"));
                            bucle::yield_now().await;
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        }
    });
    assert_eq!(*log.borrow(), ["a0", "b0", "a1", "b1", "a2", "b2"]);
}

#[test]
fn names_ids_and_spawn_sites_are_recorded() {
    bucle::run(async {
        let line = line!() + 1;
        let named = bucle::task::Builder::new().name("fetch").spawn(async {
            let me = bucle::task::current();
            (me.id(), me.name().map(String::from), me.spawned_at().line())
        });
        let id = named.id();
        assert_eq!(named.name(), Some("fetch"));
        assert_eq!(named.spawned_at().file(), file!());
        let (seen_id, seen_name, seen_line) = named.await.unwrap();
        assert_eq!(seen_id, id);
        assert_eq!(seen_name.as_deref(), Some("fetch"));
        assert_eq!(seen_line, line);
    });
}

#[test]
fn ids_are_unique_across_loops() {
    let a = bucle::run(async { bucle::spawn(async {}).id() });
    let b = bucle::run(async { bucle::spawn(async {}).id() });
    assert_ne!(a, b);
}

#[test]
fn non_send_futures_are_accepted() {
    let value = Rc::new(RefCell::new(1));
    let v = value.clone();
    bucle::run(async move {
        bucle::spawn(async move { *v.borrow_mut() += 1 })
            .await
            .unwrap();
    });
    assert_eq!(*value.borrow(), 2);
}

#[test]
fn spawn_outside_a_loop_panics_at_the_callers_line_with_the_fix() {
    let result = std::panic::catch_unwind(|| bucle::spawn(async {}));
    let message = result.unwrap_err().downcast::<String>().unwrap();
    assert!(message.contains("`bucle::spawn` must be called from inside a bucle event loop"));
    assert!(message.contains("bucle::run"), "{message}");
    // The location of the panic is the caller's: checked through a panic hook.
    let loc = std::sync::Arc::new(std::sync::Mutex::new(None));
    let l = loc.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        *l.lock().unwrap() = info.location().map(|l| (l.file().to_string(), l.line()));
    }));
    let expected_line = line!() + 1;
    let _ = std::panic::catch_unwind(|| bucle::spawn(async {}));
    std::panic::set_hook(previous);
    let seen = loc.lock().unwrap().clone().unwrap();
    assert_eq!(seen, (file!().to_string(), expected_line));
}

#[test]
fn current_outside_a_task_is_none() {
    assert!(bucle::task::try_current().is_none());
    bucle::run(async { assert!(bucle::task::try_current().is_none()) });
}

#[test]
fn all_lists_running_tasks_with_their_names() {
    bucle::run(async {
        let a = bucle::task::Builder::new()
            .name("a")
            .spawn(std::future::pending::<()>());
        let b = bucle::task::Builder::new()
            .name("b")
            .spawn(std::future::pending::<()>());
        bucle::yield_now().await;
        let mut names: Vec<_> = bucle::task::all()
            .iter()
            .filter_map(|t| t.name().map(String::from))
            .collect();
        names.sort();
        assert_eq!(names, ["a", "b"]);
        a.cancel();
        b.cancel();
        let _ = a.await;
        let _ = b.await;
        assert!(bucle::task::all().is_empty());
    });
}
