//! Model-based property tests: random sequences of puts, gets, `try_*`, cancellations
//! (dropping pending futures, also between their wake and their poll), `task_done` and
//! shutdowns, checked step by step against a `VecDeque` / `Vec` / `BinaryHeap` model, and
//! the end state checked for leftovers: no waiter registered, no item or permit lost.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::task::Poll;

use bucle::sync::futures::{Acquire, Get, Put};
use bucle::sync::{
    BoundedSemaphore, LifoQueue, Permit, PriorityQueue, Queue, Semaphore, TaskDoneError,
    TryGetError, TryPutError,
};
use proptest::prelude::*;
use tokio_test::task::{spawn, Spawn};

/// The queue operations the model drives, the same for the three kinds.
trait AnyQueue {
    fn try_put(&self, v: u32) -> Result<(), TryPutError<u32>>;
    fn try_get(&self) -> Result<u32, TryGetError>;
    fn put(&self, v: u32) -> Put<'_, u32>;
    fn get(&self) -> Get<'_, u32>;
    fn shutdown(&self, immediate: bool);
    fn task_done(&self) -> Result<(), TaskDoneError>;
    fn len(&self) -> usize;
    fn unfinished_tasks(&self) -> usize;
    fn registered_waiters(&self) -> usize;
}

macro_rules! any_queue {
    ($name:ident) => {
        impl AnyQueue for $name<u32> {
            fn try_put(&self, v: u32) -> Result<(), TryPutError<u32>> {
                $name::try_put(self, v)
            }
            fn try_get(&self) -> Result<u32, TryGetError> {
                $name::try_get(self)
            }
            fn put(&self, v: u32) -> Put<'_, u32> {
                $name::put(self, v)
            }
            fn get(&self) -> Get<'_, u32> {
                $name::get(self)
            }
            fn shutdown(&self, immediate: bool) {
                $name::shutdown(self, immediate)
            }
            fn task_done(&self) -> Result<(), TaskDoneError> {
                $name::task_done(self)
            }
            fn len(&self) -> usize {
                $name::len(self)
            }
            fn unfinished_tasks(&self) -> usize {
                $name::unfinished_tasks(self)
            }
            fn registered_waiters(&self) -> usize {
                $name::registered_waiters(self)
            }
        }
    };
}

any_queue!(Queue);
any_queue!(LifoQueue);
any_queue!(PriorityQueue);

/// The reference: what a queue of each kind holds and which item it gives next.
enum Model {
    Fifo(VecDeque<u32>),
    Lifo(Vec<u32>),
    Heap(BinaryHeap<Reverse<u32>>),
}

impl Model {
    fn push(&mut self, v: u32) {
        match self {
            Model::Fifo(m) => m.push_back(v),
            Model::Lifo(m) => m.push(v),
            Model::Heap(m) => m.push(Reverse(v)),
        }
    }

    fn pop(&mut self) -> Option<u32> {
        match self {
            Model::Fifo(m) => m.pop_front(),
            Model::Lifo(m) => m.pop(),
            Model::Heap(m) => m.pop().map(|Reverse(v)| v),
        }
    }

    fn len(&self) -> usize {
        match self {
            Model::Fifo(m) => m.len(),
            Model::Lifo(m) => m.len(),
            Model::Heap(m) => m.len(),
        }
    }

    fn clear(&mut self) -> usize {
        let n = self.len();
        while self.pop().is_some() {}
        n
    }
}

#[derive(Clone, Debug)]
enum Op {
    TryPut(u32),
    TryGet,
    Put(u32),
    Get,
    DropGetter(usize),
    DropPutter(usize),
    RunWoken,
    TaskDone,
    Shutdown(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..100u32).prop_map(Op::TryPut),
        6 => Just(Op::TryGet),
        8 => (0..100u32).prop_map(Op::Put),
        8 => Just(Op::Get),
        3 => any::<usize>().prop_map(Op::DropGetter),
        3 => any::<usize>().prop_map(Op::DropPutter),
        8 => Just(Op::RunWoken),
        3 => Just(Op::TaskDone),
        1 => any::<bool>().prop_map(Op::Shutdown),
    ]
}

