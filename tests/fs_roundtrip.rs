//! `bucle::fs`: data round-trips through files, and errors are the operating system's.

use std::io::{ErrorKind, SeekFrom};
use std::path::PathBuf;

use futures::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// A fresh directory for one test, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("bucle-fs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn write_then_read_round_trips() {
    let tmp = TempDir::new("roundtrip");
    bucle::run(async {
        bucle::fs::create_dir_all(tmp.0.join("a/b")).await.unwrap();
        let path = tmp.0.join("a/b/data.bin");
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        bucle::fs::write(&path, &data).await.unwrap();
        assert_eq!(bucle::fs::read(&path).await.unwrap(), data);
        assert_eq!(bucle::fs::metadata(&path).await.unwrap().len(), 300_000);
        bucle::fs::write(&path, "text é").await.unwrap();
        assert_eq!(bucle::fs::read_to_string(&path).await.unwrap(), "text é");
        bucle::fs::remove_file(&path).await.unwrap();
        assert!(!path.exists());
    });
}

#[test]
fn a_file_streams_large_data_both_ways_with_seeks() {
    let tmp = TempDir::new("file");
    bucle::run(async {
        bucle::fs::create_dir_all(&tmp.0).await.unwrap();
        let path = tmp.0.join("big");
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
        let mut file = bucle::fs::File::create(&path).await.unwrap();
        for chunk in data.chunks(4096) {
            file.write_all(chunk).await.unwrap();
        }
        file.flush().await.unwrap();
        assert_eq!(file.metadata().await.unwrap().len(), 1_000_000);
        file.sync_all().await.unwrap();
        drop(file);

        let mut file = bucle::fs::File::open(&path).await.unwrap();
        let mut back = Vec::new();
        file.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, data);

        let pos = file.seek(SeekFrom::Start(500_000)).await.unwrap();
        assert_eq!(pos, 500_000);
        let mut ten = [0u8; 10];
        file.read_exact(&mut ten).await.unwrap();
        assert_eq!(&ten[..], &data[500_000..500_010]);
        let pos = file.seek(SeekFrom::Current(-20)).await.unwrap();
        assert_eq!(pos, 499_990);
        file.read_exact(&mut ten).await.unwrap();
        assert_eq!(&ten[..], &data[499_990..500_000]);
    });
}

#[test]
fn overwriting_in_place_and_resizing() {
    let tmp = TempDir::new("inplace");
    bucle::run(async {
        bucle::fs::create_dir_all(&tmp.0).await.unwrap();
        let path = tmp.0.join("f");
        bucle::fs::write(&path, "hello, world").await.unwrap();
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true);
        let mut file = bucle::fs::File::open_with(&path, &options).await.unwrap();
        file.seek(SeekFrom::Start(7)).await.unwrap();
        file.write_all(b"loop!").await.unwrap();
        file.set_len(12).await.unwrap();
        let std_file = file.into_std().await;
        assert_eq!(std_file.metadata().unwrap().len(), 12);
        assert_eq!(
            bucle::fs::read_to_string(&path).await.unwrap(),
            "hello, loop!"
        );
    });
}

#[test]
fn errors_are_the_operating_systems() {
    let tmp = TempDir::new("errors");
    bucle::run(async {
        let missing = tmp.0.join("missing");
        let err = bucle::fs::read(&missing).await.unwrap_err();
        let std_err = std::fs::read(&missing).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert_eq!(err.raw_os_error(), std_err.raw_os_error());
        assert!(err.raw_os_error().is_some());

        let err = bucle::fs::File::open(&missing).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert_eq!(
            bucle::fs::remove_file(&missing)
                .await
                .unwrap_err()
                .raw_os_error(),
            std_err.raw_os_error()
        );
        assert_eq!(
            bucle::fs::metadata(&missing).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );

        bucle::fs::write(tmp_file(&tmp), b"x").await.unwrap_err();
        bucle::fs::create_dir_all(&tmp.0).await.unwrap();
        bucle::fs::write(tmp.0.join("plain"), b"x").await.unwrap();
        // A file where a directory should be: the OS says so, and bucle passes it on.
        let err = bucle::fs::create_dir_all(tmp.0.join("plain/sub"))
            .await
            .unwrap_err();
        let std_err = std::fs::create_dir_all(tmp.0.join("plain/sub")).unwrap_err();
        assert_eq!(err.kind(), std_err.kind());
        assert_eq!(err.raw_os_error(), std_err.raw_os_error());

        let err = bucle::fs::read_to_string("/proc/self/exe").await;
        if let Err(err) = err {
            assert_eq!(err.kind(), ErrorKind::InvalidData);
        }
    });
}

fn tmp_file(tmp: &TempDir) -> PathBuf {
    // Inside a directory that does not exist yet.
    tmp.0.join("not-yet").join("file")
}

#[test]
fn rename_copy_and_canonicalize() {
    let tmp = TempDir::new("ops");
    bucle::run(async {
        bucle::fs::create_dir(&tmp.0).await.unwrap();
        let (a, b, c) = (tmp.0.join("a"), tmp.0.join("b"), tmp.0.join("c"));
        bucle::fs::write(&a, "content").await.unwrap();
        bucle::fs::rename(&a, &b).await.unwrap();
        assert_eq!(bucle::fs::copy(&b, &c).await.unwrap(), 7);
        assert_eq!(bucle::fs::read_to_string(&c).await.unwrap(), "content");
        assert!(bucle::fs::canonicalize(&c).await.unwrap().is_absolute());
        assert!(bucle::fs::remove_dir(&tmp.0).await.is_err(), "not empty");
        bucle::fs::remove_dir_all(&tmp.0).await.unwrap();
        assert!(!tmp.0.exists());
    });
}

#[test]
fn the_paused_clock_waits_for_file_io() {
    let tmp = TempDir::new("paused");
    let rt = bucle::Runtime::builder()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        bucle::fs::create_dir_all(&tmp.0).await.unwrap();
        let start = bucle::time::Instant::now();
        let _alarm = bucle::spawn(bucle::sleep(std::time::Duration::from_secs(3600)));
        let mut file = bucle::fs::File::create(tmp.0.join("f")).await.unwrap();
        file.write_all(&vec![1u8; 1 << 20]).await.unwrap();
        file.flush().await.unwrap();
        let mut back = Vec::new();
        bucle::fs::File::open(tmp.0.join("f"))
            .await
            .unwrap()
            .read_to_end(&mut back)
            .await
            .unwrap();
        assert_eq!(back.len(), 1 << 20);
        assert_eq!(
            bucle::time::Instant::now(),
            start,
            "no time passed on the paused clock"
        );
    });
}

#[test]
fn relative_seeks_count_from_what_was_read_not_from_the_read_ahead() {
    let tmp = TempDir::new("relseek");
    bucle::run(async {
        bucle::fs::create_dir_all(&tmp.0).await.unwrap();
        let path = tmp.0.join("f");
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 256) as u8).collect();
        bucle::fs::write(&path, &data).await.unwrap();
        let mut file = bucle::fs::File::open(&path).await.unwrap();
        let mut head = [0u8; 100];
        file.read_exact(&mut head).await.unwrap();
        assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 100);
        assert_eq!(file.seek(SeekFrom::Current(50)).await.unwrap(), 150);
        file.read_exact(&mut head[..1]).await.unwrap();
        assert_eq!(head[0], data[150]);
        let err = file.seek(SeekFrom::Current(-1000)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    });
}
