//! Files and directories without blocking the loop: each function runs its `std::fs`
//! counterpart on the executor and returns the same result, including the operating
//! system's own [`io::Error`].
//!
//! ```
//! # bucle::run(async {
//! let dir = std::env::temp_dir().join(format!("bucle-fs-doc-{}", std::process::id()));
//! bucle::fs::create_dir_all(&dir).await?;
//! bucle::fs::write(dir.join("greeting.txt"), "hola").await?;
//! assert_eq!(bucle::fs::read_to_string(dir.join("greeting.txt")).await?, "hola");
//! bucle::fs::remove_dir_all(&dir).await?;
//! # std::io::Result::Ok(())
//! # }).unwrap();
//! ```
//!
//! # Implementation
//!
//! The one-shot functions ([`read`], [`write`], [`metadata`]...) are
//! [`run_in_executor`](crate::run_in_executor) calls on the loop's default executor: they
//! start at the call, not at the first poll, and return an [`Offload`] future. A
//! [`File`] keeps its `std::fs::File` on the `blocking` crate's pool through
//! `blocking::Unblock`, which moves reads and writes through a buffer so that a file read
//! in small pieces costs one pool round trip per buffer, not per piece. Every function
//! must be called on a bucle loop, like `run_in_executor`; a `File` can be used anywhere.

use std::fmt;
use std::io::{self, SeekFrom};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use blocking::Unblock;
use futures::io::{AsyncRead, AsyncSeek, AsyncWrite};

use std::future::Future;

use crate::offload::track::{tracked, InFlight};
use crate::offload::Offload;
use crate::run_in_executor;

/// Reads the whole file at `path` ([`std::fs::read`] on the executor).
///
/// # Errors
///
/// The operating system's error: `NotFound`, `PermissionDenied`, ...
///
/// # Panics
///
/// If no bucle loop runs on this thread.
///
/// # Cancel safety
///
/// Dropping the future abandons the read; nothing is lost but the bytes.
///
/// ```
/// # bucle::run(async {
/// let manifest = bucle::fs::read("Cargo.toml").await.unwrap();
/// assert!(!manifest.is_empty());
/// # });
/// ```
#[track_caller]
pub fn read(path: impl AsRef<Path>) -> Offload<io::Result<Vec<u8>>> {
    let path = path.as_ref().to_owned();
    run_in_executor(move || std::fs::read(path))
}

/// Reads the whole file at `path` as UTF-8 ([`std::fs::read_to_string`] on the executor).
///
/// # Errors
///
/// The operating system's error, or `InvalidData` if the file is not UTF-8.
///
/// # Panics
///
/// If no bucle loop runs on this thread.
///
/// # Cancel safety
///
/// Dropping the future abandons the read.
///
/// ```
/// # bucle::run(async {
/// let manifest = bucle::fs::read_to_string("Cargo.toml").await.unwrap();
/// assert!(manifest.contains("[package]"));
/// # });
/// ```
#[track_caller]
pub fn read_to_string(path: impl AsRef<Path>) -> Offload<io::Result<String>> {
    let path = path.as_ref().to_owned();
    run_in_executor(move || std::fs::read_to_string(path))
}

/// Creates or truncates the file at `path` and writes `contents` ([`std::fs::write`] on the
/// executor). The bytes are copied once, to move them to the pool thread.
///
/// # Errors
///
/// The operating system's error.
///
/// # Panics
///
/// If no bucle loop runs on this thread.
///
/// # Cancel safety
///
/// Not cancel safe: dropping the future does not stop a write that has started, which
/// may complete after the drop or leave the file truncated.
///
/// ```
/// # bucle::run(async {
/// let path = std::env::temp_dir().join(format!("bucle-write-{}", std::process::id()));
/// bucle::fs::write(&path, b"bytes").await.unwrap();
/// assert_eq!(bucle::fs::read(&path).await.unwrap(), b"bytes");
/// # bucle::fs::remove_file(&path).await.unwrap();
/// # });
/// ```
#[track_caller]
pub fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> Offload<io::Result<()>> {
    let path = path.as_ref().to_owned();
    let contents = contents.as_ref().to_owned();
    run_in_executor(move || std::fs::write(path, contents))
}