struct Harness<'q, Q: AnyQueue> {
    q: &'q Q,
    cap: Option<usize>,
    model: Model,
    getters: Vec<Spawn<Get<'q, u32>>>,
    putters: Vec<(u32, Spawn<Put<'q, u32>>)>,
    shut: bool,
    put_done: usize,
    got: usize,
    dropped: usize,
    unfinished: usize,
}

impl<'q, Q: AnyQueue> Harness<'q, Q> {
    /// No woken future is waiting to run: every grant has been taken up.
    fn settled(&self) -> bool {
        self.getters.iter().all(|g| !g.is_woken()) && self.putters.iter().all(|p| !p.1.is_woken())
    }

    fn got_item(&mut self, v: u32) {
        assert_eq!(
            Some(v),
            self.model.pop(),
            "the item the queue's order gives next"
        );
        self.got += 1;
    }

    fn put_item(&mut self, v: u32) {
        assert!(!self.shut, "no put succeeds after shutdown");
        self.model.push(v);
        self.put_done += 1;
        self.unfinished += 1;
    }

    fn on_get(&mut self, r: Result<u32, bucle::sync::GetError>) {
        match r {
            Ok(v) => self.got_item(v),
            Err(_) => assert!(self.shut),
        }
    }

    fn on_put(&mut self, v: u32, r: Result<(), bucle::sync::PutError<u32>>) {
        match r {
            Ok(()) => self.put_item(v),
            Err(e) => {
                assert!(self.shut);
                assert_eq!(e.into_inner(), v, "a failed put hands its item back");
            }
        }
    }

    fn step(&mut self, op: Op) {
        let settled = self.settled();
        match op {
            Op::TryPut(v) => match self.q.try_put(v) {
                Ok(()) => {
                    if settled {
                        assert!(self.cap.is_none_or(|c| self.model.len() < c));
                    }
                    self.put_item(v);
                }
                Err(TryPutError::Full(x)) => {
                    assert_eq!(x, v);
                    assert!(!self.shut && self.cap.is_some());
                    if settled {
                        assert_eq!(Some(self.model.len()), self.cap, "full only when full");
                    }
                }
                Err(TryPutError::ShutDown(x)) => {
                    assert_eq!(x, v);
                    assert!(self.shut);
                }
            },
            Op::TryGet => match self.q.try_get() {
                Ok(v) => self.got_item(v),
                Err(e) => {
                    assert_eq!(e == TryGetError::ShutDown, self.shut);
                    if settled {
                        assert_eq!(self.model.len(), 0, "empty only when empty");
                    }
                }
            },
            Op::Put(v) => {
                let mut put = spawn(self.q.put(v));
                match put.poll() {
                    Poll::Ready(r) => self.on_put(v, r),
                    Poll::Pending => self.putters.push((v, put)),
                }
            }
            Op::Get => {
                let mut get = spawn(self.q.get());
                match get.poll() {
                    Poll::Ready(r) => self.on_get(r),
                    Poll::Pending => self.getters.push(get),
                }
            }
            Op::DropGetter(i) => {
                if !self.getters.is_empty() {
                    let i = i % self.getters.len();
                    drop(self.getters.remove(i));
                }
            }
            Op::DropPutter(i) => {
                if !self.putters.is_empty() {
                    let i = i % self.putters.len();
                    drop(self.putters.remove(i));
                }
            }
            Op::RunWoken => self.run_woken(),
            Op::TaskDone => {
                let r = self.q.task_done();
                assert_eq!(r.is_ok(), self.unfinished > 0);
                self.unfinished = self.unfinished.saturating_sub(1);
            }
            Op::Shutdown(immediate) => {
                self.q.shutdown(immediate);
                self.shut = true;
                if immediate {
                    let n = self.model.clear();
                    self.dropped += n;
                    self.unfinished = self.unfinished.saturating_sub(n);
                }
            }
        }
        assert_eq!(self.q.unfinished_tasks(), self.unfinished);
    }

