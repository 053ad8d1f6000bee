//! A desktop's disk fills up during a download (a real tmpfs, too small for
//! what comes down; the test mounts it, so it runs as root, as `make test`
//! does here): the sync fails with `disk_full`, nothing of the page being
//! applied is kept, the database stays intact, and once there is room again
//! the next sync resumes where it stopped and ends whole.

mod common;

use ggzy_core::error::ErrorCode;
use ggzy_store::Store;
use ggzy_sync::{Client, SyncError};
use std::io::Write;
use std::path::Path;
use std::process::Command;

/// `size` of memory mounted at `dir` (or the mount resized, with `remount`).
fn mount(dir: &Path, size: &str, remount: bool) {
    let opts = if remount {
        format!("remount,size={size}")
    } else {
        format!("size={size}")
    };
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &opts, "tmpfs"])
        .arg(dir)
        .status()
        .expect("mount(8)");
    assert!(
        ok.success(),
        "this test fills a small tmpfs of its own and must run as root (make test runs as root here)"
    );
}

/// Unmounts the tmpfs however the test ends.
struct Mounted<'a>(&'a Path);

impl Drop for Mounted<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.0).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_during_a_download_keeps_nothing_half_and_the_next_sync_resumes() {
    let (_pg, pool, base) = common::server(64 << 20).await;
    // A desktop with 12,000 projects registered goes up.
    let dir = tempfile::tempdir().unwrap();
    let source = Store::open(&dir.path().join("source.db")).await.unwrap();
    let mut lines = Vec::new();
    for p in 0..12_000 {
        writeln!(
            lines,
            r#"{{"id":"f-{p:05}","type":"project.registered","at":"2026-03-02T09:00:00+08:00","project":"F-{p:05}","name":"第{p}号道路改造工程施工招标","tenderer":{{"id":"T{p}","name":"某某区交通运输局","phone":"13800000001","email":"jt@example.gov.cn"}},"agency":{{"id":"A{p}","name":"某某招标代理有限公司","phone":"13900000002"}}}}"#
        )
        .unwrap();
    }
    source
        .import(std::io::Cursor::new(lines), "test", |_| {})
        .await
        .unwrap();
    let token = ggzy_server::tokens::add_device(&pool, "source")
        .await
        .unwrap();
    Client::new(&base, &token).upload(&source).await.unwrap();

    // Another desktop, on a disk with room for a part of it.
    let disk = dir.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    mount(&disk, "12m", false);
    let _mounted = Mounted(&disk);
    let desktop = Store::open(&disk.join("ggzy.db")).await.unwrap();
    let client = Client::new(
        &base,
        &ggzy_server::tokens::add_device(&pool, "desk")
            .await
            .unwrap(),
    );
    let err = client.download(&desktop).await.unwrap_err();
    let SyncError::Store(e) = &err else {
        panic!("{err}")
    };
    assert_eq!(e.code(), ErrorCode::DiskFull, "{err}");
    assert!(err.to_string().contains("磁盘已满"), "{err}");

    // What is here is whole pages: every event with its record, the
    // cursor at the last page kept, the chain verifying.
    let cursor = desktop.downloaded().await.unwrap();
    assert!(
        cursor > 0 && cursor % 5_000 == 0,
        "cursor {cursor}: whole pages only"
    );
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(desktop.pool())
        .await
        .unwrap();
    assert_eq!(
        events, cursor,
        "one event a record, nothing of a page half-kept"
    );
    let v = desktop.verify_audit(|_, _| {}).await.unwrap();
    assert_eq!(v.broken, None);

    // Room again: the next sync resumes where it stopped and ends whole.
    mount(&disk, "256m", true);
    let got = client.download(&desktop).await.unwrap();
    assert_eq!(got.records as i64 + cursor, 12_000);
    assert_eq!(desktop.downloaded().await.unwrap(), 12_000);
    let v = desktop.verify_audit(|_, _| {}).await.unwrap();
    assert_eq!((v.broken, v.events), (None, 12_000));
    drop(desktop);
}
