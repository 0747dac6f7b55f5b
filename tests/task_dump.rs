//! Task introspection: `task::all`, `Runtime::dump`, `Handle::dump` (also from another thread
//! while the loop is stuck), states, poll counts, what a task awaits, the tree.

use std::sync::mpsc;
use std::time::Duration;

use bucle::task::{self, TaskState};

#[test]
fn a_dump_lists_each_task_with_its_name_and_spawn_site() {
    let rt = bucle::Runtime::new().unwrap();
    let tasks: Vec<bucle::JoinHandle<()>> = rt.block_on(async {
        let tasks = ["fetch", "parse"]
            .into_iter()
            .map(|name| {
                task::Builder::new()
                    .name(name)
                    .spawn(std::future::pending::<()>())
            })
            .collect();
        bucle::yield_now().await;
        tasks
    });
    let dump = rt.dump();
    let text = dump.to_string();
    println!("{text}");
    let site = tasks[0].spawned_at().to_string();
    assert!(site.starts_with(file!()));
    for name in ["fetch", "parse"] {
        let row = text
            .lines()
            .find(|l| l.contains(&format!("{name:?}")))
            .unwrap_or_else(|| panic!("no row for {name} in\n{text}"));
        assert!(
            row.contains(&site),
            "row {row:?} lacks the spawn site {site}"
        );
        assert!(row.contains("idle"), "{row}");
    }
    assert!(text.starts_with("bucle loop "));
    assert_eq!(dump.tasks().len(), 2);
    rt.block_on(async {
        for t in tasks {
            t.cancel();
            assert!(t.await.unwrap_err().is_cancelled());
        }
    });
    assert!(
        rt.dump().tasks().is_empty(),
        "finished tasks leave the table"
    );
}