    /// Runs every woken future until none is woken, like a loop tick, then checks that
    /// nothing waits needlessly.
    fn run_woken(&mut self) {
        loop {
            let mut progressed = false;
            let mut i = 0;
            while i < self.getters.len() {
                if self.getters[i].is_woken() {
                    progressed = true;
                    if let Poll::Ready(r) = self.getters[i].poll() {
                        drop(self.getters.remove(i));
                        self.on_get(r);
                        continue;
                    }
                }
                i += 1;
            }
            let mut i = 0;
            while i < self.putters.len() {
                if self.putters[i].1.is_woken() {
                    progressed = true;
                    if let Poll::Ready(r) = self.putters[i].1.poll() {
                        let (v, _) = self.putters.remove(i);
                        self.on_put(v, r);
                        continue;
                    }
                }
                i += 1;
            }
            if !progressed {
                break;
            }
        }
        assert_eq!(self.q.len(), self.model.len());
        if !self.getters.is_empty() {
            assert_eq!(self.model.len(), 0, "a getter waits only on an empty queue");
            assert!(!self.shut, "shutdown wakes every getter");
        }
        if !self.putters.is_empty() {
            assert_eq!(
                Some(self.model.len()),
                self.cap,
                "a putter waits only on a full queue"
            );
            assert!(!self.shut, "shutdown wakes every putter");
        }
    }

    fn finish(mut self) {
        self.getters.clear();
        self.putters.clear();
        assert_eq!(self.q.registered_waiters(), 0, "no waiter left registered");
        while let Ok(v) = self.q.try_get() {
            self.got_item(v);
        }
        assert_eq!(
            self.model.len(),
            0,
            "every item the model holds was in the queue"
        );
        assert_eq!(
            self.put_done,
            self.got + self.dropped,
            "no item lost or duplicated"
        );
    }
}

fn run_queue<Q: AnyQueue>(q: &Q, cap: Option<usize>, model: Model, ops: Vec<Op>) {
    let mut h = Harness {
        q,
        cap,
        model,
        getters: Vec::new(),
        putters: Vec::new(),
        shut: false,
        put_done: 0,
        got: 0,
        dropped: 0,
        unfinished: 0,
    };
    for op in ops {
        h.step(op);
    }
    h.finish();
}

fn capacity() -> impl Strategy<Value = Option<usize>> {
    prop_oneof![Just(None), (1..5usize).prop_map(Some)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn fifo_queue_matches_a_vecdeque(cap in capacity(), ops in prop::collection::vec(op(), 1..80)) {
        let q = cap.map_or_else(Queue::new, Queue::bounded);
        run_queue(&q, cap, Model::Fifo(VecDeque::new()), ops);
    }

    #[test]
    fn lifo_queue_matches_a_vec(cap in capacity(), ops in prop::collection::vec(op(), 1..80)) {
        let q = cap.map_or_else(LifoQueue::new, LifoQueue::bounded);
        run_queue(&q, cap, Model::Lifo(Vec::new()), ops);
    }

    #[test]
    fn priority_queue_matches_a_binary_heap(cap in capacity(), ops in prop::collection::vec(op(), 1..80)) {
        let q = cap.map_or_else(PriorityQueue::new, PriorityQueue::bounded);
        run_queue(&q, cap, Model::Heap(BinaryHeap::new()), ops);
    }
}

#[derive(Clone, Debug)]
enum SemOp {
    Acquire,
    TryAcquire,
    DropPermit(usize),
    DropWaiter(usize),
    RunWoken,
    Release,
}

fn sem_op() -> impl Strategy<Value = SemOp> {
    prop_oneof![
        6 => Just(SemOp::Acquire),
        3 => Just(SemOp::TryAcquire),
        5 => any::<usize>().prop_map(SemOp::DropPermit),
        3 => any::<usize>().prop_map(SemOp::DropWaiter),
        6 => Just(SemOp::RunWoken),
        1 => Just(SemOp::Release),
    ]
}

/// The operations both semaphores share.
trait AnySemaphore {
    fn acquire(&self) -> Acquire<'_>;
    fn try_acquire(&self) -> Option<Permit<'_>>;
    /// Adds a permit; false if a bounded semaphore refused.
    fn release(&self) -> bool;
    fn available(&self) -> usize;
    fn registered_waiters(&self) -> usize;
    fn bounded(&self) -> bool;
}

impl AnySemaphore for Semaphore {
    fn acquire(&self) -> Acquire<'_> {
        Semaphore::acquire(self)
    }
    fn try_acquire(&self) -> Option<Permit<'_>> {
        Semaphore::try_acquire(self).ok()
    }
    fn release(&self) -> bool {
        Semaphore::release(self);
        true
    }
    fn available(&self) -> usize {
        Semaphore::available(self)
    }
    fn registered_waiters(&self) -> usize {
        Semaphore::registered_waiters(self)
    }
    fn bounded(&self) -> bool {
        false
    }
}