macro_rules! one_shot {
    ($(#[$doc:meta])* $name:ident($($arg:ident),*) -> $out:ty) => {
        $(#[$doc])*
        ///
        /// # Errors
        ///
        /// The operating system's error, as `std::fs` returns it.
        ///
        /// # Panics
        ///
        /// If no bucle loop runs on this thread.
        ///
        /// # Cancel safety
        ///
        /// Dropping the future does not undo an operation that has started.
        #[track_caller]
        pub fn $name($($arg: impl AsRef<Path>),*) -> Offload<io::Result<$out>> {
            $(let $arg: PathBuf = $arg.as_ref().to_owned();)*
            run_in_executor(move || std::fs::$name($($arg),*))
        }
    };
}

one_shot! {
    /// Creates a directory and all its missing parents ([`std::fs::create_dir_all`] on the
    /// executor). An existing directory is not an error.
    ///
    /// ```
    /// # bucle::run(async {
    /// let dir = std::env::temp_dir().join(format!("bucle-mkdir-{}/a/b", std::process::id()));
    /// bucle::fs::create_dir_all(&dir).await.unwrap();
    /// assert!(bucle::fs::metadata(&dir).await.unwrap().is_dir());
    /// # bucle::fs::remove_dir_all(dir.parent().unwrap().parent().unwrap()).await.unwrap();
    /// # });
    /// ```
    create_dir_all(path) -> ()
}

one_shot! {
    /// Creates one directory ([`std::fs::create_dir`] on the executor).
    ///
    /// ```
    /// # bucle::run(async {
    /// let dir = std::env::temp_dir().join(format!("bucle-mkdir1-{}", std::process::id()));
    /// bucle::fs::create_dir(&dir).await.unwrap();
    /// let again = bucle::fs::create_dir(&dir).await.unwrap_err();
    /// assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
    /// # bucle::fs::remove_dir(&dir).await.unwrap();
    /// # });
    /// ```
    create_dir(path) -> ()
}

one_shot! {
    /// The metadata of `path`, following symlinks ([`std::fs::metadata`] on the executor).
    ///
    /// ```
    /// # bucle::run(async {
    /// let meta = bucle::fs::metadata("Cargo.toml").await.unwrap();
    /// assert!(meta.is_file());
    /// # });
    /// ```
    metadata(path) -> std::fs::Metadata
}

one_shot! {
    /// Removes a file ([`std::fs::remove_file`] on the executor).
    ///
    /// ```
    /// # bucle::run(async {
    /// let err = bucle::fs::remove_file("/no/such/file").await.unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// # });
    /// ```
    remove_file(path) -> ()
}

one_shot! {
    /// Removes an empty directory ([`std::fs::remove_dir`] on the executor).
    ///
    /// ```
    /// # bucle::run(async {
    /// assert!(bucle::fs::remove_dir("/no/such/dir").await.is_err());
    /// # });
    /// ```
    remove_dir(path) -> ()
}

one_shot! {
    /// Removes a directory and everything in it ([`std::fs::remove_dir_all`] on the
    /// executor).
    ///
    /// ```
    /// # bucle::run(async {
    /// let dir = std::env::temp_dir().join(format!("bucle-rmrf-{}", std::process::id()));
    /// bucle::fs::create_dir_all(dir.join("x")).await.unwrap();
    /// bucle::fs::remove_dir_all(&dir).await.unwrap();
    /// assert!(bucle::fs::metadata(&dir).await.is_err());
    /// # });
    /// ```
    remove_dir_all(path) -> ()
}

one_shot! {
    /// Renames `from` to `to`, replacing `to` if it exists ([`std::fs::rename`] on the
    /// executor).
    ///
    /// ```
    /// # bucle::run(async {
    /// let dir = std::env::temp_dir();
    /// let (a, b) = (dir.join(format!("bucle-mv-a-{}", std::process::id())), dir.join(format!("bucle-mv-b-{}", std::process::id())));
    /// bucle::fs::write(&a, "x").await.unwrap();
    /// bucle::fs::rename(&a, &b).await.unwrap();
    /// assert_eq!(bucle::fs::read_to_string(&b).await.unwrap(), "x");
    /// # bucle::fs::remove_file(&b).await.unwrap();
    /// # });
    /// ```
    rename(from, to) -> ()
}

one_shot! {
    /// Copies the contents and permissions of `from` to `to`; returns the number of bytes
    /// copied ([`std::fs::copy`] on the executor).
    ///
    /// ```
    /// # bucle::run(async {
    /// let to = std::env::temp_dir().join(format!("bucle-cp-{}", std::process::id()));
    /// let n = bucle::fs::copy("Cargo.toml", &to).await.unwrap();
    /// assert_eq!(n, bucle::fs::metadata(&to).await.unwrap().len());
    /// # bucle::fs::remove_file(&to).await.unwrap();
    /// # });
    /// ```
    copy(from, to) -> u64
}

one_shot! {
    /// The absolute, symlink-free form of `path` ([`std::fs::canonicalize`] on the executor).
    ///
    /// ```
    /// # bucle::run(async {
    /// let path = bucle::fs::canonicalize(".").await.unwrap();
    /// assert!(path.is_absolute());
    /// # });
    /// ```
    canonicalize(path) -> PathBuf
}

/// The size of the buffer between a [`File`] and its pool thread.
const FILE_BUFFER: usize = 128 * 1024;

/// An open file, read and written through `futures-io`'s [`AsyncRead`], [`AsyncWrite`] and
/// [`AsyncSeek`] (use the `futures::io::{AsyncReadExt, AsyncWriteExt, AsyncSeekExt}`
/// methods).
///
/// The `std::fs::File` lives on a pool thread; reads fetch up to 128 KiB ahead and writes are
/// buffered, so call `flush().await` (or `sync_all().await`) before relying on the data
/// being in the file. Dropping a `File` with unflushed writes still writes them, in the
/// background.
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
/// use std::io::SeekFrom;
///
/// # bucle::run(async {
/// let path = std::env::temp_dir().join(format!("bucle-file-{}", std::process::id()));
/// let mut file = bucle::fs::File::create(&path).await?;
/// file.write_all(b"hello, file").await?;
/// file.seek(SeekFrom::Start(7)).await?;
/// file.write_all(b"loop").await?;
/// file.flush().await?;
///
/// let mut text = String::new();
/// bucle::fs::File::open(&path).await?.read_to_string(&mut text).await?;
/// assert_eq!(text, "hello, loop");
/// # bucle::fs::remove_file(&path).await?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
///
/// # Seeking
///
/// Reads fetch ahead on the pool thread, so the descriptor's own position runs ahead of
/// what has been read. `File` keeps the logical position itself and turns
/// `SeekFrom::Current` into an absolute seek, so relative seeks land where the reads and
/// writes left off. (With `append` mode, a write goes to the end of the file whatever the
/// position; after one, seek with `SeekFrom::Start` or `SeekFrom::End`.)
pub struct File {
    inner: Unblock<std::fs::File>,
    in_flight: InFlight,
    /// The position reads and writes have reached, if known.
    pos: Option<u64>,
}

impl File {
    /// Opens a file for reading ([`std::fs::File::open`] on the executor).
    ///
    /// # Errors
    ///
    /// The operating system's error.
    ///
    /// # Panics
    ///
    /// If no bucle loop runs on this thread.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes the file if it was opened.
    ///
    /// ```
    /// # bucle::run(async {
    /// let err = bucle::fs::File::open("/no/such/file").await.unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// # });
    /// ```
    #[track_caller]
    pub fn open(path: impl AsRef<Path>) -> impl Future<Output = io::Result<File>> + Send {
        let path = path.as_ref().to_owned();
        let call = run_in_executor(move || std::fs::File::open(path));
        async move { Ok(File::from_std(call.await?)) }
    }

    /// Creates (or truncates) a file for writing ([`std::fs::File::create`] on the
    /// executor).
    ///
    /// # Errors
    ///
    /// The operating system's error.
    ///
    /// # Panics
    ///
    /// If no bucle loop runs on this thread.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes the file if it was created; the file stays on disk.
    ///
    /// ```
    /// # bucle::run(async {
    /// let path = std::env::temp_dir().join(format!("bucle-create-{}", std::process::id()));
    /// let file = bucle::fs::File::create(&path).await.unwrap();
    /// # drop(file);
    /// # bucle::fs::remove_file(&path).await.unwrap();
    /// # });
    /// ```
    #[track_caller]
    pub fn create(path: impl AsRef<Path>) -> impl Future<Output = io::Result<File>> + Send {
        let path = path.as_ref().to_owned();
        let call = run_in_executor(move || std::fs::File::create(path));
        async move { Ok(File::from_std(call.await?)) }
    }

    /// Opens a file with the given [`std::fs::OpenOptions`], on the executor.
    ///
    /// # Errors
    ///
    /// The operating system's error.
    ///
    /// # Panics
    ///
    /// If no bucle loop runs on this thread.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes the file if it was opened.
    ///
    /// ```
    /// # bucle::run(async {
    /// let path = std::env::temp_dir().join(format!("bucle-append-{}", std::process::id()));
    /// let mut options = std::fs::OpenOptions::new();
    /// options.append(true).create(true);
    /// let file = bucle::fs::File::open_with(&path, &options).await.unwrap();
    /// # drop(file);
    /// # bucle::fs::remove_file(&path).await.unwrap();
    /// # });
    /// ```
    #[track_caller]
    pub fn open_with(
        path: impl AsRef<Path>,
        options: &std::fs::OpenOptions,
    ) -> impl Future<Output = io::Result<File>> + Send {
        let path = path.as_ref().to_owned();
        let options = options.clone();
        let call = run_in_executor(move || options.open(path));
        async move { Ok(File::from_std(call.await?)) }
    }

    /// Wraps an open `std::fs::File`, reading its current position (an `lseek` that never
    /// waits on the disk).
    ///
    /// ```
    /// let file = bucle::fs::File::from_std(std::fs::File::open("Cargo.toml").unwrap());
    /// # drop(file);
    /// ```
    pub fn from_std(mut file: std::fs::File) -> File {
        use std::io::Seek;
        let pos = file.stream_position().ok();
        File {
            inner: Unblock::with_capacity(FILE_BUFFER, file),
            in_flight: InFlight::default(),
            pos,
        }
    }

    /// Moves the logical position after `n` bytes were read or written.
    fn advance<T>(&mut self, poll: &Poll<io::Result<T>>, n: impl FnOnce(&T) -> usize) {
        if let Poll::Ready(Ok(done)) = poll {
            self.pos = self.pos.and_then(|p| p.checked_add(n(done) as u64));
        }
    }

    /// The file's metadata, after pending writes are flushed.
    ///
    /// # Errors
    ///
    /// The operating system's error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses nothing.
    ///
    /// ```
    /// # bucle::run(async {
    /// let mut file = bucle::fs::File::open("Cargo.toml").await.unwrap();
    /// assert!(file.metadata().await.unwrap().len() > 0);
    /// # });
    /// ```
    pub async fn metadata(&mut self) -> io::Result<std::fs::Metadata> {
        futures::io::AsyncWriteExt::flush(self).await?;
        tracked(self.inner.with_mut(|file| file.metadata())).await
    }

    /// Flushes buffered writes and asks the OS to write the file's data and metadata to
    /// disk ([`std::fs::File::sync_all`]).
    ///
    /// # Errors
    ///
    /// The operating system's error, from the flush or the sync.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not stop a sync that has started.
    ///
    /// ```
    /// use futures::io::AsyncWriteExt;
    ///
    /// # bucle::run(async {
    /// let path = std::env::temp_dir().join(format!("bucle-sync-{}", std::process::id()));
    /// let mut file = bucle::fs::File::create(&path).await.unwrap();
    /// file.write_all(b"durable").await.unwrap();
    /// file.sync_all().await.unwrap();
    /// # bucle::fs::remove_file(&path).await.unwrap();
    /// # });
    /// ```
    pub async fn sync_all(&mut self) -> io::Result<()> {
        futures::io::AsyncWriteExt::flush(self).await?;
        tracked(self.inner.with_mut(|file| file.sync_all())).await
    }

    /// Truncates or extends the file to `len` bytes, after pending writes are flushed
    /// ([`std::fs::File::set_len`]).
    ///
    /// # Errors
    ///
    /// The operating system's error.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not stop a resize that has started.
    ///
    /// ```
    /// # bucle::run(async {
    /// let path = std::env::temp_dir().join(format!("bucle-len-{}", std::process::id()));
    /// let mut file = bucle::fs::File::create(&path).await.unwrap();
    /// file.set_len(10).await.unwrap();
    /// assert_eq!(bucle::fs::metadata(&path).await.unwrap().len(), 10);
    /// # bucle::fs::remove_file(&path).await.unwrap();
    /// # });
    /// ```
    pub async fn set_len(&mut self, len: u64) -> io::Result<()> {
        futures::io::AsyncWriteExt::flush(self).await?;
        tracked(self.inner.with_mut(move |file| file.set_len(len))).await
    }

    /// Flushes pending writes and gives back the `std::fs::File`.
    ///
    /// # Cancel safety
    ///
    /// Consumes the `File`: dropping the future drops the file, whose pending writes
    /// still complete in the background.
    ///
    /// ```
    /// # bucle::run(async {
    /// let file = bucle::fs::File::open("Cargo.toml").await.unwrap();
    /// let std_file: std::fs::File = file.into_std().await;
    /// # drop(std_file);
    /// # });
    /// ```
    pub async fn into_std(self) -> std::fs::File {
        let File {
            inner, in_flight, ..
        } = self;
        drop(in_flight);
        tracked(inner.into_inner()).await
    }
}

impl AsyncRead for File {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        this.advance(&poll, |n| *n);
        this.in_flight.track(poll)
    }
}

impl AsyncWrite for File {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.advance(&poll, |n| *n);
        this.in_flight.track(poll)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_flush(cx);
        this.in_flight.track(poll)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_close(cx);
        this.in_flight.track(poll)
    }
}

impl AsyncSeek for File {
    fn poll_seek(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = &mut *self;
        // The descriptor's position includes bytes fetched ahead but not yet read; a
        // relative seek must count from the logical position instead.
        let target = match (pos, this.pos) {
            (SeekFrom::Current(delta), Some(at)) => match at.checked_add_signed(delta) {
                Some(to) => SeekFrom::Start(to),
                None => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "invalid seek to a negative or overflowing position",
                    )))
                }
            },
            (pos, _) => pos,
        };
        let poll = Pin::new(&mut this.inner).poll_seek(cx, target);
        if let Poll::Ready(Ok(at)) = poll {
            this.pos = Some(at);
        }
        this.in_flight.track(poll)
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File").finish_non_exhaustive()
    }
}