#[test]
fn a_dump_from_another_thread_sees_the_task_stalling_the_loop() {
    let rt = bucle::Runtime::builder().task_timing(true).build().unwrap();
    let handle = rt.handle();
    let (stalling_tx, stalling_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let observer = std::thread::spawn(move || {
        stalling_rx.recv().unwrap();
        // The loop thread is blocked inside the staller's poll right now.
        std::thread::sleep(Duration::from_millis(5));
        let dump = handle.dump();
        release_tx.send(()).unwrap();
        dump
    });
    let line = line!() + 2;
    rt.block_on(async move {
        let staller = task::Builder::new().name("staller").spawn(async move {
            stalling_tx.send(()).unwrap();
            release_rx.recv().unwrap(); // blocks the loop on purpose
        });
        let bystander = task::Builder::new()
            .name("bystander")
            .spawn(std::future::pending::<()>());
        staller.await.unwrap();
        bystander.cancel();
    });
    let dump = observer.join().unwrap();
    println!("{dump}\n{}", dump.tree());

    let info = dump
        .tasks()
        .iter()
        .find(|t| t.name() == Some("staller"))
        .expect("the stuck task is listed");
    assert_eq!(info.state(), TaskState::Running);
    assert_eq!(info.spawned_at().line(), line);
    assert!(info.running_for().unwrap() >= Duration::from_millis(5));
    let text = dump.to_string();
    assert!(text.contains("running for"), "{text}");
    assert!(text.contains("\"staller\""));
    // The bystander had not been polled yet when the loop got stuck: only started tasks
    // are listed.
    assert!(dump.tasks().iter().all(|t| t.name() != Some("bystander")));
}

#[test]
fn states_follow_the_task() {
    bucle::run(async {
        let id_of = |h: &bucle::JoinHandle<()>| h.id();
        let find = |id| task::all().into_iter().find(|t| t.id() == id).unwrap();

        let waiter = bucle::spawn(std::future::pending::<()>());
        let yielder = bucle::spawn(async {
            loop {
                bucle::yield_now().await;
            }
        });
        bucle::yield_now().await;
        assert_eq!(find(id_of(&waiter)).state(), TaskState::Idle);
        // It woke itself during its poll: queued, not idle.
        assert_eq!(find(id_of(&yielder)).state(), TaskState::Scheduled);
        let me = bucle::spawn(async { task::current().state() })
            .await
            .unwrap();
        assert_eq!(me, TaskState::Running);

        let polls_before = find(id_of(&yielder)).polls();
        bucle::yield_now().await;
        assert_eq!(find(id_of(&yielder)).polls(), polls_before + 1);
        waiter.cancel();
        yielder.cancel();
    });
}

#[test]
fn a_task_awaiting_another_names_it() {
    bucle::run(async {
        let inner = task::Builder::new()
            .name("inner")
            .spawn(std::future::pending::<()>());
        let inner_id = inner.id();
        let outer = task::Builder::new().name("outer").spawn(async move {
            let _ = inner.await;
        });
        bucle::yield_now().await;
        let dump = bucle::Handle::current().dump();
        let outer_info = dump.tasks().iter().find(|t| t.id() == outer.id()).unwrap();
        assert_eq!(outer_info.awaiting(), Some(inner_id));
        assert!(dump.to_string().contains(&format!("awaits {inner_id}")));
        outer.cancel();
    });
}

#[test]
fn a_finished_wait_is_no_longer_reported() {
    bucle::run(async {
        let (tx, rx) = futures::channel::oneshot::channel::<()>();
        let inner = bucle::spawn(async move {
            let _ = rx.await;
        });
        let inner_id = inner.id();
        let outer = bucle::spawn(async move {
            let _ = inner.await;
            // Polled again, now waiting on something that is not a task.
            std::future::pending::<()>().await;
        });
        bucle::yield_now().await;
        let info = |dump: bucle::task::Dump| {
            dump.tasks()
                .iter()
                .find(|t| t.id() == outer.id())
                .cloned()
                .unwrap()
        };
        assert_eq!(
            info(bucle::Handle::current().dump()).awaiting(),
            Some(inner_id)
        );
        tx.send(()).unwrap();
        for _ in 0..3 {
            bucle::yield_now().await;
        }
        let after = info(bucle::Handle::current().dump());
        assert!(after.polls() >= 2, "the outer task ran again");
        assert_eq!(after.awaiting(), None);
        outer.cancel();
    });
}

#[test]
fn unnamed_tasks_keep_their_parent_and_spawn_site() {
    bucle::run(async {
        let (parent, (child, child_parent, site)) = bucle::spawn(async {
            let me = task::current().id();
            let child = bucle::spawn(async {
                let info = task::current();
                (info.id(), info.parent(), info.spawned_at())
            })
            .await
            .unwrap();
            (me, child)
        })
        .await
        .unwrap();
        assert_ne!(parent, child);
        assert_eq!(child_parent, Some(parent));
        assert_eq!(site.file(), file!());
    });
}

#[test]
fn the_tree_nests_children_under_their_parent() {
    bucle::run(async {
        let root = task::Builder::new().name("root").spawn(async {
            let a = task::Builder::new().name("a").spawn(async {
                let leaf = task::Builder::new()
                    .name("leaf")
                    .spawn(std::future::pending::<()>());
                let _ = leaf.await;
            });
            let _b = task::Builder::new()
                .name("b")
                .spawn(std::future::pending::<()>());
            let _ = a.await;
        });
        for _ in 0..3 {
            bucle::yield_now().await;
        }
        let tree = bucle::Handle::current().dump().tree().to_string();
        println!("{tree}");
        let depth = |name: &str| {
            let line = tree
                .lines()
                .find(|l| l.contains(&format!("\"{name}\"")))
                .unwrap_or_else(|| panic!("{name} missing from\n{tree}"));
            line.find("task").unwrap()
        };
        assert!(depth("root") < depth("a"));
        assert_eq!(depth("a"), depth("b"));
        assert!(depth("a") < depth("leaf"));
        root.cancel();
    });
}

#[test]
fn busy_time_and_longest_poll_add_up() {
    bucle::Runtime::builder()
        .task_timing(true)
        .build()
        .unwrap()
        .block_on(async {
            let info = bucle::spawn(async {
                std::thread::sleep(Duration::from_millis(3)); // a slow poll, on purpose
                bucle::yield_now().await;
                bucle::yield_now().await;
                task::current()
            })
            .await
            .unwrap();
            assert_eq!(info.polls(), 3);
            let longest = info.longest_poll().unwrap();
            assert!(longest >= Duration::from_millis(3));
            assert!(info.busy().unwrap() >= longest);
        });
}

#[test]
fn timing_can_be_switched_off() {
    let rt = bucle::Runtime::builder()
        .task_timing(false)
        .build()
        .unwrap();
    let info = rt
        .block_on(async {
            bucle::spawn(async {
                bucle::yield_now().await;
                task::current()
            })
            .await
        })
        .unwrap();
    assert_eq!(info.polls(), 2);
    assert_eq!(info.busy(), None);
    assert_eq!(info.longest_poll(), None);
    assert_eq!(info.running_for(), None);
}

#[test]
fn a_dump_of_a_closed_loop_is_empty() {
    let rt = bucle::Runtime::new().unwrap();
    let handle = rt.handle();
    let _task = rt.spawn(std::future::pending::<()>());
    rt.block_on(bucle::yield_now());
    assert_eq!(handle.dump().tasks().len(), 1);
    drop(rt);
    assert!(handle.dump().tasks().is_empty());
}

#[test]
fn a_task_in_its_first_poll_is_listed_and_one_that_finished_there_is_gone() {
    bucle::run(async {
        let parent = bucle::spawn(async {
            let me = task::current();
            let child = bucle::spawn(async {
                // First poll: listed, with its parent, as polled once.
                let me = task::current();
                let listed = task::all().into_iter().find(|t| t.id() == me.id());
                (me, listed)
            });
            let child_id = child.id();
            let (child_info, listed) = child.await.unwrap();
            let still_listed = task::all().iter().any(|t| t.id() == child_id);
            (me.id(), child_info, listed, still_listed)
        });
        let (parent_id, child, listed, still_listed) = parent.await.unwrap();
        assert_eq!(child.parent(), Some(parent_id));
        assert_eq!(child.polls(), 1);
        assert_eq!(child.state(), TaskState::Running);
        let listed = listed.expect("a task in its first poll is listed");
        assert_eq!(listed.parent(), Some(parent_id));
        assert_eq!(listed.polls(), 1);
        assert!(
            !still_listed,
            "a task that finished in its first poll is gone"
        );
    });
}

#[test]
fn dumps_from_another_thread_while_short_tasks_come_and_go() {
    // Most tasks here finish in their first poll and are never registered: a dump reads
    // them through the loop's first-poll slot, which must stay valid for the reader.
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let rt = bucle::Runtime::new().unwrap();
    let handle = rt.handle();
    let stop = Arc::new(AtomicBool::new(false));
    let observer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut seen = 0usize;
            let mut dumps = 0usize;
            while !stop.load(Ordering::SeqCst) || dumps == 0 {
                for info in handle.dump().tasks() {
                    assert_eq!(info.spawned_at().file(), file!());
                    assert!(info.polls() >= 1, "{info:?}");
                    seen += 1;
                }
                dumps += 1;
            }
            (dumps, seen)
        })
    };
    rt.block_on(async {
        for round in 0..200u64 {
            let short: Vec<_> = (0..100u64)
                .map(|i| bucle::spawn(async move { round * i }))
                .collect();
            let parked = bucle::spawn(async { bucle::yield_now().await });
            for task in short {
                task.await.unwrap();
            }
            parked.await.unwrap();
        }
    });
    stop.store(true, Ordering::SeqCst);
    let (dumps, _seen) = observer.join().unwrap();
    assert!(dumps > 0);
}