impl AnySemaphore for BoundedSemaphore {
    fn acquire(&self) -> Acquire<'_> {
        BoundedSemaphore::acquire(self)
    }
    fn try_acquire(&self) -> Option<Permit<'_>> {
        BoundedSemaphore::try_acquire(self).ok()
    }
    fn release(&self) -> bool {
        BoundedSemaphore::release(self).is_ok()
    }
    fn available(&self) -> usize {
        BoundedSemaphore::available(self)
    }
    fn registered_waiters(&self) -> usize {
        BoundedSemaphore::registered_waiters(self)
    }
    fn bounded(&self) -> bool {
        true
    }
}

fn run_semaphore<S: AnySemaphore>(sem: &S, initial: usize, ops: Vec<SemOp>) {
    let mut total = initial;
    let mut held: Vec<Permit<'_>> = Vec::new();
    let mut waiters: Vec<(usize, Spawn<Acquire<'_>>)> = Vec::new();
    let mut next_id = 0;
    for op in ops {
        let settled = waiters.iter().all(|w| !w.1.is_woken());
        match op {
            SemOp::Acquire => {
                let mut w = spawn(sem.acquire());
                match w.poll() {
                    Poll::Ready(p) => held.push(p),
                    Poll::Pending => waiters.push((next_id, w)),
                }
                next_id += 1;
            }
            SemOp::TryAcquire => match sem.try_acquire() {
                Some(p) => held.push(p),
                None => {
                    if settled {
                        assert_eq!(sem.available(), 0);
                    }
                }
            },
            SemOp::DropPermit(i) => {
                if !held.is_empty() {
                    let i = i % held.len();
                    drop(held.remove(i));
                }
            }
            SemOp::DropWaiter(i) => {
                if !waiters.is_empty() {
                    let i = i % waiters.len();
                    drop(waiters.remove(i));
                }
            }
            SemOp::Release => {
                if sem.bounded() {
                    // With no guard out, every permit is free or promised to a woken waiter,
                    // so an extra release must be refused. (With a guard out, a release by
                    // hand stands in for that guard's, which then adds nothing.)
                    if held.is_empty() {
                        assert!(!sem.release());
                    }
                } else {
                    assert!(sem.release());
                    total += 1;
                }
            }
            SemOp::RunWoken => {
                let mut completed = Vec::new();
                loop {
                    let mut progressed = false;
                    let mut i = 0;
                    while i < waiters.len() {
                        if waiters[i].1.is_woken() {
                            progressed = true;
                            if let Poll::Ready(p) = waiters[i].1.poll() {
                                completed.push(waiters.remove(i).0);
                                held.push(p);
                                continue;
                            }
                        }
                        i += 1;
                    }
                    if !progressed {
                        break;
                    }
                }
                assert_eq!(held.len() + sem.available(), total, "permits conserved");
                if !waiters.is_empty() {
                    assert_eq!(sem.available(), 0, "nobody waits while a permit is free");
                    let oldest_waiting = waiters[0].0;
                    assert!(
                        completed.iter().all(|id| *id < oldest_waiting),
                        "FIFO: no waiter overtook an older one"
                    );
                }
            }
        }
    }
    drop(waiters);
    assert_eq!(sem.registered_waiters(), 0);
    drop(held);
    assert_eq!(sem.available(), total, "every permit came back");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn semaphore_conserves_permits_in_fifo_order(initial in 0..4usize, ops in prop::collection::vec(sem_op(), 1..80)) {
        let sem = Semaphore::new(initial);
        run_semaphore(&sem, initial, ops);
    }

    #[test]
    fn bounded_semaphore_conserves_permits(initial in 0..4usize, ops in prop::collection::vec(sem_op(), 1..80)) {
        let sem = BoundedSemaphore::new(initial);
        run_semaphore(&sem, initial, ops);
    }
}
