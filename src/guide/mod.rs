//! The tutorials, one page each. Every code block in them runs as a doctest, so a tutorial
//! that drifts from the code fails `cargo test`.

#[doc = include_str!("../../docs/01-first-loop.md")]
pub mod ch01_first_loop {}

#[doc = include_str!("../../docs/02-queues.md")]
pub mod ch02_queues {}

#[doc = include_str!("../../docs/03-sync.md")]
pub mod ch03_sync {}

#[doc = include_str!("../../docs/04-offload.md")]
pub mod ch04_offload {}

#[doc = include_str!("../../docs/05-detector.md")]
pub mod ch05_detector {}

#[doc = include_str!("../../docs/06-networking.md")]
pub mod ch06_networking {}

#[doc = include_str!("../../docs/07-task-groups.md")]
pub mod ch07_task_groups {}

#[doc = include_str!("../../docs/08-testing.md")]
pub mod ch08_testing {}

#[doc = include_str!("../../docs/09-how-the-loop-works.md")]
pub mod ch09_how_the_loop_works {}

#[doc = include_str!("../../docs/10-lint.md")]
pub mod ch10_lint {}

#[doc = include_str!("../../docs/coming-from-asyncio.md")]
pub mod coming_from_asyncio {}

#[doc = include_str!("../../docs/coming-from-tokio.md")]
pub mod coming_from_tokio {}

#[doc = include_str!("../../docs/architecture.md")]
pub mod architecture {}
